use kern::prelude::*;

/// Sends mail.
#[tool(requires_user_input, user_input_fields = "to")]
fn send(to: String) -> String {
    to
}

fn main() {}
