use kern::prelude::*;

/// Adds.
#[tool]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

// `add` is the tool (a value); the function is `add::call`. Calling the tool is rustc's E0618,
// whose "`add` defined here" points at the function: the fix is `add::call(1, 2)`.
fn main() {
    let _ = add(1, 2);
}
