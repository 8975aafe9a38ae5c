use kern::prelude::*;

/// Runs a command.
#[tool(requires_confirmation, requires_user_input, user_input_fields = [command])]
fn run(command: String) -> String {
    command
}

fn main() {}
