use kern::prelude::*;

/// Adds.
#[tool]
fn add(#[arg(description = 1)] a: i32, b: i32) -> i32 {
    a + b
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(add);
    let _ = add::call(1, 2);
}
