use kern::prelude::*;

#[derive(Toolkit)]
enum Shell {
    Local,
}

fn main() {}
