use kern::prelude::*;

/// Greets.
#[tool]
fn greet(name: &'static str) -> String {
    format!("hello {name}")
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(greet);
    let _ = greet::call("ada");
}
