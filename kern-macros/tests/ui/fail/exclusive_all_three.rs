use kern::prelude::*;

/// Runs a command.
#[tool(requires_user_input, external_execution, requires_confirmation)]
fn run(command: String) -> String {
    command
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Agent::builder().tool(run);
    let _ = run::call("ls".to_owned());
}
