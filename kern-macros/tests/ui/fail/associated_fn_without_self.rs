use kern::prelude::*;

struct Clock;

impl Clock {
    /// The current hour.
    #[tool]
    fn hour() -> u8 {
        12
    }
}

mod tools {
    use kern::prelude::*;

    /// An indented free function is a tool as usual.
    #[tool]
    pub fn minute() -> u8 {
        30
    }
}

// The function is kept as it was: using it adds no error.
fn main() {
    let _ = Clock::hour();
    let _ = Agent::builder().tool(tools::minute);
}
