use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    #[toolkit(name = ls)]
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
