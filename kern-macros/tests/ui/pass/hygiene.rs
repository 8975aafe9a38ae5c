//! Tools named like the generated code's own variables still compile (a tool is a unit struct,
//! which a binding of the same name would otherwise match as a pattern).
#![allow(non_camel_case_types)]

use kern::prelude::*;

/// a
#[tool]
fn args(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn definition(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn strict(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn out(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn p(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn generator(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn deserializer(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn method(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn params(a: u8) -> u8 {
    a
}
/// a
#[tool]
fn ctx(a: u8) -> u8 {
    a
}

#[derive(Toolkit)]
#[toolkit(requires_user_input = [ask])]
struct Kit;

#[toolkit_methods]
impl Kit {
    /// Asks.
    fn ask(&self, q: String) -> String {
        q
    }
}

fn main() {
    let _ = (args, definition, strict, out, p, generator, deserializer, method, params, ctx);
    assert_eq!(strict.definition().name, "strict");
}
