//! `OpenAiChat` benches against a loopback wiremock server (no network):
//! - one non-streamed turn through `OpenAiChat::invoke` next to a bare `reqwest::Client` POST of
//!   the same body to the same mock (kern's overhead: building the body, the typed parse);
//! - a long streamed answer through `OpenAiChat::invoke_stream` (SSE decoding, chunk parsing,
//!   tool-call assembly) in MB/s, next to a bare download of the same body.
//!
//! `cargo bench --bench provider_openai_chat -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kern::model::{ModelEvent, OpenAiChat};
use kern::{Message, Model, ModelRequest, ToolCall, ToolDefinition};
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

async fn server(path_: &str, response: ResponseTemplate) -> MockServer {
    // No request log: it would grow with every iteration.
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("POST"))
        .and(path(path_))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

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
        messages.push(Message::Tool {
            tool_call_id: id,
            tool_name: "search_docs".into(),
            content: "Deployment: build the image, push it, roll it out. ".repeat(8),
            is_error: false,
        });
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

fn model(server: &MockServer) -> OpenAiChat {
    OpenAiChat::new("gpt-4o-mini")
        .base_url(format!("{}/v1", server.uri()))
        .api_key("sk-bench")
        .max_retries(0)
}

fn turn(c: &mut Criterion) {
    let rt = runtime();
    let server = rt.block_on(server(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_json(completion()),
    ));
    let model = model(&server);
    let tools = tools();
    let tool_refs: Vec<&ToolDefinition> = tools.iter().collect();
    let messages = conversation();
    let request = || ModelRequest {
        instructions: Some("You are a careful operations assistant."),
        messages: &messages,
        tools: &tool_refs,
    };

    // The body kern sends, for the bare POST: the same bytes to the same mock.
    let body = {
        let recorder = rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(200).set_body_json(completion()))
                .mount(&server)
                .await;
            server
        });
        rt.block_on(self::model(&recorder).invoke(request()))
            .unwrap();
        let received = rt.block_on(recorder.received_requests()).unwrap();
        received[0].body.clone()
    };
    let url = format!("{}/v1/chat/completions", server.uri());
    let client = reqwest::Client::new();
    // The same client settings kern uses (its default timeouts): separates what reqwest's
    // timeout machinery costs from what kern's own code does.
    let settings = model.settings();
    let timed_client = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.read_timeout)
        .build()
        .unwrap();
    let timeout = settings.timeout;

    let mut group = c.benchmark_group("openai_chat_turn");
    group.throughput(Throughput::Elements(1));
    group.bench_function("kern_invoke", |b| {
        b.iter(|| {
            let answer = rt.block_on(model.invoke(request())).unwrap();
            black_box(answer)
        })
    });
    group.bench_function("bare_reqwest_post", |b| {
        b.iter(|| {
            let bytes = rt.block_on(async {
                client
                    .post(&url)
                    .bearer_auth("sk-bench")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            black_box(bytes)
        })
    });
    group.bench_function("bare_reqwest_post_kern_timeouts", |b| {
        b.iter(|| {
            let bytes = rt.block_on(async {
                timed_client
                    .post(&url)
                    .bearer_auth("sk-bench")
                    .header("content-type", "application/json")
                    .timeout(timeout)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            black_box(bytes)
        })
    });
    group.finish();

    // The machine is shared and its load changes from one criterion bench to the next: measure
    // the three side by side as well, in alternating batches, and compare the medians.
    let batch = 200u32;
    let rounds = 31;
    let bare = |client: &reqwest::Client, timeout: Option<Duration>| {
        let mut post = client
            .post(&url)
            .bearer_auth("sk-bench")
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(timeout) = timeout {
            post = post.timeout(timeout);
        }
        post
    };
    let mut times: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds {
        let started = std::time::Instant::now();
        rt.block_on(async {
            for _ in 0..batch {
                black_box(model.invoke(request()).await.unwrap());
            }
        });
        times[0].push(started.elapsed() / batch);
        for (slot, (client, timeout)) in [(&client, None), (&timed_client, Some(timeout))]
            .into_iter()
            .enumerate()
        {
            let started = std::time::Instant::now();
            rt.block_on(async {
                for _ in 0..batch {
                    let response = bare(client, timeout).send().await.unwrap();
                    black_box(response.bytes().await.unwrap());
                }
            });
            times[slot + 1].push(started.elapsed() / batch);
        }
    }
    let [kern, plain, timed] = times.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    });
    let overhead = |base: Duration| (kern.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0;
    println!(
        "openai_chat_turn paired medians ({rounds} rounds of {batch}): kern_invoke {kern:?}, \
         bare_reqwest_post {plain:?} (kern {:+.1}%), bare_reqwest_post_kern_timeouts {timed:?} \
         (kern {:+.1}%)",
        overhead(plain),
        overhead(timed)
    );
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

fn stream(c: &mut Criterion) {
    let rt = runtime();
    let body = long_stream(20_000);
    let server = rt.block_on(server(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_raw(body.clone(), "text/event-stream"),
    ));
    let model = model(&server);
    let messages = [Message::user("Write a long answer.")];
    let url = format!("{}/v1/chat/completions", server.uri());
    let client = reqwest::Client::new();

    // Once, to check the stream is whole before timing it.
    let events: Vec<_> = rt.block_on(
        model
            .invoke_stream(ModelRequest {
                instructions: None,
                messages: &messages,
                tools: &[],
            })
            .collect(),
    );
    match events.last() {
        Some(Ok(ModelEvent::Completed(done))) => {
            assert_eq!(done.tool_calls.len(), 1);
            assert!(done.content.as_ref().is_some_and(|c| c.len() > 100_000));
        }
        other => panic!("the bench stream did not complete: {other:?}"),
    }

    let mut group = c.benchmark_group("openai_chat_stream");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(20);
    group.bench_function("kern_invoke_stream", |b| {
        b.iter(|| {
            let count = rt.block_on(async {
                let mut stream = model.invoke_stream(ModelRequest {
                    instructions: None,
                    messages: &messages,
                    tools: &[],
                });
                let mut count = 0usize;
                while let Some(event) = stream.next().await {
                    black_box(event.unwrap());
                    count += 1;
                }
                count
            });
            black_box(count)
        })
    });
    group.bench_function("bare_reqwest_download", |b| {
        b.iter(|| {
            let bytes = rt.block_on(async {
                client
                    .post(&url)
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            black_box(bytes)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = turn, stream
}
criterion_main!(benches);
