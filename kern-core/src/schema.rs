//! JSON schemas of tool arguments, as the providers want them.
//!
//! `#[tool]` and `#[derive(Toolkit)]` call [`parameters_for`] once per tool (the result is kept in
//! a `static`); hand-written tools may call it too.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The `format` values OpenAI's strict function calling accepts; others are dropped in strict
/// mode (schemars emits e.g. `"format": "uint32"`, which strict mode refuses).
const STRICT_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The JSON schema of the arguments type `T`, as a tool's `parameters`.
///
/// A draft 2020-12 schema of what `T` deserializes from, without `$schema`, `title` and the
/// root `description` (the tool has its own). With `strict`, the schema is rewritten into the
/// form OpenAI's strict function calling accepts (see [`make_strict`]), and subschemas are
/// inlined where they are not recursive.
pub fn parameters_for<T: JsonSchema>(strict: bool) -> Value {
    let settings = SchemaSettings::draft2020_12().for_deserialize().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = strict;
    });
    let mut value = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Value::Object(root) = &mut value {
        root.remove("$schema");
        root.remove("title");
        root.remove("description");
        // An args struct without fields: still an object schema with (no) properties.
        if root.get("type").and_then(Value::as_str) == Some("object")
            && !root.contains_key("properties")
        {
            root.insert("properties".into(), Value::Object(Map::new()));
        }
    }
    if strict {
        make_strict(&mut value);
    }
    value
}

/// Annotations strict mode does not take; dropping them changes nothing a model may send.
const ANNOTATIONS: &[&str] = &[
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "$schema",
    "$id",
    "contentEncoding",
    "contentMediaType",
];

/// Rewrites a schema, in place, into the form OpenAI's strict function calling accepts, only in
/// ways that keep every value the rewritten schema allows decodable:
///
/// - every object schema with `properties` lists all of them in `required` and gets
///   `"additionalProperties": false`; a property that was optional keeps its schema (one whose
///   type takes `null`, as `Option<T>`'s does, can still be `null`; one that was optional by
///   `#[serde(default)]` must now be sent, since `null` would not decode);
/// - `oneOf` becomes `anyOf`; a `$ref` keeps no sibling keywords;
/// - `format` values strict mode refuses are dropped, and so are annotations (`default`,
///   `examples`, …) and `uniqueItems` (a set decodes an array with repeated items);
/// - `minLength`/`maxLength` (a `char` is a string of length 1) become a `pattern`.
///
/// What strict mode cannot express is left in place and reported by [`strict_violations`]:
/// maps (`additionalProperties` with a schema), `serde_json::Value` (a schema without a type),
/// tuples (`prefixItems`), `allOf`, `not` and the like.
pub fn make_strict(schema: &mut Value) {
    let Value::Object(obj) = schema else {
        return;
    };
    if obj.contains_key("$ref") {
        obj.retain(|k, _| k == "$ref" || k == "$defs");
    }
    for key in ANNOTATIONS {
        obj.remove(*key);
    }
    obj.remove("uniqueItems");
    if let Some(Value::String(format)) = obj.get("format")
        && !STRICT_FORMATS.contains(&format.as_str())
    {
        obj.remove("format");
    }
    if (obj.contains_key("minLength") || obj.contains_key("maxLength"))
        && !obj.contains_key("pattern")
    {
        let min = obj
            .remove("minLength")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let max = obj.remove("maxLength").and_then(|v| v.as_u64());
        let count = match max {
            Some(max) if max == min => format!("{{{min}}}"),
            Some(max) => format!("{{{min},{max}}}"),
            None => format!("{{{min},}}"),
        };
        obj.insert(
            "pattern".into(),
            Value::String(format!("^[\\s\\S]{count}$")),
        );
    }
    if let Some(one_of) = obj.remove("oneOf") {
        match obj.get_mut("anyOf") {
            Some(Value::Array(any)) => {
                if let Value::Array(more) = one_of {
                    any.extend(more);
                }
            }
            _ => {
                obj.insert("anyOf".into(), one_of);
            }
        }
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        let names: Vec<Value> = props.keys().cloned().map(Value::String).collect();
        obj.insert("required".into(), Value::Array(names));
        if matches!(
            obj.get("additionalProperties"),
            None | Some(Value::Bool(true))
        ) {
            obj.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for (key, value) in obj.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(make_strict);
                }
            }
            "items" | "additionalProperties" | "not" | "contains" => make_strict(value),
            "anyOf" | "allOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(make_strict);
                }
            }
            _ => {}
        }
    }
}

/// The keywords a strict schema may use.
const STRICT_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "const",
    "description",
    "title",
    "$ref",
    "$defs",
    "definitions",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// What keeps a schema (after [`make_strict`]) from being one OpenAI's strict function calling
/// accepts: one sentence per problem, naming where it is (`` `properties.counts` ``). Empty
/// when the schema is fine. `Agent::build` refuses a strict tool whose schema has any.
pub fn strict_violations(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        out.push("the parameters are not an object schema".to_owned());
    }
    check_strict(schema, "", &mut out);
    out
}

