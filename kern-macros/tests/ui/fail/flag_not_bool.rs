use kern::prelude::*;

/// Runs.
#[tool(strict = "yes")]
fn run(command: String) -> String {
    command
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Agent::builder().tool(run);
    let _ = run::call("ls".to_owned());
}
