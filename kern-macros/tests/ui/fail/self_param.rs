use kern::prelude::*;

struct Shell;

impl Shell {
    /// Runs a command.
    #[tool]
    fn run(&self, command: String) -> String {
        command
    }
}

// The tool (or, for a signature the macro cannot expand, the function as written) is
// still emitted: using it adds no error.
fn main() {
    let _ = Shell.run("ls".to_owned());
}
