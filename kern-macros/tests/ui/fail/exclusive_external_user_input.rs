use kern::prelude::*;

/// Runs a command.
#[tool(external_execution = true, requires_user_input = true)]
fn run(command: String) -> String {
    command
}

fn main() {}
