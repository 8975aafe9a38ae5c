use std::collections::HashMap;

use kern::prelude::*;

/// Counts.
#[tool(strict)]
fn count(counts: HashMap<String, u32>, label: String) -> String {
    format!("{label} {}", counts.len())
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(count);
    let _ = count::call(HashMap::new(), "x".to_owned());
}
