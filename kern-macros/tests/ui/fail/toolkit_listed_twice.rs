use kern::prelude::*;

#[derive(Toolkit)]
#[toolkit(external = [list_dir, list_dir])]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {}
