//! `OpenAiChat` benches against a loopback wiremock server (no network):
//! - one non-streamed turn through `OpenAiChat::invoke` next to a bare `reqwest::Client` POST of
//!   the same body to the same mock (kern's overhead: building the body, the typed parse);
//! - a long streamed answer through `OpenAiChat::invoke_stream` (SSE decoding, chunk parsing,
//!   tool-call assembly) in MB/s, next to a bare download of the same body.
//!
//! `cargo bench --bench provider_openai_chat -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kern::model::OpenAiChat;
use kern::{Message, ModelRequest, ToolCall, ToolDefinition};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

fn tools() -> Vec<ToolDefinition> {
    ["get_weather", "search_docs", "execute_shell_command"]
        .into_iter()
        .map(|name| {
            ToolDefinition::new(
                name,
                format!("The {name} tool: does what its name says, for the benchmark."),
                json!({
                    "type": "object",
                    "properties": {
                        "query": { "type": "string", "description": "What to look for" },
                        "limit": { "type": ["integer", "null"], "minimum": 1 }
                    },
                    "required": ["query"]
                }),
            )
        })
        .collect()
}

/// A conversation of a few turns with tool calls and results.
fn conversation() -> Vec<Message> {
    let mut messages = vec![Message::user(
        "Find the deployment docs, check the weather in Oslo and list the files here.",
    )];
    for turn in 0..3 {
        let id = format!("call_{turn}");
        messages.push(Message::assistant(
            None,
            vec![ToolCall::new(
                &id,
                "search_docs",
                format!(r#"{{"query":"deployment part {turn}","limit":5}}"#),
            )],
        ));
        messages.push(Message::tool_result(
            id,
            "search_docs",
            "Deployment: build the image, push it, roll it out. ".repeat(8),
        ));
    }
    messages
}

fn completion() -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    { "id": "call_a", "type": "function",
                      "function": { "name": "get_weather", "arguments": "{\"query\":\"Oslo\"}" } },
                    { "id": "call_b", "type": "function",
                      "function": { "name": "execute_shell_command", "arguments": "{\"query\":\"ls -la\"}" } }
                ],
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "tool_calls"
        }],
        "usage": { "prompt_tokens": 812, "completion_tokens": 41, "total_tokens": 853 },
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306"
    })
}

/// A long streamed answer: `pieces` text deltas, then a tool call whose arguments come in
/// `pieces / 4` deltas, the usage chunk and `[DONE]`, as OpenAI streams them.
fn long_stream(pieces: usize) -> String {
    let chunk = |delta: Value, finish: Value| {
        let chunk = json!({
            "id": "chatcmpl-123",
            "object": "chat.completion.chunk",
            "created": 1694268190,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
            "usage": null
        });
        format!("data: {chunk}\n\n")
    };
    let mut body = chunk(json!({ "role": "assistant", "content": "" }), Value::Null);
    for i in 0..pieces {
        let text = if i % 10 == 0 {
            " naïve café 🚀"
        } else {
            " word"
        };
        body += &chunk(json!({ "content": text }), Value::Null);
    }
    body += &chunk(
        json!({ "tool_calls": [{ "index": 0, "id": "call_x", "type": "function",
                                 "function": { "name": "search_docs", "arguments": "" } }] }),
        Value::Null,
    );
    body += &chunk(
        json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"query\":\"" } }] }),
        Value::Null,
    );
    for _ in 0..pieces / 4 {
        body += &chunk(
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "abc " } }] }),
            Value::Null,
        );
    }
    body += &chunk(
        json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "\"}" } }] }),
        Value::Null,
    );
    body += &chunk(json!({}), json!("tool_calls"));
    body += "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":5000,\"total_tokens\":5020}}\n\n";
    body += "data: [DONE]\n\n";
    body
}

fn model(uri: &str) -> OpenAiChat {
    OpenAiChat::new("gpt-4o-mini")
        .base_url(format!("{uri}/v1"))
        .api_key("sk-bench")
        .max_retries(0)
}

fn turn(c: &mut Criterion) {
    let tools = tools();
    let tool_refs: Vec<&ToolDefinition> = tools.iter().collect();
    let messages = conversation();
    let request = ModelRequest {
        instructions: Some("You are a careful operations assistant."),
        messages: &messages,
        tools: &tool_refs,
    };
    let answer = ResponseTemplate::new(200).set_body_json(completion());
    common::turn(c, "openai_chat", model, request, answer);
}

fn stream(c: &mut Criterion) {
    let messages = [Message::user("Write a long answer.")];
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &[],
    };
    let cases = [("text_and_call_20k_deltas", long_stream(20_000))];
    common::stream(c, "openai_chat", model, request, &cases, |_, done| {
        assert_eq!(done.tool_calls.len(), 1);
        assert!(done.content.as_ref().is_some_and(|c| c.len() > 100_000));
    });
}

criterion_group!(benches, turn, stream);
criterion_main!(benches);
