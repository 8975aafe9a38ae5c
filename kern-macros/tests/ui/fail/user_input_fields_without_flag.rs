use kern::prelude::*;

/// Sends mail.
#[tool(user_input_fields = [to])]
fn send(to: String) -> String {
    to
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(send);
    let _ = send::call("ada".to_owned());
}
