use kern::prelude::*;

#[derive(Toolkit)]
#[toolkit(strict = 1)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
