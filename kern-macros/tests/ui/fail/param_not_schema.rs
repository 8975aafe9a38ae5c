use kern::prelude::*;

struct Opaque(u32);

/// Uses an opaque type.
#[tool]
fn take(count: u32, opaque: Opaque) -> String {
    format!("{count} {}", opaque.0)
}

fn main() {}
