//! Strict schemas: every one the macros generate passes an independent checker of OpenAI's
//! strict rules (`strict_check`), what a strict schema allows always decodes, and a strict tool
//! whose types strict mode cannot express is refused when the agent is built, naming the
//! parameter.

mod strict_check;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use kern::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

/// A nested struct with a `#[serde(default)]` field: optional for serde, but `null` does not
/// decode into a `u32`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Window {
    width: u32,
    #[serde(default)]
    height: u32,
    title: Option<String>,
}

/// A tagged enum.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    Circle { r: f64 },
    Square { side: f64 },
}

/// A unit enum.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    High,
}

/// A recursive type.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // only decoded
pub struct Tree {
    label: String,
    children: Vec<Tree>,
}

/// Everything strict mode can express.
#[tool(strict)]
#[allow(clippy::too_many_arguments)]
fn everything(
    text: String,
    borrowed: &str,
    cow: Cow<str>,
    initial: char,
    small: u8,
    signed: i64,
    big: u64,
    ratio: f64,
    flag: bool,
    maybe: Option<u16>,
    list: Vec<String>,
    tags: HashSet<String>,
    ids: BTreeSet<u32>,
    window: Window,
    shape: Shape,
    level: Option<Level>,
    tree: Tree,
    path: std::path::PathBuf,
) -> String {
    let _ = (
        borrowed, cow, small, signed, big, ratio, flag, maybe, list, ids, shape, level, tree, path,
    );
    format!(
        "{text} {initial} {} {} {:?}",
        tags.len(),
        window.width + window.height,
        window.title
    )
}

/// A strict tool without parameters.
#[tool(strict)]
fn nothing() -> &'static str {
    "ok"
}

#[derive(Toolkit)]
#[toolkit(strict)]
struct Kit;

#[toolkit_methods]
impl Kit {
    /// Opens a window.
    fn open(&self, window: Window, at: Option<char>) -> String {
        format!("{} {at:?}", window.width)
    }
}

// The types below hide what strict mode cannot express from the macro (which refuses a map,
// a tuple or a `serde_json::Value` it sees in a strict tool's signature): aliases, as a type
// of a struct's field would; the agent refuses them when it is built.
type Counts = HashMap<String, u32>;
type Json = Value;
type Pair = (u8, String);

/// A map: strict mode cannot express it.
#[tool(strict)]
fn counts(counts: Counts) -> usize {
    counts.len()
}

/// Any JSON: strict mode needs a type.
#[tool(strict)]
fn anything(value: Json) -> String {
    value.to_string()
}

/// Maybe any JSON.
#[tool(strict)]
fn maybe_anything(value: Option<Json>) -> String {
    format!("{value:?}")
}

/// A tuple: strict mode has no `prefixItems`.
#[tool(strict)]
fn pair(pair: Pair) -> String {
    pair.1
}

fn strict_tools() -> Vec<std::sync::Arc<dyn Tool>> {
    let mut out = Vec::new();
    everything.into_tools(&mut out).unwrap();
    nothing.into_tools(&mut out).unwrap();
    Kit.into_tools(&mut out).unwrap();
    out
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("invalid schema {schema}: {e}"))
}

#[test]
fn every_strict_schema_passes_the_checker() {
    for tool in strict_tools() {
        let d = tool.definition();
        assert!(d.strict, "{}", d.name);
        let v = strict_check::violations(&d.parameters);
        assert!(v.is_empty(), "{}: {v:?}\n{}", d.name, d.parameters);
        // kern's own check agrees.
        assert!(kern::schema::strict_violations(&d.parameters).is_empty());
    }
}

#[test]
fn the_checker_catches_what_strict_mode_refuses() {
    for tool in [&counts as &dyn Tool, &anything, &maybe_anything, &pair] {
        let d = tool.definition();
        assert!(
            !strict_check::violations(&d.parameters).is_empty(),
            "{}: {}",
            d.name,
            d.parameters
        );
    }
    let v = strict_check::violations(
        &json!({"type": "object", "properties": {"a": {"type": "string"}}}),
    );
    assert_eq!(
        v,
        vec![
            "/: `required` [] is not every property [\"a\"]",
            "/: `additionalProperties` is not false"
        ]
    );
}

#[test]
fn strict_rewrites_are_sound() {
    let p = &everything.definition().parameters;
    let v = validator(p);
    let good = json!({
        "text": "t", "borrowed": "b", "cow": "c", "initial": "x", "small": 255, "signed": -3,
        "big": 7, "ratio": 0.5, "flag": true, "maybe": null, "list": ["a"],
        "tags": ["a", "a"], "ids": [2, 1, 2],
        "window": {"width": 3, "height": 4, "title": null},
        "shape": {"kind": "circle", "r": 1.0}, "level": "high",
        "tree": {"label": "root", "children": [{"label": "leaf", "children": []}]},
        "path": "/tmp"
    });
    // Repeated set items are allowed (no `uniqueItems`), and they decode.
    assert!(v.is_valid(&good), "{p}");
    let out = futures::executor::block_on(everything.entrypoint(&good)).unwrap();
    assert_eq!(out, "t x 1 7 None");

    // `#[serde(default)]` is required and not nullable: `null`, which a `u32` refuses, is not
    // allowed either; an `Option` still takes `null`.
    let mut null_default = good.clone();
    null_default["window"]["height"] = Value::Null;
    assert!(!v.is_valid(&null_default));
    assert!(futures::executor::block_on(everything.entrypoint(&null_default)).is_err());
    let mut missing = good.clone();
    missing["window"].as_object_mut().unwrap().remove("height");
    assert!(!v.is_valid(&missing));

    // A `char` is a string of one character: longer strings are refused by the schema, as by
    // the decoder.
    let mut two = good.clone();
    two["initial"] = json!("xy");
    assert!(!v.is_valid(&two));
    assert!(futures::executor::block_on(everything.entrypoint(&two)).is_err());
    let mut empty = good.clone();
    empty["initial"] = json!("");
    assert!(!v.is_valid(&empty));

    // Integer bounds are kept: what is out of range for a `u8` is refused by the schema too.
    let mut big = good;
    big["small"] = json!(256);
    assert!(!v.is_valid(&big));
}

fn build(tools: impl IntoTools) -> kern::Result<Agent> {
    Agent::builder().model(TestModel::new()).tool(tools).build()
}

#[test]
fn agent_build_refuses_strict_tools_strict_mode_cannot_express() {
    for (built, name, parameter) in [
        (build(counts), "counts", "properties.counts"),
        (build(anything), "anything", "properties.value"),
        (build(maybe_anything), "maybe_anything", "properties.value"),
        (build(pair), "pair", "properties.pair"),
    ] {
        let Err(kern::Error::Config(message)) = built else {
            panic!("{name}: a strict tool strict mode cannot express was accepted");
        };
        assert!(
            message.contains(&format!("`{name}` is strict")),
            "{message}"
        );
        assert!(message.contains(parameter), "{message}");
    }
    // The strict tools that pass the checker are accepted.
    assert!(build(everything).is_ok());
    assert!(build(Kit).is_ok());
    assert!(build(nothing).is_ok());
}
