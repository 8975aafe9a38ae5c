use kern::prelude::*;

/// Adds.
#[tool]
fn add((a, b): (i32, i32)) -> i32 {
    a + b
}

// A stand-in tool is emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(add);
    let _ = add::call((1, 2));
}
