use kern::prelude::*;

/// Shows.
#[tool]
fn show(value: &dyn std::fmt::Display) -> String {
    value.to_string()
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(show);
    let _ = show::call(&5);
}
