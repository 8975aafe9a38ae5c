use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

fn main() {
    let mut tools = Vec::new();
    Shell.into_tools(&mut tools).unwrap();
}
