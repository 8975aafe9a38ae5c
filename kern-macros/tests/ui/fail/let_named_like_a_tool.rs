use kern::prelude::*;

/// Today's date.
#[tool]
fn date() -> String {
    // A local named like the tool, in its own body: compiles.
    let date = "monday";
    date.to_owned()
}

// The tool is a unit struct, so elsewhere in its module a `let` of its name is a pattern,
// which rustc reports on the binding. Rename the local, or the function
// (`#[tool(name = "date")]` keeps the name the model sees).
fn main() {
    let date = date::call();
    let _ = date;
}
