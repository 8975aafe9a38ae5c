use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Shows a value.
    fn show(&self, value: &dyn std::fmt::Display) -> String {
        value.to_string()
    }

    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
