//! A crate depending only on kern derives `Deserialize` and `JsonSchema` for its argument types
//! through kern's re-exports.
use kern::prelude::*;

/// A point.
#[derive(kern::serde::Deserialize, kern::schemars::JsonSchema)]
#[serde(crate = "kern::serde")]
#[schemars(crate = "kern::schemars")]
struct Point {
    x: f64,
    y: f64,
}

/// The distance to the origin.
#[tool]
fn norm(p: Point) -> f64 {
    (p.x * p.x + p.y * p.y).sqrt()
}

fn main() {
    assert_eq!(norm::call(Point { x: 3.0, y: 4.0 }), 5.0);
    let point: Point = kern::serde_json::from_str(r#"{"x": 1, "y": 2}"#).unwrap();
    assert_eq!(point.y, 2.0);
    assert_eq!(norm.definition().parameters["required"][0], "p");
}
