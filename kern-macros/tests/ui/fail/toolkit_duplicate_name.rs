use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        directory
    }

    /// Lists a directory, long form.
    #[toolkit(name = "list_dir")]
    fn list_dir_long(&self, directory: String) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
