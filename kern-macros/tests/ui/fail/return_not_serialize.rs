use kern::prelude::*;

struct Opaque;

/// Returns something the model cannot read.
#[tool]
fn opaque() -> Opaque {
    Opaque
}

// The tool is still emitted: using it adds no error.
fn main() {
    let _ = Agent::builder().tool(opaque);
    let _ = opaque::call();
}
