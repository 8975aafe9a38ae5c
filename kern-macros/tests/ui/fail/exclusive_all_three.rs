use kern::prelude::*;

/// Runs a command.
#[tool(requires_user_input, external_execution, requires_confirmation)]
fn run(command: String) -> String {
    command
}

fn main() {}
