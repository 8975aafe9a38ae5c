use kern::prelude::*;

/// Runs.
#[tool(strict = "yes")]
fn run(command: String) -> String {
    command
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(run);
    let _ = run::call("ls".to_owned());
}
