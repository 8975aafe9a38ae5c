use kern::prelude::*;

#[derive(Toolkit)]
struct Mem;

#[toolkit_methods]
impl Mem {
    /// Reads memory.
    unsafe fn peek(&self, address: usize) -> u8 {
        unsafe { *(address as *const u8) }
    }
}

fn main() {
    let _ = Agent::builder().tool(Mem);
}
