use kern::prelude::*;

/// Not a function.
#[tool]
struct Shell;

fn main() {}
