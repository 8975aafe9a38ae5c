use kern::prelude::*;

/// Echoes.
#[tool]
fn echo<T: ToString>(value: T) -> String {
    value.to_string()
}

// A stand-in tool is emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(echo);
    let _ = echo::call(5);
}
