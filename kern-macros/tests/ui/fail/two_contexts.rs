use kern::prelude::*;

/// Greets.
#[tool]
fn greet(name: String, a: ToolContext, b: &ToolContext) -> String {
    let _ = (a, b);
    name
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(greet);
    let _ = greet::call("ada".to_owned(), ToolContext::default(), &ToolContext::default());
}
