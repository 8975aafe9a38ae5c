//! A checker of OpenAI's strict function-calling rules for JSON schemas, written apart from
//! kern's own rewriting (`kern::schema::make_strict`), so that the tests check the rewrite
//! against the rules and not against itself.
//!
//! The rules (OpenAI's "Structured Outputs" supported-schema list): the root is an object
//! schema, not `anyOf`; every schema is an object (no `true`/`false` schemas) with a `type`,
//! `anyOf`, `$ref`, `enum` or `const`; every object schema lists its `properties`, all of them
//! in `required`, with `"additionalProperties": false`; every array schema has `items`; only
//! the supported keywords appear (no `prefixItems`, `uniqueItems`, `minLength`, `maxLength`,
//! `allOf`, `oneOf`, `not`, `patternProperties`, `default`, …); `format` is one of the
//! supported formats; a `$ref` points into `$defs` (or the root) and has no siblings; at most
//! 10 levels of nesting.

#![allow(dead_code)]

use serde_json::Value;

const KEYWORDS: &[&str] = &[
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

const FORMATS: &[&str] = &[
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

const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Every rule the schema breaks, with where (`/properties/a/items`).
pub fn violations(root: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if root.get("type") != Some(&Value::String("object".into())) {
        out.push("/: the root is not `\"type\": \"object\"`".to_owned());
    }
    if root.get("anyOf").is_some() {
        out.push("/: the root is an `anyOf`".to_owned());
    }
    check(root, root, "", 0, &mut out);
    out
}

fn types_of(obj: &serde_json::Map<String, Value>) -> Vec<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn check(root: &Value, schema: &Value, at: &str, depth: usize, out: &mut Vec<String>) {
    let here = if at.is_empty() { "/" } else { at };
    if depth > 10 {
        out.push(format!("{here}: nested more than 10 levels"));
        return;
    }
    let Value::Object(obj) = schema else {
        out.push(format!("{here}: a boolean schema ({schema})"));
        return;
    };
    for key in obj.keys() {
        if !KEYWORDS.contains(&key.as_str()) {
            out.push(format!("{here}: unsupported keyword `{key}`"));
        }
    }
    if !["type", "anyOf", "$ref", "enum", "const"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        out.push(format!("{here}: no type"));
    }
    if let Some(t) = obj.get("type") {
        let ok = match t {
            Value::String(t) => TYPES.contains(&t.as_str()),
            Value::Array(ts) => {
                !ts.is_empty()
                    && ts
                        .iter()
                        .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
            }
            _ => false,
        };
        if !ok {
            out.push(format!("{here}: bad `type` {t}"));
        }
    }
    if let Some(r) = obj.get("$ref") {
        if obj.keys().any(|k| k != "$ref" && k != "$defs") {
            out.push(format!("{here}: `$ref` with sibling keywords"));
        }
        match r.as_str() {
            Some("#") => {}
            Some(r) if r.starts_with("#/$defs/") => {
                let name = &r["#/$defs/".len()..];
                if root.pointer(&format!("/$defs/{name}")).is_none() {
                    out.push(format!("{here}: `$ref` to a missing definition {r}"));
                }
            }
            _ => out.push(format!("{here}: `$ref` outside `$defs`: {r}")),
        }
    }
    if let Some(Value::String(f)) = obj.get("format")
        && !FORMATS.contains(&f.as_str())
    {
        out.push(format!("{here}: unsupported format `{f}`"));
    }
    let types = types_of(obj);
    if types.contains(&"object") {
        match obj.get("properties") {
            Some(Value::Object(props)) => {
                let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
                names.sort_unstable();
                let mut required: Vec<&str> = match obj.get("required") {
                    Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                required.sort_unstable();
                if names != required {
                    out.push(format!(
                        "{here}: `required` {required:?} is not every property {names:?}"
                    ));
                }
            }
            _ => out.push(format!("{here}: an object without `properties`")),
        }
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            out.push(format!("{here}: `additionalProperties` is not false"));
        }
    } else if obj.contains_key("additionalProperties")
        && obj.get("additionalProperties") != Some(&Value::Bool(false))
    {
        out.push(format!("{here}: `additionalProperties` is not false"));
    }
    if types.contains(&"array") && !obj.contains_key("items") {
        out.push(format!("{here}: an array without `items`"));
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        for (name, p) in props {
            check(root, p, &format!("{at}/properties/{name}"), depth + 1, out);
        }
    }
    if let Some(Value::Object(defs)) = obj.get("$defs") {
        for (name, d) in defs {
            check(root, d, &format!("{at}/$defs/{name}"), depth, out);
        }
    }
    if let Some(items) = obj.get("items") {
        check(root, items, &format!("{at}/items"), depth + 1, out);
    }
    if let Some(any) = obj.get("anyOf") {
        match any {
            Value::Array(any) if !any.is_empty() => {
                for (i, a) in any.iter().enumerate() {
                    check(root, a, &format!("{at}/anyOf/{i}"), depth, out);
                }
            }
            _ => out.push(format!("{here}: `anyOf` is not a non-empty list")),
        }
    }
}
