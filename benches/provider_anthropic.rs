//! `Anthropic` against a loopback mock of the Messages API: the time of one non-streamed turn next
//! to a bare `reqwest` POST of the same body to the same mock (kern's overhead: building the
//! body from the conversation, the headers, parsing the answer), and the throughput of a long
//! streamed answer through kern's SSE handling next to reading the same bytes with bare
//! `reqwest`.
//!
//! `cargo bench --bench provider_anthropic -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kern::model::Anthropic;
use kern::{Message, ModelRequest, ToolCall, ToolDefinition};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

const KEY: &str = "sk-ant-bench";

/// A conversation of a few turns with a round of two tool calls: a typical agent turn.
fn conversation() -> Vec<Message> {
    vec![
        Message::user("What's the weather in Paris and in Rome, and what should I wear?"),
        Message::assistant(
            Some("I'll check both cities.".into()),
            vec![
                ToolCall::new("toolu_01", "get_weather", r#"{"location":"Paris"}"#),
                ToolCall::new("toolu_02", "get_weather", r#"{"location":"Rome"}"#),
            ],
        ),
        Message::tool_result(
            "toolu_01",
            "get_weather",
            "Paris: 14°C, light rain, wind 20 km/h from the west",
        ),
        Message::tool_result("toolu_02", "get_weather", "Rome: 22°C, sunny, wind 5 km/h"),
    ]
}

fn tools() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition::new(
            "get_weather",
            "Get the current weather in a given location",
            json!({
                "type": "object",
                "properties": {"location": {"type": "string", "description": "The city"}},
                "required": ["location"]
            }),
        ),
        ToolDefinition::new(
            "get_forecast",
            "Get the forecast for the next days",
            json!({
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7}
                },
                "required": ["location", "days"]
            }),
        ),
    ]
}

fn answer() -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "text", "text": "Paris is rainy (14°C): take a raincoat. Rome is sunny (22°C): a light jacket will do. Let me check tomorrow too."},
            {"type": "tool_use", "id": "toolu_03", "name": "get_forecast", "input": {"location": "Paris", "days": 2}}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": null,
        "usage": {"input_tokens": 812, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 96}
    })
}

/// A long streamed answer: `deltas` text deltas of about 80 bytes each.
fn long_stream(deltas: usize) -> String {
    let mut body = String::with_capacity(deltas * 140);
    let event = |body: &mut String, name: &str, data: Value| {
        body.push_str("event: ");
        body.push_str(name);
        body.push_str("\ndata: ");
        body.push_str(&data.to_string());
        body.push_str("\n\n");
    };
    event(
        &mut body,
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
               "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null, "stop_sequence": null,
               "usage": {"input_tokens": 25, "output_tokens": 1}}}),
    );
    event(
        &mut body,
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    );
    for i in 0..deltas {
        if i % 500 == 0 {
            event(&mut body, "ping", json!({"type": "ping"}));
        }
        let text =
            format!("Word {i} of a long answer, with \"quotes\", é and 🌍 in it; on it goes. ");
        event(
            &mut body,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        );
    }
    event(
        &mut body,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    event(
        &mut body,
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": deltas * 20}}),
    );
    event(&mut body, "message_stop", json!({"type": "message_stop"}));
    body
}

fn model(uri: &str) -> Anthropic {
    Anthropic::new("claude-sonnet-4-5")
        .api_key(KEY)
        .base_url(uri)
}

fn bench(c: &mut Criterion) {
    let messages = conversation();
    let tools = tools();
    let tool_refs: Vec<&ToolDefinition> = tools.iter().collect();
    let request = ModelRequest {
        instructions: Some("You are a helpful weather assistant. Answer briefly."),
        messages: &messages,
        tools: &tool_refs,
    };
    let answer = ResponseTemplate::new(200).set_body_json(answer());
    common::turn(c, "anthropic", model, request, answer);

    let cases = [("text_20k_deltas", long_stream(20_000))];
    common::stream(c, "anthropic", model, request, &cases, |_, done| {
        assert!(done.content.as_ref().is_some_and(|c| c.len() > 1_000_000));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
