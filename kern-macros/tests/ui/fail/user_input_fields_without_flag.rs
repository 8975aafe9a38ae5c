use kern::prelude::*;

/// Sends mail.
#[tool(user_input_fields = [to])]
fn send(to: String) -> String {
    to
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Agent::builder().tool(send);
    let _ = send::call("ada".to_owned());
}
