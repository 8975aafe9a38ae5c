use kern::prelude::*;

struct Shell;

impl Shell {
    /// Runs a command.
    #[tool]
    fn run(&self, command: String) -> String {
        command
    }
}

// The tool is still emitted (a stand-in when the signature cannot be expanded):
// using it adds no error.
fn main() {
    let _ = Shell.run("ls".to_owned());
}
