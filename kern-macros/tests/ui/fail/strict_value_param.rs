use kern::prelude::*;

/// Stores any JSON.
#[tool(strict)]
fn store(value: Vec<serde_json::Value>) -> usize {
    value.len()
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(store);
    let _ = store::call(vec![]);
}
