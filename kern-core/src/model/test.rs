//! [`TestModel`]: an offline model that calls the offered tools with arguments made from their
//! schemas, then answers with the results. Deterministic; no network.

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{BoxStream, StreamExt};
use serde_json::{Map, Number, Value};

use super::{Model, ModelError, ModelEvent, ModelRequest, ModelResponse, Usage};
use crate::message::{Message, ToolCall};

/// An offline model for tests and demos.
///
/// In the first turn of a run (no assistant turn since the last user message) it calls every
/// offered tool once — or the tools named with [`TestModel::calling`], in that order — with
/// arguments generated from each tool's JSON schema ([`TestModel::example_args`]). In the next
/// turn (or at once, with no tools to call) it answers with text that lists the tool results.
///
/// ```
/// # use kern_core::{TestModel, Model, ModelRequest, Message, ToolDefinition};
/// # use serde_json::json;
/// # futures::executor::block_on(async {
/// let tool = ToolDefinition::new("greet", "Greets", json!({
///     "type": "object",
///     "properties": { "name": { "type": "string" } },
///     "required": ["name"]
/// }));
/// let messages = [Message::user("hi")];
/// let turn = TestModel::new()
///     .invoke(ModelRequest { instructions: None, messages: &messages, tools: &[&tool] })
///     .await
///     .unwrap();
/// assert_eq!(turn.tool_calls[0].name, "greet");
/// assert_eq!(turn.tool_calls[0].arguments, r#"{"name":"example"}"#);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct TestModel {
    tools: Option<Vec<String>>,
    args: Vec<(String, Value)>,
    answer: Option<String>,
}

impl TestModel {
    /// A model that calls every offered tool, then answers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A model that calls these tools (offered or not), in this order, then answers.
    pub fn calling<I, S>(tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TestModel {
            tools: Some(tools.into_iter().map(Into::into).collect()),
            ..TestModel::default()
        }
    }

    /// Calls `tool` with these arguments instead of ones generated from its schema.
    pub fn with_args(mut self, tool: impl Into<String>, args: Value) -> Self {
        self.args.push((tool.into(), args));
        self
    }

    /// The text the final answer starts with (before the tool results).
    pub fn with_answer(mut self, answer: impl Into<String>) -> Self {
        self.answer = Some(answer.into());
        self
    }

    /// Arguments for a tool with this parameter schema: every required property, with a value of
    /// its type (strings `"example"` or one fitting the `format`, numbers `1` within the
    /// bounds, `true`, one-item arrays); an `enum` gives its first variant, a `const` its value;
    /// nested objects recurse; `$ref`s into `$defs`/`definitions` are resolved; of a nullable
    /// type (`["string", "null"]`, or an `anyOf` with `null`) the non-null one is used.
    pub fn example_args(schema: &Value) -> Value {
        match example(schema, schema, 0) {
            Value::Object(map) => Value::Object(map),
            _ => Value::Object(Map::new()),
        }
    }

    fn respond(&self, request: &ModelRequest<'_>) -> ModelResponse {
        let messages = request.messages;
        let start = messages
            .iter()
            .rposition(|m| matches!(m, Message::User { .. }))
            .map_or(0, |i| i + 1);
        let this_run = &messages[start..];
        let called = this_run
            .iter()
            .any(|m| matches!(m, Message::Assistant { tool_calls, .. } if !tool_calls.is_empty()));
        let input_tokens = messages.iter().map(message_len).sum::<usize>() as u64 / 4 + 1;
        if !called {
            let names: Vec<&str> = match &self.tools {
                Some(names) => names.iter().map(String::as_str).collect(),
                None => request.tools.iter().map(|t| t.name.as_ref()).collect(),
            };
            if !names.is_empty() {
                let earlier: usize = messages
                    .iter()
                    .map(|m| match m {
                        Message::Assistant { tool_calls, .. } => tool_calls.len(),
                        _ => 0,
                    })
                    .sum();
                let tool_calls: Vec<ToolCall> = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let configured = self.args.iter().find(|(tool, _)| tool == name);
                        let args = match configured {
                            Some((_, args)) => args.clone(),
                            None => request.tools.iter().find(|t| t.name == *name).map_or_else(
                                || Value::Object(Map::new()),
                                |t| Self::example_args(&t.parameters),
                            ),
                        };
                        ToolCall::new(format!("call_{}", earlier + i + 1), *name, args.to_string())
                    })
                    .collect();
                return ModelResponse {
                    content: None,
                    usage: Usage {
                        input_tokens,
                        output_tokens: tool_calls.len() as u64 * 8,
                    },
                    tool_calls,
                };
            }
        }
        let mut text = self.answer.clone().unwrap_or_else(|| {
            let question = messages[..start]
                .iter()
                .rev()
                .find_map(|m| match m {
                    Message::User { content } => Some(content.as_str()),
                    _ => None,
                })
                .unwrap_or_default();
            format!("TestModel's answer to: {question}")
        });
        for message in this_run {
            if let Message::Tool {
                tool_name,
                content,
                is_error,
                ..
            } = message
            {
                let error = if *is_error { " (error)" } else { "" };
                text.push_str(&format!("\n- {tool_name}{error}: {content}"));
            }
        }
        ModelResponse {
            usage: Usage {
                input_tokens,
                output_tokens: text.len() as u64 / 4 + 1,
            },
            content: Some(text),
            tool_calls: Vec::new(),
        }
    }
}

