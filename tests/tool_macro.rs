//! `#[tool]` end to end: definitions, schemas (checked with a real JSON Schema validator),
//! `entrypoint`, `Tool::invoke` and the typed `call`.

mod strict_check;

use kern::prelude::*;
use kern::{ToolErrorKind, ToolResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Tools

/// Execute a shell command.
///
/// The command runs in `sh`.
///
/// # Arguments
/// * `command` - The shell command to execute
///
/// # Returns
/// The output.
#[tool(external_execution)]
pub fn execute_shell_command(command: String, ctx: ToolContext) -> Result<String, ToolError> {
    Ok(format!("ran {command} for run '{}'", ctx.run_id))
}

/// Greets someone.
///
/// Args:
///     name (str): Who to greet.
///     shout (bool, optional): Upper case.
#[tool]
async fn greet(name: &str, shout: Option<bool>) -> String {
    tokio::task::yield_now().await;
    let s = format!("hello {name}");
    if shout.unwrap_or(false) {
        s.to_uppercase()
    } else {
        s
    }
}

/// A temperature unit.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, schemars::JsonSchema, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// A place.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Place {
    /// The city.
    pub city: String,
    /// The country code, if known.
    pub country: Option<String>,
}

/// A shape (data-carrying enum).
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A circle.
    Circle {
        /// Radius.
        r: f64,
    },
    /// A rectangle.
    Rect {
        /// Width.
        w: f64,
        /// Height.
        h: f64,
    },
}

/// A limit by name.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // only decoded
pub struct Limit {
    name: String,
    max: u32,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct Report {
    places: usize,
    unit: Unit,
    total: f64,
}

/// Summarises complex arguments.
///
/// # Arguments
/// * `places` - Where
/// * `unit` - Which unit
/// * `shapes` - Some shapes
/// * `tags` - Free-form tags
/// * `limits` - Per-name limits
#[tool(
    strict,
    name = "summarise",
    description = "Summarise places and shapes."
)]
fn complex(
    places: Vec<Place>,
    unit: Unit,
    shapes: Vec<Shape>,
    tags: Option<Vec<String>>,
    #[arg(description = "Limits, overriding the docs")] limits: Vec<Limit>,
) -> Report {
    let _ = (tags, limits);
    Report {
        places: places.len(),
        unit,
        total: shapes
            .iter()
            .map(|s| match s {
                Shape::Circle { r } => 3.0 * r * r,
                Shape::Rect { w, h } => w * h,
            })
            .sum(),
    }
}

/// Asks before deleting.
#[tool(requires_confirmation = true, stop_after_tool_call, show_result)]
fn delete_file(path: std::path::PathBuf) -> Result<(), std::io::Error> {
    if path.as_os_str() == "missing" {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
    }
    Ok(())
}

/// Sends an email; the user supplies the recipient.
#[tool(requires_user_input, user_input_fields = [to])]
fn send_email(to: String, subject: String, body: Option<String>) -> &'static str {
    let _ = (to, subject, body);
    "sent"
}

/// Asks the user everything.
#[tool(requires_user_input)]
fn ask(question: String, default: Option<String>) -> String {
    default.unwrap_or(question)
}

/// No parameters, unit return.
#[tool(external_execution = false, requires_confirmation = false)]
fn ping() {}

/// Mutable and borrowed parameters.
#[tool]
fn mutate(list: &mut Vec<u32>, ctx: &ToolContext, path: &std::path::Path) -> Vec<u32> {
    list.push(ctx.tool_call_id.len() as u32);
    list.push(path.as_os_str().len() as u32);
    list.clone()
}

/// Panics.
#[tool]
fn boom() -> String {
    panic!("kaboom")
}

/// Async and failing.
#[tool]
async fn fails(message: String) -> Result<u8, ToolError> {
    Err(ToolError::new(message))
}

/// A raw identifier parameter.
#[tool]
fn raw(r#type: String) -> String {
    r#type
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn validator(tool: &dyn Tool) -> jsonschema::Validator {
    let schema = &tool.definition().parameters;
    jsonschema::validator_for(schema)
        .unwrap_or_else(|e| panic!("{}: invalid schema {schema}: {e}", tool.definition().name))
}

fn assert_valid(tool: &dyn Tool, args: Value) {
    let v = validator(tool);
    let errors: Vec<String> = v.iter_errors(&args).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{}: {args} should be valid against {}: {errors:?}",
        tool.definition().name,
        tool.definition().parameters
    );
}

