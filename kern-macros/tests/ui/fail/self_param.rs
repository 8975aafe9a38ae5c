use kern::prelude::*;

struct Shell;

impl Shell {
    /// Runs a command.
    #[tool]
    fn run(&self, command: String) -> String {
        command
    }
}

fn main() {}
