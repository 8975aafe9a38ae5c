use kern::prelude::*;

/// Says hello.
#[tool]
fn grüß(name: String) -> String {
    name
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(grüß);
    let _ = grüß::call("ada".to_owned());
}
