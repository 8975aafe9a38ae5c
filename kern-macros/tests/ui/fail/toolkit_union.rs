use kern::prelude::*;

#[derive(Toolkit)]
union Shell {
    a: u32,
}

fn main() {}
