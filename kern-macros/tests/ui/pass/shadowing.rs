//! A tool's name may also be the name of its own parameter, of a local in its body, or of
//! another tool's parameter: generated code binds the parameters under names of its own.
#![allow(non_camel_case_types)]

use kern::prelude::*;

/// Today's date.
///
/// # Arguments
/// * `date` - A date to echo
#[tool]
fn date(date: String) -> String {
    date
}

/// The time of a date.
#[tool]
fn time(date: String, mut time: u8) -> String {
    time += 1;
    format!("{date} {time}")
}

/// A local named like the tool.
#[tool]
async fn today() -> String {
    let today = "monday";
    today.to_owned()
}

fn main() {
    assert_eq!(date::call("d".to_owned()), "d");
    assert_eq!(time::call("d".to_owned(), 1), "d 2");
    let _ = Agent::builder().tool(date).tool(time).tool(today);
    assert_eq!(date.definition().parameters["required"][0], "date");
}
