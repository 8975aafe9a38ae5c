//! `Cow<str>` parameters (deserialized owned) and a `&mut ToolContext`.
use std::borrow::Cow;

use kern::prelude::*;

/// Shouts.
#[tool]
fn shout(text: Cow<str>, suffix: Option<Cow<'_, str>>, ctx: &mut ToolContext) -> String {
    let _ = ctx;
    format!("{}{}", text.to_uppercase(), suffix.unwrap_or_default())
}

fn main() {
    assert_eq!(shout::call(Cow::Borrowed("hi"), None, &mut ToolContext::default()), "HI");
    assert_eq!(shout.definition().parameters["properties"]["text"]["type"], "string");
}
