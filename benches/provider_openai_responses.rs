//! `OpenAiResponses` against a loopback mock of the Responses API: the time of one non-streamed
//! turn next to a bare `reqwest` POST of the same body to the same mock (kern's overhead), and
//! the throughput of a long streamed answer (SSE decoding and event assembly, over loopback).
//!
//! `cargo bench --bench provider_openai_responses -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kern::prelude::*;
use kern_core::ModelRequest;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

fn tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Get the weather of a city.",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city"},
                "days": {"type": "integer", "description": "How many days ahead"}
            },
            "required": ["city"]
        }),
    )
}

/// A short conversation: a question, a call, its result, a follow-up.
fn messages() -> Vec<Message> {
    vec![
        Message::user("What's the weather in Oslo this week?"),
        Message::assistant(
            None,
            vec![kern_core::ToolCall::new(
                "call_unLAR8MvFNptuiZK6K6HCy5k",
                "get_weather",
                r#"{"city":"Oslo","days":7}"#,
            )],
        ),
        Message::tool_result(
            "call_unLAR8MvFNptuiZK6K6HCy5k",
            "get_weather",
            "Mon 4°C rain, Tue 6°C cloudy, Wed 8°C sun, Thu 7°C sun, Fri 5°C rain",
        ),
        Message::user("And in Rome?"),
    ]
}

/// A realistic non-streamed answer: a function call, with the fields kern ignores.
fn answer() -> Value {
    json!({
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": "You are terse.",
        "max_output_tokens": null,
        "model": "gpt-4.1-mini-2025-04-14",
        "output": [{
            "type": "function_call",
            "id": "fc_67ca09c6bedc8190a7abfec07b1a1332",
            "call_id": "call_b7KZmYnUvMYWGIVtWxn9rQ0T",
            "name": "get_weather",
            "arguments": "{\"city\":\"Rome\",\"days\":7}",
            "status": "completed"
        }],
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": false,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 120,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 24,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 144
        },
        "user": null,
        "metadata": {}
    })
}

fn event(out: &mut String, n: &mut usize, name: &str, mut data: Value) {
    data["type"] = json!(name);
    data["sequence_number"] = json!(*n);
    *n += 1;
    out.push_str("event: ");
    out.push_str(name);
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

/// A long streamed text answer: `deltas` text deltas of a few words each.
fn long_text_stream(deltas: usize) -> String {
    let (mut out, mut n) = (String::new(), 0);
    let id = "msg_67c9fdcf37fc8190ba82116e33fb28c5";
    event(
        &mut out,
        &mut n,
        "response.created",
        json!({"response": {"id": "resp_1", "status": "in_progress", "output": []}}),
    );
    event(
        &mut out,
        &mut n,
        "response.output_item.added",
        json!({"output_index": 0, "item": {"id": id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
    );
    for i in 0..deltas {
        let delta = if i % 7 == 0 {
            " «très» bien,"
        } else {
            " the weather"
        };
        event(
            &mut out,
            &mut n,
            "response.output_text.delta",
            json!({"item_id": id, "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
        );
    }
    event(
        &mut out,
        &mut n,
        "response.completed",
        json!({"response": {"id": "resp_1", "status": "completed", "output": [], "usage": {"input_tokens": 100, "output_tokens": deltas}}}),
    );
    out
}

/// A streamed function call whose arguments come in `deltas` pieces.
fn long_call_stream(deltas: usize) -> String {
    let (mut out, mut n) = (String::new(), 0);
    let id = "fc_67ca09c6bedc8190a7abfec07b1a1332";
    event(
        &mut out,
        &mut n,
        "response.output_item.added",
        json!({"output_index": 0, "item": {"type": "function_call", "id": id, "call_id": "call_1", "name": "write_file", "arguments": ""}}),
    );
    event(
        &mut out,
        &mut n,
        "response.function_call_arguments.delta",
        json!({"item_id": id, "output_index": 0, "delta": "{\"text\":\""}),
    );
    for _ in 0..deltas {
        event(
            &mut out,
            &mut n,
            "response.function_call_arguments.delta",
            json!({"item_id": id, "output_index": 0, "delta": "lorem ipsum "}),
        );
    }
    event(
        &mut out,
        &mut n,
        "response.function_call_arguments.delta",
        json!({"item_id": id, "output_index": 0, "delta": "\"}"}),
    );
    event(
        &mut out,
        &mut n,
        "response.completed",
        json!({"response": {"id": "resp_2", "status": "completed", "output": [], "usage": {"input_tokens": 100, "output_tokens": deltas}}}),
    );
    out
}

fn model(uri: &str) -> OpenAiResponses {
    OpenAiResponses::new("gpt-4.1-mini")
        .api_key("sk-bench")
        .base_url(format!("{uri}/v1"))
}

fn turn(c: &mut Criterion) {
    let (messages, tool) = (messages(), tool());
    let request = ModelRequest {
        instructions: Some("You are terse."),
        messages: &messages,
        tools: &[&tool],
    };
    let answer = ResponseTemplate::new(200).set_body_json(answer());
    common::turn(c, "openai_responses", model, request, answer);
}

fn stream(c: &mut Criterion) {
    let messages = [Message::user("Tell me about the weather.")];
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &[],
    };
    let cases = [
        ("text_20k_deltas", long_text_stream(20_000)),
        ("call_arguments_20k_deltas", long_call_stream(20_000)),
    ];
    common::stream(
        c,
        "openai_responses",
        model,
        request,
        &cases,
        |case, done| {
            let expected_calls = usize::from(case.starts_with("call"));
            assert_eq!(done.tool_calls.len(), expected_calls, "{case}");
        },
    );
}

criterion_group!(benches, turn, stream);
criterion_main!(benches);
