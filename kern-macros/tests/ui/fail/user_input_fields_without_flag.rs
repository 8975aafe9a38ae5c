use kern::prelude::*;

/// Sends mail.
#[tool(user_input_fields = [to])]
fn send(to: String) -> String {
    to
}

fn main() {}
