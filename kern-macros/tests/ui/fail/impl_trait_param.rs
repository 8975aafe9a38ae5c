use kern::prelude::*;

/// Displays.
#[tool]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

// A stand-in tool is emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(show);
    let _ = show::call(5);
}
