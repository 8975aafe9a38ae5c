use kern::prelude::*;

struct Clock;

impl Clock {
    /// The current hour.
    #[tool]
    fn hour() -> Self {
        Clock
    }
}

// The function is kept as it was: using it adds no error.
fn main() {
    let _ = Clock::hour();
}
