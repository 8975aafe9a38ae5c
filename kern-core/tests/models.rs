//! The offline models: TestModel's arguments from schemas, FunctionModel's scripts.

use futures::StreamExt;
use kern_core::{
    FunctionModel, Message, Model, ModelError, ModelEvent, ModelRequest, ModelResponse, TestModel,
    ToolCall, ToolDefinition,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Color {
    Red,
    Green,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Address {
    city: String,
    zip: u32,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
struct Args {
    name: String,
    count: i64,
    ratio: f64,
    flag: bool,
    color: Color,
    tags: Vec<String>,
    address: Address,
    nickname: Option<String>,
    fallback: Option<Address>,
}

#[test]
fn example_args_from_a_schemars_schema_deserialize() {
    let schema = serde_json::to_value(schemars::schema_for!(Args)).unwrap();
    let args = TestModel::example_args(&schema);
    let parsed: Args = serde_json::from_value(args.clone()).unwrap();
    assert_eq!(parsed.name, "example");
    assert_eq!(parsed.count, 1);
    assert_eq!(parsed.color, Color::Red, "an enum takes its first variant");
    assert_eq!(parsed.tags, vec!["example".to_owned()]);
    assert_eq!(
        parsed.address,
        Address {
            city: "example".into(),
            zip: 1
        },
        "$ref into $defs resolved, nested object recursed"
    );
    // Optional properties are not required: left out.
    assert!(args.get("nickname").is_none());
}

#[test]
fn example_args_handle_strict_nullable_types_and_bounds() {
    let schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "nickname": { "type": ["string", "null"] },
            "home": { "anyOf": [ { "$ref": "#/$defs/Place" }, { "type": "null" } ] },
            "level": { "type": "integer", "minimum": 5, "maximum": 9 },
            "below": { "type": "number", "exclusiveMaximum": 0 },
            "when": { "type": "string", "format": "date-time" },
            "code": { "type": "string", "minLength": 10 },
            "mode": { "const": "fast" },
            "pair": { "type": "array", "minItems": 2, "items": { "type": "boolean" } },
            "old_style": { "$ref": "#/definitions/Old" },
            "ignored": { "type": "string" }
        },
        "required": ["nickname", "home", "level", "below", "when", "code", "mode", "pair", "old_style"],
        "$defs": {
            "Place": { "type": "object", "properties": { "x": { "type": "integer" } }, "required": ["x"] }
        },
        "definitions": { "Old": { "type": "string", "enum": ["a", "b"] } }
    });
    assert_eq!(
        TestModel::example_args(&schema),
        json!({
            "nickname": "example",
            "home": { "x": 1 },
            "level": 5,
            "below": -1.0,
            "when": "2024-01-01T00:00:00Z",
            "code": "examplexxx",
            "mode": "fast",
            "pair": [true, true],
            "old_style": "a"
        })
    );
}

#[test]
fn example_args_survive_odd_schemas() {
    // A cycle, a dangling ref, a non-object schema: no panic, an object out.
    let cyclic = json!({
        "type": "object",
        "properties": { "next": { "$ref": "#" }, "gone": { "$ref": "#/$defs/Nope" } },
        "required": ["next", "gone"]
    });
    let args = TestModel::example_args(&cyclic);
    assert!(args.is_object());
    assert_eq!(args["gone"], Value::Null);
    assert_eq!(TestModel::example_args(&json!(true)), json!({}));
    assert_eq!(TestModel::example_args(&json!({})), json!({}));
}

fn definition(name: &'static str) -> ToolDefinition {
    ToolDefinition::new(
        name,
        "d",
        json!({"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}),
    )
}

#[tokio::test]
async fn test_model_calls_offered_or_configured_tools_then_answers() {
    let (a, b) = (definition("a"), definition("b"));
    let tools = [&a, &b];
    let messages = vec![Message::user("go")];
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &tools,
    };
    let turn = TestModel::new().invoke(request).await.unwrap();
    assert_eq!(
        turn.tool_calls,
        vec![
            ToolCall::new("call_1", "a", r#"{"q":"example"}"#),
            ToolCall::new("call_2", "b", r#"{"q":"example"}"#)
        ]
    );
    let turn = TestModel::new()
        .with_args("b", json!({"q": "mine"}))
        .invoke(request)
        .await
        .unwrap();
    assert_eq!(turn.tool_calls[1].arguments, r#"{"q":"mine"}"#);
    let turn = TestModel::calling(["b", "missing"])
        .invoke(request)
        .await
        .unwrap();
    let names: Vec<&str> = turn.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["b", "missing"]);
    assert_eq!(turn.tool_calls[1].arguments, "{}");

    let mut messages = messages;
    messages.push(Message::assistant(None, turn.tool_calls.clone()));
    messages.push(Message::tool_result("call_1", "b", "found"));
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &tools,
    };
    let answer = TestModel::new()
        .with_answer("Here:")
        .invoke(request)
        .await
        .unwrap();
    assert!(answer.tool_calls.is_empty());
    assert_eq!(answer.content.as_deref(), Some("Here:\n- b: found"));
    // Deterministic.
    assert_eq!(
        answer,
        TestModel::new()
            .with_answer("Here:")
            .invoke(request)
            .await
            .unwrap()
    );

    // Streamed: word deltas, then the whole turn.
    let events: Vec<ModelEvent> = TestModel::new()
        .with_answer("Here:")
        .invoke_stream(request)
        .map(|e| e.unwrap())
        .collect()
        .await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::ContentDelta(d) => Some(d.as_str()),
            ModelEvent::Completed(_) => None,
        })
        .collect();
    assert_eq!(text, "Here:\n- b: found");
    assert!(matches!(events.last(), Some(ModelEvent::Completed(r)) if r == &answer));
}

#[tokio::test]
async fn function_model_scripts_turns_per_run() {
    let model = FunctionModel::script([ModelResponse::text("one"), ModelResponse::text("two")]);
    let mut messages = vec![
        Message::user("old"),
        Message::assistant(Some("x".into()), vec![]),
    ];
    messages.push(Message::user("new"));
    let request = |m: &[Message]| -> Result<ModelResponse, ModelError> {
        futures::executor::block_on(model.invoke(ModelRequest {
            instructions: None,
            messages: m,
            tools: &[],
        }))
    };
    assert_eq!(request(&messages).unwrap().content.as_deref(), Some("one"));
    messages.push(Message::assistant(
        None,
        vec![ToolCall::new("c", "t", "{}")],
    ));
    assert_eq!(request(&messages).unwrap().content.as_deref(), Some("two"));
    messages.push(Message::assistant(None, vec![]));
    let error = request(&messages).unwrap_err();
    assert!(error.to_string().contains("turn 3"), "{error}");

    let echo = FunctionModel::new(|request| {
        Ok(ModelResponse::text(request.instructions.unwrap_or("none")))
    });
    let answer = futures::executor::block_on(echo.invoke(ModelRequest {
        instructions: Some("be brief"),
        messages: &[],
        tools: &[],
    }))
    .unwrap();
    assert_eq!(answer.content.as_deref(), Some("be brief"));
}
