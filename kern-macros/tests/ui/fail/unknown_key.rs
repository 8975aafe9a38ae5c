use kern::prelude::*;

/// Runs a command.
#[tool(extrenal_execution)]
fn run(command: String) -> String {
    command
}

// The tool is still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(run);
    let _ = run::call("ls".to_owned());
}
