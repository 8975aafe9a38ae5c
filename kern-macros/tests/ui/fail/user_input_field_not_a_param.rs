use kern::prelude::*;

/// Sends mail.
#[tool(requires_user_input, user_input_fields = [to, subjet])]
fn send(to: String, subject: String) -> String {
    to + &subject
}

fn main() {}
