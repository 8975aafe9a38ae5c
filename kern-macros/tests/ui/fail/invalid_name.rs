use kern::prelude::*;

/// Runs a command.
#[tool(name = "run command")]
fn run(command: String) -> String {
    command
}

fn main() {}
