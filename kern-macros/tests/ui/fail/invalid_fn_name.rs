use kern::prelude::*;

/// Says hello.
#[tool]
fn grüß(name: String) -> String {
    name
}

fn main() {}
