use kern::prelude::*;

/// Runs a command.
#[tool(external_execution, requires_confirmation)]
fn run(command: String) -> String {
    command
}

fn main() {}