/// Whether Anthropic's strict tool use takes this (strict) schema: what OpenAI's strict mode
/// takes ([`strict_violations`] is empty), without the constraints Anthropic's does not support
/// (numeric bounds, `multipleOf`, string lengths, `maxItems`, `minItems` above 1) and without
/// recursion. The Anthropic provider sends a strict tool with `"strict": true` only then (a
/// `u8` argument has bounds); otherwise the tool goes without, and arguments out of range come
/// back to the model as tool errors.
pub fn anthropic_strict_accepts(schema: &Value) -> bool {
    fn constrained(schema: &Value) -> bool {
        match schema {
            Value::Object(obj) => obj.iter().any(|(k, v)| match k.as_str() {
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf"
                | "minLength" | "maxLength" | "maxItems" => true,
                "minItems" => v.as_u64().is_none_or(|n| n > 1),
                "$ref" => v.as_str() == Some("#"),
                "enum" | "const" => false,
                _ => constrained(v),
            }),
            Value::Array(items) => items.iter().any(constrained),
            _ => false,
        }
    }
    fn refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
        match schema {
            Value::Object(obj) => {
                if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
                    out.push(r.trim_start_matches("#/$defs/"));
                }
                obj.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    /// Whether definition `name` reaches itself through `$ref`s.
    fn recursive(defs: &Map<String, Value>, name: &str) -> bool {
        let mut stack = vec![name];
        let mut seen: Vec<&str> = Vec::new();
        while let Some(n) = stack.pop() {
            let mut next = Vec::new();
            if let Some(d) = defs.get(n) {
                refs(d, &mut next);
            }
            for r in next {
                if r == name {
                    return true;
                }
                if !seen.contains(&r) {
                    seen.push(r);
                    stack.push(r);
                }
            }
        }
        false
    }
    if !strict_violations(schema).is_empty() || constrained(schema) {
        return false;
    }
    match schema.get("$defs") {
        Some(Value::Object(defs)) => !defs.keys().any(|name| recursive(defs, name)),
        _ => true,
    }
}

fn check_strict(schema: &Value, at: &str, out: &mut Vec<String>) {
    let place = if at.is_empty() {
        "the parameters".to_owned()
    } else {
        format!("`{at}`")
    };
    let child = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    let any_value =
        || format!("{place} accepts any value (a `serde_json::Value`?): strict mode needs a type");
    let Value::Object(obj) = schema else {
        out.push(any_value());
        return;
    };
    if !["type", "anyOf", "$ref", "enum", "const"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        out.push(any_value());
    }
    for key in obj.keys() {
        if key == "prefixItems" {
            out.push(format!(
                "{place} is a tuple (`prefixItems`), which strict mode cannot express: use a struct"
            ));
        } else if !STRICT_KEYWORDS.contains(&key.as_str()) {
            out.push(format!(
                "{place} uses `{key}`, which strict mode does not support"
            ));
        }
    }
    match obj.get("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(_) if !obj.contains_key("properties") => out.push(format!(
            "{place} is a map (`additionalProperties`), which strict mode cannot express: use a struct or a list of pairs"
        )),
        Some(_) => out.push(format!(
            "{place} takes additional properties, which strict mode cannot express"
        )),
    }
    let is_object = match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if is_object && !obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
        out.push(format!(
            "{place} is an object without properties, which strict mode cannot express"
        ));
    }
    for (key, value) in obj {
        match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                if let Value::Object(children) = value {
                    for (name, c) in children {
                        check_strict(c, &child(&format!("{key}.{name}")), out);
                    }
                }
            }
            "items" => check_strict(value, &child("items"), out),
            "anyOf" => {
                if let Value::Array(children) = value {
                    for (i, c) in children.iter().enumerate() {
                        check_strict(c, &child(&format!("{key}.{i}")), out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_properties_become_required_and_keep_their_schema() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "integer", "format": "uint32", "minimum": 0, "default": 3},
                "c": {"$ref": "#/$defs/C", "description": "see C"},
                "d": {"type": "string", "enum": ["x", "y"]},
                "e": {"anyOf": [{"type": "string"}, {"type": "null"}]}
            },
            "required": ["a"]
        });
        make_strict(&mut s);
        // `b` was optional by `#[serde(default)]`: it must now be sent, not `null` (which a
        // `u32` does not decode from); `e` (an `Option`) still takes `null`.
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "string"},
                    "b": {"type": "integer", "minimum": 0},
                    "c": {"$ref": "#/$defs/C"},
                    "d": {"type": "string", "enum": ["x", "y"]},
                    "e": {"anyOf": [{"type": "string"}, {"type": "null"}]}
                },
                "required": ["a", "b", "c", "d", "e"],
                "additionalProperties": false
            })
        );
        assert!(strict_violations(&s).is_empty());
    }

    #[test]
    fn sets_and_chars_are_rewritten() {
        let mut s = json!({"type": "object", "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "initial": {"type": "string", "minLength": 1, "maxLength": 1},
            "short": {"type": "string", "maxLength": 8}
        }});
        make_strict(&mut s);
        assert!(s["properties"]["tags"].get("uniqueItems").is_none());
        assert_eq!(s["properties"]["initial"]["pattern"], "^[\\s\\S]{1}$");
        assert!(s["properties"]["initial"].get("minLength").is_none());
        assert_eq!(s["properties"]["short"]["pattern"], "^[\\s\\S]{0,8}$");
        assert!(strict_violations(&s).is_empty());
    }

    #[test]
    fn what_strict_mode_cannot_express_is_reported() {
        let mut s = json!({"type": "object", "properties": {
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "any": true,
            "maybe": {},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}
        }});
        make_strict(&mut s);
        let v = strict_violations(&s);
        assert_eq!(v.len(), 4, "{v:?}");
        assert!(v[0].contains("`properties.any` accepts any value"), "{v:?}");
        assert!(v[1].contains("`properties.counts` is a map"), "{v:?}");
        assert!(
            v[2].contains("`properties.maybe` accepts any value"),
            "{v:?}"
        );
        assert!(v[3].contains("`properties.pair` is a tuple"), "{v:?}");
    }

    #[test]
    fn nested_objects_one_of_and_formats() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "items": {
                    "type": "object", "properties": {"x": {"type": "number", "format": "double"}},
                    "required": ["x"]
                }},
                "choice": {"oneOf": [{"type": "string", "const": "a"}, {"type": "object", "properties": {"b": {"type": "string"}}, "required": []}]}
            },
            "required": ["when", "list", "choice"]
        });
        make_strict(&mut s);
        assert_eq!(s["properties"]["when"]["format"], "date-time");
        assert_eq!(
            s["properties"]["list"]["items"]["additionalProperties"],
            false
        );
        assert!(
            s["properties"]["list"]["items"]["properties"]["x"]
                .get("format")
                .is_none()
        );
        let any = s["properties"]["choice"]["anyOf"].as_array().unwrap();
        assert_eq!(any.len(), 2);
        assert!(s["properties"]["choice"].get("oneOf").is_none());
        assert_eq!(any[1]["required"], json!(["b"]));
        // Optional by `#[serde(default)]`, not by `Option`: required, and not nullable.
        assert_eq!(any[1]["properties"]["b"]["type"], json!("string"));
    }

    #[test]
    fn maps_keep_their_value_schema() {
        let mut s = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        make_strict(&mut s);
        assert_eq!(
            s,
            json!({"type": "object", "additionalProperties": {"type": "integer"}})
        );
        assert_eq!(strict_violations(&s).len(), 1);
    }

    #[test]
    fn anthropic_strict_takes_no_bounds_and_no_recursion() {
        let plain = json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^[\\s\\S]{1}$"}, "b": {"type": "array", "items": {"type": "boolean"}, "minItems": 1}}, "required": ["a", "b"], "additionalProperties": false});
        assert!(anthropic_strict_accepts(&plain));
        let bounded = json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"], "additionalProperties": false});
        assert!(strict_violations(&bounded).is_empty());
        assert!(!anthropic_strict_accepts(&bounded));
        let recursive = json!({"type": "object", "properties": {"t": {"$ref": "#/$defs/T"}}, "required": ["t"], "additionalProperties": false,
            "$defs": {"T": {"type": "object", "properties": {"c": {"type": "array", "items": {"$ref": "#/$defs/T"}}}, "required": ["c"], "additionalProperties": false}}});
        assert!(strict_violations(&recursive).is_empty());
        assert!(!anthropic_strict_accepts(&recursive));
        let map = json!({"type": "object", "additionalProperties": {"type": "string"}});
        assert!(!anthropic_strict_accepts(&map));
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    /// Root docs are not sent.
    struct Args {
        /// A name.
        name: String,
        count: Option<u8>,
    }

    #[test]
    fn parameters_drop_root_metadata() {
        let s = parameters_for::<Args>(false);
        assert!(s.get("$schema").is_none());
        assert!(s.get("title").is_none());
        assert!(s.get("description").is_none());
        assert_eq!(s["properties"]["name"]["description"], "A name.");
        assert_eq!(s["required"], json!(["name"]));
        let strict = parameters_for::<Args>(true);
        // serde_json without `preserve_order` keeps keys sorted.
        assert_eq!(strict["required"], json!(["count", "name"]));
        assert_eq!(strict["additionalProperties"], false);
        assert_eq!(
            strict["properties"]["count"]["type"],
            json!(["integer", "null"])
        );
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Empty {}

    #[test]
    fn empty_args_are_an_object_with_no_properties() {
        let s = parameters_for::<Empty>(false);
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"], json!({}));
        let s = parameters_for::<Empty>(true);
        assert_eq!(s["required"], json!([]));
        assert_eq!(s["additionalProperties"], false);
    }
}
