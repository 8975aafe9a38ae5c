use kern::prelude::*;

struct NotAnError;

/// Fails with something that is not an error.
#[tool]
fn fails() -> Result<String, NotAnError> {
    Err(NotAnError)
}

fn main() {}
