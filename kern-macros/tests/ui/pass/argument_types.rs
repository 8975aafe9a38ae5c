use std::collections::{BTreeMap, HashMap, HashSet};

use kern::prelude::*;
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Inner {
    values: Vec<f64>,
    unit: Option<Unit>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum Shape {
    Circle(f64),
    Square { side: f64 },
}

/// Every kind of argument.
#[tool]
#[allow(clippy::too_many_arguments)]
fn kinds(
    optional: Option<String>,
    unit: Unit,
    inner: Inner,
    shapes: Vec<Shape>,
    map: HashMap<String, Inner>,
    sorted: BTreeMap<String, i64>,
    set: HashSet<String>,
    tuple: (u8, String),
    boxed: Box<Inner>,
    json: serde_json::Value,
) -> usize {
    let _ = (optional, unit, inner, shapes, map, sorted, set, tuple, boxed, json);
    0
}

fn main() {
    let p = &kinds.definition().parameters;
    assert!(!p["required"].as_array().unwrap().contains(&"optional".into()));
}
