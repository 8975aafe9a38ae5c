use kern::prelude::*;

#[derive(Toolkit)]
struct Shell {
    #[toolkit(skip)]
    root: String,
}

#[toolkit_methods]
impl Shell {
    /// Lists a directory.
    fn list_dir(&self, directory: String) -> String {
        format!("{}/{directory}", self.root)
    }
}

fn main() {
    let _ = Agent::builder().tool(Shell { root: String::new() });
}
