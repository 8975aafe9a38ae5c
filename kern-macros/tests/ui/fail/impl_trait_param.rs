use kern::prelude::*;

/// Displays.
#[tool]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = show(5);
}
