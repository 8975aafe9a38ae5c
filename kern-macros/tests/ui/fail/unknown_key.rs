use kern::prelude::*;

/// Runs a command.
#[tool(extrenal_execution)]
fn run(command: String) -> String {
    command
}

fn main() {}
