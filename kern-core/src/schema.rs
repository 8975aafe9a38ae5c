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

/// Rewrites a schema, in place, into the form OpenAI's strict function calling accepts:
/// every object schema with `properties` lists all of them in `required` and gets
/// `"additionalProperties": false`, and the properties that were optional become nullable;
/// `oneOf` becomes `anyOf`; `format` values strict mode refuses are dropped; a `$ref` keeps no
/// sibling keywords.
///
/// Maps (objects whose `additionalProperties` is a schema) are left as they are: strict mode
/// cannot express them, and OpenAI will refuse such a tool.
pub fn make_strict(schema: &mut Value) {
    let Value::Object(obj) = schema else {
        return;
    };
    if obj.contains_key("$ref") {
        obj.retain(|k, _| k == "$ref" || k == "$defs");
    }
    if let Some(Value::String(format)) = obj.get("format")
        && !STRICT_FORMATS.contains(&format.as_str())
    {
        obj.remove("format");
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
        let required: Vec<String> = match obj.get("required") {
            Some(Value::Array(r)) => r
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let names: Vec<String> = props.keys().cloned().collect();
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for (name, prop) in props.iter_mut() {
                if !required.contains(name) {
                    make_nullable(prop);
                }
            }
        }
        obj.insert(
            "required".into(),
            Value::Array(names.into_iter().map(Value::String).collect()),
        );
        obj.insert("additionalProperties".into(), Value::Bool(false));
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

/// Makes a (sub)schema also accept `null`.
fn make_nullable(schema: &mut Value) {
    let null = Value::String("null".into());
    if let Value::Object(obj) = schema {
        if obj.contains_key("$ref") || obj.contains_key("allOf") || obj.contains_key("oneOf") {
            let inner = std::mem::take(obj);
            obj.insert(
                "anyOf".into(),
                Value::Array(vec![
                    Value::Object(inner),
                    serde_json::json!({ "type": "null" }),
                ]),
            );
            return;
        }
        if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
            if !any.iter().any(accepts_only_null) {
                any.push(serde_json::json!({ "type": "null" }));
            }
            return;
        }
        match obj.get_mut("type") {
            Some(Value::String(t)) if t != "null" => {
                let t = std::mem::take(t);
                obj.insert(
                    "type".into(),
                    Value::Array(vec![Value::String(t), null.clone()]),
                );
            }
            Some(Value::Array(types)) if !types.contains(&null) => types.push(null.clone()),
            _ => {}
        }
        if let Some(Value::Array(values)) = obj.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
}

fn accepts_only_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_property_becomes_required_and_nullable() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "integer", "format": "uint32", "minimum": 0},
                "c": {"$ref": "#/$defs/C", "description": "see C"},
                "d": {"type": "string", "enum": ["x", "y"]},
                "e": {"anyOf": [{"type": "string"}, {"type": "null"}]}
            },
            "required": ["a"]
        });
        make_strict(&mut s);
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "string"},
                    "b": {"type": ["integer", "null"], "minimum": 0},
                    "c": {"anyOf": [{"$ref": "#/$defs/C"}, {"type": "null"}]},
                    "d": {"type": ["string", "null"], "enum": ["x", "y", null]},
                    "e": {"anyOf": [{"type": "string"}, {"type": "null"}]}
                },
                "required": ["a", "b", "c", "d", "e"],
                "additionalProperties": false
            })
        );
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
        assert_eq!(any[1]["properties"]["b"]["type"], json!(["string", "null"]));
    }

    #[test]
    fn maps_keep_their_value_schema() {
        let mut s = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        make_strict(&mut s);
        assert_eq!(
            s,
            json!({"type": "object", "additionalProperties": {"type": "integer"}})
        );
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
