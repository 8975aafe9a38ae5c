use kern::prelude::*;

/// Runs a command.
#[tool(name = "run", strict, name = "again")]
fn run(command: String) -> String {
    command
}

fn main() {}
