use kern::prelude::*;

/// Sends mail.
#[tool(requires_user_input, user_input_fields = [to, subjet])]
fn send(to: String, subject: String) -> String {
    to + &subject
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Agent::builder().tool(send);
    let _ = send::call("ada".to_owned(), "hi".to_owned());
}
