//! `Anthropic` against a loopback mock of the Messages API: the time of one non-streamed turn next
//! to a bare `reqwest` POST of the same body to the same mock (kern's overhead: building the
//! body from the conversation, the headers, parsing the answer), and the throughput of a long
//! streamed answer through kern's SSE handling next to reading the same bytes with bare
//! `reqwest`.
//!
//! `cargo bench --bench provider_anthropic -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kern::model::Anthropic;
use kern::{Message, Model, ModelEvent, ModelRequest, ToolCall, ToolDefinition};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
        Message::Tool {
            tool_call_id: "toolu_01".into(),
            tool_name: "get_weather".into(),
            content: "Paris: 14°C, light rain, wind 20 km/h from the west".into(),
            is_error: false,
        },
        Message::Tool {
            tool_call_id: "toolu_02".into(),
            tool_name: "get_weather".into(),
            content: "Rome: 22°C, sunny, wind 5 km/h".into(),
            is_error: false,
        },
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

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
            .mount(&server)
            .await;
        server
    });
    let model = Anthropic::new("claude-sonnet-4-5")
        .api_key(KEY)
        .base_url(server.uri());
    let messages = conversation();
    let tools = tools();
    let tool_refs: Vec<&ToolDefinition> = tools.iter().collect();
    let request = ModelRequest {
        instructions: Some("You are a helpful weather assistant. Answer briefly."),
        messages: &messages,
        tools: &tool_refs,
    };
    // The body kern sends, for the bare POST: one request recorded by a second mock server.
    let body = rt.block_on(async {
        let recorder = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
            .mount(&recorder)
            .await;
        let recorded = Anthropic::new("claude-sonnet-4-5")
            .api_key(KEY)
            .base_url(recorder.uri());
        recorded.invoke(request).await.unwrap();
        recorder.received_requests().await.unwrap()[0].body.clone()
    });
    let client = reqwest::Client::new();
    let url = format!("{}/v1/messages", server.uri());

    // The three variants as futures, for criterion and for the paired measurement below.
    let timed_client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let kern_turn = || async {
        black_box(model.invoke(request).await.unwrap());
    };
    let bare_turn = |client: &reqwest::Client, timeout: Option<Duration>| {
        let mut post = client
            .post(&url)
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(timeout) = timeout {
            post = post.timeout(timeout);
        }
        async move {
            black_box(post.send().await.unwrap().bytes().await.unwrap());
        }
    };

    // Paired: the variants take turns, so the load of a shared machine weighs on each alike.
    {
        const PAIRS: usize = 3000;
        let mut times: [Vec<Duration>; 3] = Default::default();
        for i in 0..PAIRS {
            for k in 0..3 {
                let which = (i + k) % 3;
                let started = std::time::Instant::now();
                match which {
                    0 => rt.block_on(kern_turn()),
                    1 => rt.block_on(bare_turn(&client, None)),
                    _ => rt.block_on(bare_turn(&timed_client, Some(Duration::from_secs(120)))),
                }
                times[which].push(started.elapsed());
            }
        }
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let [kern, bare, timed] = &mut times;
        let (kern, bare, timed) = (median(kern), median(bare), median(timed));
        eprintln!(
            "paired medians over {PAIRS} rounds: kern_invoke {kern:?}, bare_reqwest_post {bare:?} \
             (kern +{:.1}%), bare_reqwest_post_with_timeouts {timed:?} (kern +{:.1}%)",
            (kern.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0,
            (kern.as_secs_f64() / timed.as_secs_f64() - 1.0) * 100.0,
        );
    }

    let mut group = c.benchmark_group("anthropic_turn");
    group.bench_function("kern_invoke", |b| b.iter(|| rt.block_on(kern_turn())));
    group.bench_function("bare_reqwest_post", |b| {
        b.iter(|| rt.block_on(bare_turn(&client, None)))
    });
    // With the timeouts kern's client sets (its defaults): what the settings cost.
    group.bench_function("bare_reqwest_post_with_timeouts", |b| {
        b.iter(|| rt.block_on(bare_turn(&timed_client, Some(Duration::from_secs(120)))))
    });
    group.finish();

    // A long streamed answer.
    let stream_body = long_stream(20_000);
    let stream_server = rt.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(stream_body.clone(), "text/event-stream"),
            )
            .mount(&server)
            .await;
        server
    });
    let stream_model = Anthropic::new("claude-sonnet-4-5")
        .api_key(KEY)
        .base_url(stream_server.uri());
    let stream_url = format!("{}/v1/messages", stream_server.uri());
    let mut group = c.benchmark_group("anthropic_sse");
    group.throughput(Throughput::Bytes(stream_body.len() as u64));
    group.sample_size(20);
    group.bench_function("kern_invoke_stream", |b| {
        b.iter(|| {
            let (deltas, completed) = rt.block_on(async {
                let mut events = stream_model.invoke_stream(request);
                let mut deltas = 0usize;
                let mut completed = None;
                while let Some(event) = events.next().await {
                    match event.unwrap() {
                        ModelEvent::ContentDelta(text) => deltas += text.len(),
                        ModelEvent::Completed(response) => completed = Some(response),
                    }
                }
                (deltas, completed)
            });
            assert!(completed.is_some());
            black_box(deltas);
        })
    });
    group.bench_function("bare_reqwest_read", |b| {
        b.iter(|| {
            let read = rt.block_on(async {
                let mut response = client
                    .post(&stream_url)
                    .header("x-api-key", KEY)
                    .header("anthropic-version", "2023-06-01")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let mut read = 0usize;
                while let Some(chunk) = response.chunk().await.unwrap() {
                    read += chunk.len();
                }
                read
            });
            black_box(read);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
