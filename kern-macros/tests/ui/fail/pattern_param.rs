use kern::prelude::*;

/// Adds.
#[tool]
fn add((a, b): (i32, i32)) -> i32 {
    a + b
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = add((1, 2));
}
