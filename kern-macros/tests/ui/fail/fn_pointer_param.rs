use kern::prelude::*;

/// Applies.
#[tool]
fn apply(f: fn(i32) -> i32, x: i32) -> i32 {
    f(x)
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(apply);
    let _ = apply::call(|x| x, 1);
}
