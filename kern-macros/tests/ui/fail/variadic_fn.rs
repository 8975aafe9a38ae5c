use kern::prelude::*;

/// Adds.
#[tool]
fn add(a: i32, _: ...) -> i32 {
    a
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(add);
    let _ = add::call(1);
}
