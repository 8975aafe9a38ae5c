use kern::prelude::*;

/// Books a flight.
#[tool(requires_user_input, user_input_fields = "from")]
fn book(from: String, to: String) -> String {
    format!("{from} {to}")
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(book);
    let _ = book::call("a".to_owned(), "b".to_owned());
}