fn assert_invalid(tool: &dyn Tool, args: Value) {
    assert!(
        !validator(tool).is_valid(&args),
        "{}: {args} should be invalid against {}",
        tool.definition().name,
        tool.definition().parameters
    );
}

/// Every object schema with properties lists them all as required and forbids others.
fn assert_strict_shape(schema: &Value) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get("properties") {
                let mut required: Vec<&str> = obj["required"]
                    .as_array()
                    .expect("required")
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                required.sort();
                let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
                names.sort();
                assert_eq!(required, names, "in {schema}");
                assert_eq!(obj["additionalProperties"], false, "in {schema}");
            }
            assert!(
                obj.get("oneOf").is_none(),
                "oneOf in strict schema {schema}"
            );
            if let Some(Value::String(f)) = obj.get("format") {
                assert!(!f.starts_with("uint") && !f.starts_with("int") && f != "double");
            }
            obj.values().for_each(assert_strict_shape);
        }
        Value::Array(items) => items.iter().for_each(assert_strict_shape),
        _ => {}
    }
}

fn all_tools() -> Vec<std::sync::Arc<dyn Tool>> {
    let mut out = Vec::new();
    execute_shell_command.into_tools(&mut out).unwrap();
    greet.into_tools(&mut out).unwrap();
    complex.into_tools(&mut out).unwrap();
    delete_file.into_tools(&mut out).unwrap();
    send_email.into_tools(&mut out).unwrap();
    ask.into_tools(&mut out).unwrap();
    ping.into_tools(&mut out).unwrap();
    mutate.into_tools(&mut out).unwrap();
    boom.into_tools(&mut out).unwrap();
    fails.into_tools(&mut out).unwrap();
    raw.into_tools(&mut out).unwrap();
    out
}

