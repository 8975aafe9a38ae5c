use kern::prelude::*;

struct NotAnError;

/// Fails with something that is not an error.
#[tool]
fn fails() -> Result<String, NotAnError> {
    Err(NotAnError)
}

// The tool is still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(fails);
    let _ = fails::call();
}
