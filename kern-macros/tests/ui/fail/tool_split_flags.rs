use kern::prelude::*;

/// Runs.
#[tool(external_execution)]
#[kern::tool(strict)]
fn run(command: String) -> String {
    command
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(run);
    let _ = run::call("ls".to_owned());
}
