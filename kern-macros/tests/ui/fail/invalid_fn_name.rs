use kern::prelude::*;

/// Says hello.
#[tool]
fn grüß(name: String) -> String {
    name
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Agent::builder().tool(grüß);
    let _ = grüß::call("ada".to_owned());
}
