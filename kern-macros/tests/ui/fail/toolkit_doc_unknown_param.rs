use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    ///
    /// # Arguments
    /// * `dir` - The directory
    fn list_dir(&self, directory: String) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
