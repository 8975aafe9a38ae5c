use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    fn list_dir(
        &self,
        #[arg(description = "the directory")]
        #[arg(description = "a directory")]
        directory: String,
    ) -> String {
        directory
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell);
}
