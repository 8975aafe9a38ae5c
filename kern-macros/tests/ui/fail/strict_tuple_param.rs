use kern::prelude::*;

/// Moves.
#[tool(strict)]
fn go(to: Option<(i32, i32)>) -> String {
    format!("{to:?}")
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(go);
    let _ = go::call(None);
}