fn message_len(message: &Message) -> usize {
    match message {
        Message::System { content } | Message::User { content } => content.len(),
        Message::Assistant {
            content,
            tool_calls,
        } => {
            content.as_deref().map_or(0, str::len)
                + tool_calls.iter().map(|c| c.arguments.len()).sum::<usize>()
        }
        Message::Tool { content, .. } => content.len(),
    }
}

impl Model for TestModel {
    fn name(&self) -> &str {
        "test"
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        futures::future::ready(Ok(self.respond(&request))).boxed()
    }

    /// Streams the answer word by word.
    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        let response = self.respond(&request);
        let mut events: Vec<Result<ModelEvent, ModelError>> = response
            .content
            .as_deref()
            .unwrap_or_default()
            .split_inclusive(' ')
            .map(|word| Ok(ModelEvent::ContentDelta(word.to_owned())))
            .collect();
        events.push(Ok(ModelEvent::Completed(response)));
        futures::stream::iter(events).boxed()
    }
}

const MAX_DEPTH: u32 = 32;

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

fn example(schema: &Value, root: &Value, depth: u32) -> Value {
    let Some(obj) = schema.as_object() else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        return resolve(root, reference).map_or(Value::Null, |s| example(s, root, depth + 1));
    }
    if let Some(value) = obj.get("const") {
        return value.clone();
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(variants) = obj.get(key).and_then(Value::as_array) {
            let chosen = variants
                .iter()
                .find(|v| v.get("type").and_then(Value::as_str) != Some("null"))
                .or(variants.first());
            if let Some(variant) = chosen {
                return example(variant, root, depth + 1);
            }
        }
    }
    let ty = match obj.get("type") {
        Some(Value::String(ty)) => ty.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if obj.contains_key("properties") => "object",
        _ if obj.contains_key("items") => "array",
        _ => return Value::Null,
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(properties) = obj.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if required.contains(&name.as_str()) {
                        out.insert(name.clone(), example(property, root, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            if let Some(prefix) = obj.get("prefixItems").and_then(Value::as_array) {
                return Value::Array(prefix.iter().map(|s| example(s, root, depth + 1)).collect());
            }
            let min = obj
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let max = obj
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            let count = min.min(max).min(16);
            let item = obj
                .get("items")
                .map_or(Value::Null, |s| example(s, root, depth + 1));
            Value::Array(vec![item; count as usize])
        }
        "string" => {
            let mut text = match obj.get("format").and_then(Value::as_str) {
                Some("date-time") => "2024-01-01T00:00:00Z",
                Some("date") => "2024-01-01",
                Some("time") => "00:00:00",
                Some("email") => "user@example.com",
                Some("uri" | "url") => "https://example.com/",
                Some("uuid") => "00000000-0000-0000-0000-000000000000",
                Some("ipv4") => "127.0.0.1",
                Some("ipv6") => "::1",
                _ => "example",
            }
            .to_owned();
            let min = obj
                .get("minLength")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .min(1024);
            while (text.chars().count() as u64) < min {
                text.push('x');
            }
            if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
                text = text.chars().take(max as usize).collect();
            }
            Value::String(text)
        }
        "integer" | "number" => {
            let bound = |key: &str| obj.get(key).and_then(Value::as_f64);
            let mut value: f64 = 1.0;
            if let Some(min) = bound("minimum") {
                value = value.max(min);
            }
            if let Some(min) = bound("exclusiveMinimum")
                && value <= min
            {
                value = min + 1.0;
            }
            if let Some(max) = bound("maximum") {
                value = value.min(max);
            }
            if let Some(max) = bound("exclusiveMaximum")
                && value >= max
            {
                value = max - 1.0;
            }
            if ty == "integer" {
                let value = value.ceil();
                if value >= 0.0 {
                    Value::Number(Number::from(value as u64))
                } else {
                    Value::Number(Number::from(value as i64))
                }
            } else {
                Number::from_f64(value).map_or(Value::Null, Value::Number)
            }
        }
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    }
}
