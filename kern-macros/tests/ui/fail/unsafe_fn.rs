use kern::prelude::*;

/// Reads memory.
#[tool]
unsafe fn peek(address: usize) -> u8 {
    unsafe { *(address as *const u8) }
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(peek);
    let _ = unsafe { peek::call(0) };
}
