use kern::prelude::*;

struct Opaque;

/// Returns something the model cannot read.
#[tool]
fn opaque() -> Opaque {
    Opaque
}

fn main() {}
