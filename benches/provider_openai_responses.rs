//! `OpenAiResponses` against a loopback mock of the Responses API: the time of one non-streamed
//! turn next to a bare `reqwest` POST of the same body to the same mock (kern's overhead), and
//! the throughput of a long streamed answer (SSE decoding and event assembly, over loopback).
//!
//! `cargo bench --bench provider_openai_responses -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kern::prelude::*;
use kern_core::{ModelEvent, ModelRequest};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

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
        Message::Tool {
            tool_call_id: "call_unLAR8MvFNptuiZK6K6HCy5k".into(),
            tool_name: "get_weather".into(),
            content: "Mon 4°C rain, Tue 6°C cloudy, Wed 8°C sun, Thu 7°C sun, Fri 5°C rain".into(),
            is_error: false,
        },
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

fn turn(c: &mut Criterion) {
    let rt = runtime();
    let (server, body) = rt.block_on(async {
        // The body kern sends, captured once by a recording mock.
        let recorder = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
            .mount(&recorder)
            .await;
        let model = OpenAiResponses::new("gpt-4.1-mini")
            .api_key("sk-bench")
            .base_url(format!("{}/v1", recorder.uri()));
        let (messages, tool) = (messages(), tool());
        model
            .invoke(ModelRequest {
                instructions: Some("You are terse."),
                messages: &messages,
                tools: &[&tool],
            })
            .await
            .unwrap();
        let body = recorder.received_requests().await.unwrap()[0].body.clone();

        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/responses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
            .mount(&server)
            .await;
        (server, body)
    });
    let url = format!("{}/v1/responses", server.uri());
    let model = OpenAiResponses::new("gpt-4.1-mini")
        .api_key("sk-bench")
        .base_url(format!("{}/v1", server.uri()));
    let (messages, tool) = (messages(), tool());
    let client = reqwest::Client::new();

    let mut group = c.benchmark_group("openai_responses_turn");
    group.bench_function("kern_invoke", |b| {
        b.iter(|| {
            rt.block_on(async {
                let turn = model
                    .invoke(ModelRequest {
                        instructions: Some("You are terse."),
                        messages: &messages,
                        tools: &[&tool],
                    })
                    .await
                    .unwrap();
                black_box(turn)
            })
        })
    });
    group.bench_function("bare_reqwest_post", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = client
                    .post(&url)
                    .header("authorization", "Bearer sk-bench")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                black_box(response.bytes().await.unwrap())
            })
        })
    });
    // The same, with kern's default timeouts (connect 10 s, read 60 s, whole request 120 s):
    // how much of the difference is the timers reqwest then arms.
    let timed = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    group.bench_function("bare_reqwest_post_with_timeouts", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = timed
                    .post(&url)
                    .header("authorization", "Bearer sk-bench")
                    .header("content-type", "application/json")
                    .timeout(std::time::Duration::from_secs(120))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                black_box(response.bytes().await.unwrap())
            })
        })
    });
    group.finish();
}

fn stream(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("openai_responses_stream");
    for (name, body) in [
        ("text_20k_deltas", long_text_stream(20_000)),
        ("call_arguments_20k_deltas", long_call_stream(20_000)),
    ] {
        let server = rt.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(method("POST"))
                .and(path("/v1/responses"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_raw(body.clone(), "text/event-stream"),
                )
                .mount(&server)
                .await;
            server
        });
        let model = OpenAiResponses::new("gpt-4.1-mini")
            .api_key("sk-bench")
            .base_url(format!("{}/v1", server.uri()));
        let messages = [Message::user("Tell me about the weather.")];
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut events = model.invoke_stream(ModelRequest {
                        instructions: None,
                        messages: &messages,
                        tools: &[],
                    });
                    let mut last = None;
                    while let Some(event) = events.next().await {
                        last = Some(event.unwrap());
                    }
                    assert!(matches!(last, Some(ModelEvent::Completed(_))));
                    black_box(last)
                })
            })
        });
        if name.starts_with("text") {
            // The download alone, for reference: the same body read by a bare client.
            let client = reqwest::Client::new();
            let url = format!("{}/v1/responses", server.uri());
            group.bench_function("text_20k_deltas_bare_download", |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let response = client.post(&url).body("{}").send().await.unwrap();
                        black_box(response.bytes().await.unwrap())
                    })
                })
            });
        }
        drop(server);
    }
    group.finish();
}

criterion_group!(benches, turn, stream);
criterion_main!(benches);
