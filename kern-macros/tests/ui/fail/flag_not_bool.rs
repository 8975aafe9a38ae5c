use kern::prelude::*;

/// Runs.
#[tool(strict = "yes")]
fn run(command: String) -> String {
    command
}

fn main() {}
