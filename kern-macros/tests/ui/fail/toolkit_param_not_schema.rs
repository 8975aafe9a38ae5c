use kern::prelude::*;

#[derive(Toolkit)]
struct Shell;

struct Handle;

#[toolkit_methods]
impl Shell {
    /// Uses a handle.
    fn run(&self, handle: Handle, command: String) -> String {
        let _ = handle;
        command
    }
}

fn main() {}
