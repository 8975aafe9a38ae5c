use kern::prelude::*;

#[derive(Toolkit)]
struct Shell {
    count: u32,
}

#[toolkit_methods]
impl Shell {
    /// Counts.
    fn count(&mut self) -> u32 {
        self.count += 1;
        self.count
    }
}

fn main() {}