fn ctx(id: &str) -> ToolContext {
    ToolContext {
        run_id: "run-1".into(),
        session_id: "s".into(),
        user_id: None,
        tool_call_id: id.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Definitions

#[test]
fn definition_of_the_design_example() {
    let d = execute_shell_command.definition();
    assert_eq!(execute_shell_command::NAME, "execute_shell_command");
    assert_eq!(execute_shell_command.name(), "execute_shell_command");
    assert_eq!(d.name, "execute_shell_command");
    assert_eq!(
        d.description,
        "Execute a shell command.\n\nThe command runs in `sh`."
    );
    assert_eq!(d.mode, ExecutionMode::External);
    assert!(!d.strict && !d.stop_after_tool_call && !d.show_result);
    assert_eq!(
        d.parameters,
        json!({
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The shell command to execute"}},
            "required": ["command"]
        })
    );
    // Built once: the same static every time.
    assert!(std::ptr::eq(d, execute_shell_command.definition()));
    assert!(std::ptr::eq(d, Tool::definition(&execute_shell_command)));
}

#[test]
fn google_style_docs_and_optional_params() {
    let d = greet.definition();
    assert_eq!(d.description, "Greets someone.");
    let p = &d.parameters;
    assert_eq!(p["properties"]["name"]["description"], "Who to greet.");
    assert_eq!(p["properties"]["shout"]["description"], "Upper case.");
    assert_eq!(p["required"], json!(["name"]));
}

#[test]
fn flags() {
    assert_eq!(
        delete_file.definition().mode,
        ExecutionMode::RequiresConfirmation
    );
    assert!(delete_file.definition().stop_after_tool_call);
    assert!(delete_file.definition().show_result);
    assert_eq!(
        send_email.definition().mode,
        ExecutionMode::RequiresUserInput {
            fields: vec!["to".into()]
        }
    );
    assert_eq!(
        ask.definition().mode,
        ExecutionMode::RequiresUserInput {
            fields: vec!["question".into(), "default".into()]
        }
    );
    assert_eq!(ping.definition().mode, ExecutionMode::Internal);
    assert_eq!(ping.definition().description, "No parameters, unit return.");
    assert_eq!(raw.definition().parameters["required"], json!(["type"]));
}

#[test]
fn name_description_overrides_and_strict() {
    let d = complex.definition();
    assert_eq!(d.name, "summarise");
    assert_eq!(complex::NAME, "summarise");
    assert_eq!(d.description, "Summarise places and shapes.");
    assert!(d.strict);
    let p = &d.parameters;
    assert_eq!(
        p["properties"]["limits"]["description"],
        "Limits, overriding the docs"
    );
    assert_eq!(p["properties"]["places"]["description"], "Where");
    assert_strict_shape(p);
    // The optional list is nullable, and still a list.
    let tags = &p["properties"]["tags"];
    assert_eq!(tags["type"], json!(["array", "null"]), "{tags}");
    assert!(strict_check::violations(p).is_empty(), "{p}");
}

#[test]
fn every_generated_schema_is_a_valid_schema() {
    for tool in all_tools() {
        let _ = validator(tool.as_ref());
        let p = &tool.definition().parameters;
        assert_eq!(p["type"], "object", "{}", tool.definition().name);
        assert!(p.get("$schema").is_none() && p.get("title").is_none());
        if tool.definition().strict {
            assert_strict_shape(p);
            let v = strict_check::violations(p);
            assert!(v.is_empty(), "{}: {v:?}", tool.definition().name);
        }
    }
}

#[test]
fn sample_arguments_validate_and_bad_ones_do_not() {
    let shell: &dyn Tool = &execute_shell_command;
    assert_valid(shell, json!({"command": "ls"}));
    assert_invalid(shell, json!({}));
    assert_invalid(shell, json!({"command": 1}));

    let greet_: &dyn Tool = &greet;
    assert_valid(greet_, json!({"name": "Ada"}));
    assert_valid(greet_, json!({"name": "Ada", "shout": true}));
    assert_valid(greet_, json!({"name": "Ada", "shout": null}));
    assert_invalid(greet_, json!({"shout": true}));

    let c: &dyn Tool = &complex;
    let good = json!({
        "places": [{"city": "Paris", "country": null}, {"city": "Oslo", "country": "NO"}],
        "unit": "celsius",
        "shapes": [{"kind": "circle", "r": 1.0}, {"kind": "rect", "w": 2.0, "h": 3.0}],
        "tags": ["a"],
        "limits": [{"name": "x", "max": 3}]
    });
    assert_valid(c, good.clone());
    let mut nulls = good.clone();
    nulls["tags"] = Value::Null;
    assert_valid(c, nulls);
    // Strict: every property required, no extra properties, enums checked.
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("tags");
    assert_invalid(c, missing);
    let mut extra = good.clone();
    extra["places"][0]["zip"] = json!("75001");
    assert_invalid(c, extra);
    let mut bad_unit = good.clone();
    bad_unit["unit"] = json!("kelvin");
    assert_invalid(c, bad_unit);
    let mut bad_shape = good.clone();
    bad_shape["shapes"][0] = json!({"kind": "triangle"});
    assert_invalid(c, bad_shape);
    let mut negative = good;
    negative["limits"][0]["max"] = json!(-1);
    assert_invalid(c, negative);

    let p: &dyn Tool = &ping;
    assert_valid(p, json!({}));
    let m: &dyn Tool = &mutate;
    assert_valid(m, json!({"list": [1, 2], "path": "/tmp"}));
    assert_invalid(m, json!({"list": [-1], "path": "/tmp"}));
}

// ---------------------------------------------------------------------------------------------
// Calls

#[tokio::test]
async fn entrypoint_converts_results() {
    assert_eq!(
        execute_shell_command
            .entrypoint(&json!({"command": "ls"}))
            .await
            .unwrap(),
        "ran ls for run ''"
    );
    assert_eq!(
        greet.entrypoint(&json!({"name": "ada"})).await.unwrap(),
        "hello ada"
    );
    assert_eq!(
        greet
            .entrypoint(&json!({"name": "ada", "shout": true}))
            .await
            .unwrap(),
        "HELLO ADA"
    );
    let report: Value = serde_json::from_str(
        &complex
            .entrypoint(&json!({
                "places": [{"city": "Paris", "country": null}],
                "unit": "fahrenheit",
                "shapes": [{"kind": "rect", "w": 2.0, "h": 3.0}],
                "tags": null,
                "limits": []
            }))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        report,
        json!({"places": 1, "unit": "fahrenheit", "total": 6.0})
    );
    assert_eq!(
        delete_file.entrypoint(&json!({"path": "a"})).await.unwrap(),
        "null"
    );
    assert_eq!(ping.entrypoint(&json!({})).await.unwrap(), "null");
    assert_eq!(ping.entrypoint(&Value::Null).await.unwrap(), "null");
    assert_eq!(
        send_email
            .entrypoint(&json!({"to": "a@b", "subject": "hi"}))
            .await
            .unwrap(),
        "sent"
    );
    assert_eq!(raw.entrypoint(&json!({"type": "t"})).await.unwrap(), "t");
    assert_eq!(
        mutate
            .entrypoint(&json!({"list": [7], "path": "abc"}))
            .await
            .unwrap(),
        "[7,0,3]"
    );
}

#[tokio::test]
async fn errors_are_tool_errors() {
    let err = delete_file
        .entrypoint(&json!({"path": "missing"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Failed);
    assert_eq!(err.message(), "no such file");

    let err = fails
        .entrypoint(&json!({"message": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "nope");

    for bad in [json!({}), json!({"command": 3}), json!("ls"), json!([1])] {
        let err = execute_shell_command.entrypoint(&bad).await.unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidArguments, "{bad}");
    }
    let err = complex
        .entrypoint(
            &json!({"places": [], "unit": "kelvin", "shapes": [], "tags": null, "limits": []}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
    assert!(err.message().contains("kelvin"), "{err}");
}

#[tokio::test]
async fn invoke_passes_the_context_and_runs_sync_and_async() {
    let out: ToolResult =
        Tool::invoke(&execute_shell_command, json!({"command": "pwd"}), ctx("c1")).await;
    assert_eq!(out.unwrap(), "ran pwd for run 'run-1'");
    let out = Tool::invoke(&greet, json!({"name": "bo"}), ctx("c2")).await;
    assert_eq!(out.unwrap(), "hello bo");
    let out = Tool::invoke(&mutate, json!({"list": [], "path": "p"}), ctx("call-42")).await;
    assert_eq!(out.unwrap(), "[7,1]");
    let err = Tool::invoke(&greet, json!({"name": 1}), ctx("c3"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
    let err = Tool::invoke(&fails, json!({"message": "m"}), ctx("c4"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Failed);
}

#[tokio::test]
async fn a_panicking_sync_tool_is_a_tool_error() {
    let err = Tool::invoke(&boom, json!({}), ctx("c")).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Panicked);
    assert!(err.message().contains("kaboom"));
}

#[tokio::test]
async fn invoke_futures_are_static_and_send() {
    fn assert_send<T: Send + 'static>(t: T) -> T {
        t
    }
    let fut = assert_send(Tool::invoke(&greet, json!({"name": "x"}), ctx("c")));
    let handle = tokio::spawn(fut);
    assert_eq!(handle.await.unwrap().unwrap(), "hello x");
}

#[tokio::test]
async fn the_typed_function_stays_callable() {
    assert_eq!(
        execute_shell_command::call("x".into(), ctx("c")).unwrap(),
        "ran x for run 'run-1'"
    );
    assert_eq!(greet::call("y", Some(true)).await, "HELLO Y");
    let r = complex::call(
        vec![],
        Unit::Celsius,
        vec![Shape::Circle { r: 1.0 }],
        None,
        vec![],
    );
    assert_eq!(r.total, 3.0);
    assert!(delete_file::call("missing".into()).is_err());
    ping::call();
}

#[test]
fn generated_args_types_are_usable() {
    let a: ExecuteShellCommandArgs = serde_json::from_value(json!({"command": "ls"})).unwrap();
    assert_eq!(a.command, "ls");
    let g: GreetArgs = serde_json::from_value(json!({"name": "n"})).unwrap();
    assert_eq!((g.name.as_str(), g.shout), ("n", None));
    // Unit structs: copyable values, usable as `dyn Tool`.
    let t = execute_shell_command;
    let copy = t;
    let _: &dyn Tool = &t;
    let _: &dyn Tool = &copy;
}

#[tokio::test]
async fn argument_errors_name_the_field() {
    let err = execute_shell_command
        .entrypoint(&json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "invalid arguments: missing field `command`");
    let err = Tool::invoke(&execute_shell_command, json!({"command": 3}), ctx("c"))
        .await
        .unwrap_err();
    assert!(
        err.message()
            .starts_with("invalid arguments: field `command`: invalid type"),
        "{err}"
    );
    let err = greet.entrypoint(&json!("ada")).await.unwrap_err();
    assert_eq!(
        err.message(),
        "invalid arguments: expected an object, got a string"
    );
    // Unknown fields are ignored (models add them), as serde does by default.
    assert_eq!(
        greet
            .entrypoint(&json!({"name": "a", "extra": 1}))
            .await
            .unwrap(),
        "hello a"
    );
}

#[test]
fn args_types_implement_deserialize_and_json_schema() {
    let a: ExecuteShellCommandArgs = serde_json::from_str(r#"{"command": "ls"}"#).unwrap();
    assert_eq!(a.command, "ls");
    let err = serde_json::from_str::<ExecuteShellCommandArgs>("{}")
        .err()
        .unwrap();
    assert!(err.to_string().contains("missing field `command`"), "{err}");
    assert!(serde_json::from_str::<ExecuteShellCommandArgs>("[1]").is_err());
    let schema = serde_json::to_value(schemars::schema_for!(ExecuteShellCommandArgs)).unwrap();
    assert_eq!(
        schema["properties"],
        execute_shell_command.definition().parameters["properties"]
    );
}

/// More parameters than are kept on the stack while parsing (8).
#[tool]
#[allow(clippy::too_many_arguments)]
fn wide(
    a0: u8,
    a1: u8,
    a2: u8,
    a3: u8,
    a4: u8,
    a5: u8,
    a6: u8,
    a7: u8,
    a8: u8,
    a9: u8,
    a10: u8,
    a11: u8,
    a12: u8,
    a13: u8,
    a14: u8,
    a15: u8,
    a16: u8,
    a17: Option<u8>,
) -> u32 {
    [
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        a6,
        a7,
        a8,
        a9,
        a10,
        a11,
        a12,
        a13,
        a14,
        a15,
        a16,
        a17.unwrap_or(100),
    ]
    .iter()
    .map(|x| u32::from(*x))
    .sum()
}

#[tokio::test]
async fn many_parameters() {
    let mut args = serde_json::Map::new();
    for i in 0..17 {
        args.insert(format!("a{i}"), json!(i));
    }
    let args = Value::Object(args);
    assert_eq!(
        wide.entrypoint(&args).await.unwrap(),
        (136 + 100).to_string()
    );
    assert_eq!(
        Tool::invoke(&wide, args.clone(), ctx("c")).await.unwrap(),
        (136 + 100).to_string()
    );
    let mut with_last = args.clone();
    with_last["a17"] = json!(1);
    assert_eq!(wide.entrypoint(&with_last).await.unwrap(), "137");
    let mut missing = args;
    missing.as_object_mut().unwrap().remove("a16");
    let err = wide.entrypoint(&missing).await.unwrap_err();
    assert_eq!(err.message(), "invalid arguments: missing field `a16`");
    assert_eq!(
        wide.definition().parameters["required"]
            .as_array()
            .unwrap()
            .len(),
        17
    );
}

// ---------------------------------------------------------------------------------------------
// Parameters named like tools, `Cow<str>`, `&mut ToolContext`

/// A tool named like its own parameter.
///
/// # Arguments
/// * `date` - The date to echo
#[tool]
#[allow(non_camel_case_types)]
fn date(date: String) -> String {
    date
}

/// Another tool's parameter named like the tool `date`, and a `Cow<str>`.
#[tool]
fn shift(date: Cow<str>, days: u8, ctx: &mut ToolContext) -> String {
    ctx.tool_call_id.push_str("+seen");
    format!("{date}+{days} ({})", ctx.tool_call_id)
}

use std::borrow::Cow;

#[tokio::test]
async fn parameters_named_like_tools_cow_and_mutable_context() {
    assert_eq!(date::call("monday".into()), "monday");
    assert_eq!(
        date.definition().parameters["properties"]["date"]["description"],
        "The date to echo"
    );
    assert_eq!(
        date.entrypoint(&json!({"date": "tuesday"})).await.unwrap(),
        "tuesday"
    );
    assert_eq!(
        shift
            .invoke(json!({"date": "d", "days": 2}), ctx("call-1"))
            .await
            .unwrap(),
        "d+2 (call-1+seen)"
    );
    assert_eq!(
        shift.definition().parameters["properties"]["date"]["type"],
        "string"
    );
    let mut c = ctx("x");
    assert_eq!(shift::call(Cow::Borrowed("e"), 1, &mut c), "e+1 (x+seen)");
}

/// A crate depending only on kern derives its argument types through kern's re-exports.
#[derive(kern::serde::Deserialize, kern::schemars::JsonSchema)]
#[serde(crate = "kern::serde")]
#[schemars(crate = "kern::schemars")]
pub struct Point {
    x: f64,
    y: f64,
}

/// The distance to the origin.
#[tool]
fn norm(p: Point) -> f64 {
    (p.x * p.x + p.y * p.y).sqrt()
}

#[tokio::test]
async fn argument_types_derived_through_kern_reexports() {
    let out = norm
        .entrypoint(&json!({"p": {"x": 3.0, "y": 4.0}}))
        .await
        .unwrap();
    assert_eq!(out, "5.0");
    assert_eq!(
        norm.definition().parameters["$defs"]["Point"]["type"],
        "object"
    );
}
