use kern::prelude::*;

#[derive(Toolkit)]
#[toolkit(requires_confirmation = [new])]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// A constructor, not a tool.
    fn new() -> Self {
        Shell
    }

    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {}
