//! `Anthropic` against a local mock of the Messages API (no network, no key): what kern sends
//! (body and headers) and what it makes of the answers, streamed and not, errors and retries, and
//! whole agent runs through the pause/continue loop.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use kern_core::model::Anthropic;
use kern_core::{
    Agent, Error, Message, Model, ModelError, ModelEvent, ModelRequest, ModelResponse, RunStatus,
    ToolCall, ToolDefinition, Usage,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const MODEL: &str = "claude-sonnet-4-5";
const KEY: &str = "sk-ant-test-key";

fn model(server: &MockServer) -> Anthropic {
    Anthropic::new(MODEL)
        .api_key(KEY)
        .base_url(server.uri())
        .backoff(Duration::from_millis(1), Duration::from_millis(20))
}

/// A Messages API response, as the API sends it.
fn message(content: Value, stop_reason: &str, input: u64, output: u64) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {
            "input_tokens": input,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output,
            "service_tier": "standard"
        }
    })
}

fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// An SSE body: `event:` and `data:` per event, as the API streams them. A `(":", text)` pair is
/// a comment line (a keep-alive).
fn sse(events: &[(&str, Value)]) -> String {
    let mut body = String::new();
    for (name, data) in events {
        if *name == ":" {
            body.push_str(&format!(": {}\n\n", data.as_str().unwrap()));
        } else {
            body.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        }
    }
    body
}

fn ok_sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn message_start(input_tokens: u64) -> (&'static str, Value) {
    (
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 1}
        }}),
    )
}

fn text_start(index: u64) -> (&'static str, Value) {
    (
        "content_block_start",
        json!({"type": "content_block_start", "index": index,
               "content_block": {"type": "text", "text": ""}}),
    )
}

fn text_delta(index: u64, text: &str) -> (&'static str, Value) {
    (
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index,
               "delta": {"type": "text_delta", "text": text}}),
    )
}

fn tool_start(index: u64, id: &str, name: &str) -> (&'static str, Value) {
    (
        "content_block_start",
        json!({"type": "content_block_start", "index": index,
               "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
    )
}

fn json_delta(index: u64, piece: &str) -> (&'static str, Value) {
    (
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index,
               "delta": {"type": "input_json_delta", "partial_json": piece}}),
    )
}

fn block_stop(index: u64) -> (&'static str, Value) {
    (
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}

fn message_delta(stop_reason: &str, output_tokens: u64) -> (&'static str, Value) {
    (
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": output_tokens}}),
    )
}

fn ping() -> (&'static str, Value) {
    ("ping", json!({"type": "ping"}))
}

fn message_stop() -> (&'static str, Value) {
    ("message_stop", json!({"type": "message_stop"}))
}

/// A streamed text answer.
fn streamed_text(text: &str, input: u64, output: u64) -> String {
    sse(&[
        message_start(input),
        text_start(0),
        text_delta(0, text),
        block_stop(0),
        message_delta("end_turn", output),
        message_stop(),
    ])
}

/// Answers in turn, repeating the last.
struct Sequence {
    responses: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Sequence {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        Sequence {
            responses,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.responses[i.min(self.responses.len() - 1)].clone()
    }
}

async fn mount(server: &MockServer, responder: impl Respond + 'static) {
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(responder)
        .mount(server)
        .await;
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json::<Value>().unwrap())
        .collect()
}

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Get the current weather in a given location",
        json!({
            "type": "object",
            "properties": {"location": {"type": "string", "description": "The city"}},
            "required": ["location"]
        }),
    )
}

fn weather_tool_json() -> Value {
    json!({
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "The city"}},
            "required": ["location"]
        }
    })
}

async fn invoke(
    model: &Anthropic,
    messages: &[Message],
    tools: &[&ToolDefinition],
) -> Result<ModelResponse, ModelError> {
    model
        .invoke(ModelRequest {
            instructions: Some("You are a weather bot."),
            messages,
            tools,
        })
        .await
}

async fn invoke_stream(
    model: &Anthropic,
    messages: &[Message],
    tools: &[&ToolDefinition],
) -> Vec<Result<ModelEvent, ModelError>> {
    model
        .invoke_stream(ModelRequest {
            instructions: Some("You are a weather bot."),
            messages,
            tools,
        })
        .collect()
        .await
}

// ---------------------------------------------------------------------------------------------
// Non-streamed

#[tokio::test]
async fn one_tool_call_with_the_exact_request_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .respond_with(ok_json(message(
            json!([
                {"type": "text", "text": "I'll check the weather in Paris."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                 "name": "get_weather", "input": {"location": "Paris"}}
            ]),
            "tool_use",
            384,
            72,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let tool = weather_tool();
    let response = invoke(
        &model(&server).max_tokens(1024).temperature(0.5),
        &[Message::user("What's the weather in Paris?")],
        &[&tool],
    )
    .await
    .unwrap();
    assert_eq!(
        response,
        ModelResponse {
            content: Some("I'll check the weather in Paris.".into()),
            tool_calls: vec![ToolCall::new(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                r#"{"location":"Paris"}"#
            )],
            usage: Usage {
                input_tokens: 384,
                output_tokens: 72
            },
        }
    );
    assert_eq!(
        bodies(&server).await,
        vec![json!({
            "model": MODEL,
            "max_tokens": 1024,
            "system": "You are a weather bot.",
            "temperature": 0.5,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What's the weather in Paris?"}]}
            ],
            "tools": [weather_tool_json()]
        })]
    );
}

#[tokio::test]
async fn parallel_tool_calls_and_their_results_in_one_user_message() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(message(
            json!([
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
                 "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "toolu_02", "name": "get_weather",
                 "input": {"location": "Tōkyō 東京"}}
            ]),
            "tool_use",
            10,
            20,
        )),
    )
    .await;
    let tool = weather_tool();
    // A history with an earlier round of two parallel calls, one result an error, and one call
    // whose arguments were malformed.
    let history = [
        Message::user("Weather in Oslo and Rome?"),
        Message::assistant(
            None,
            vec![
                ToolCall::new("toolu_a", "get_weather", r#"{"location": "Oslo"}"#),
                ToolCall::new("toolu_b", "get_weather", r#"{"location": "Rome"#),
            ],
        ),
        Message::tool_result("toolu_a", "get_weather", "-3°C, snow"),
        Message::tool_error(
            "toolu_b",
            "get_weather",
            "invalid arguments: not valid JSON",
        ),
        Message::user("Now Paris and Tokyo."),
    ];
    let response = invoke(&model(&server), &history, &[&tool]).await.unwrap();
    assert_eq!(response.content, None);
    assert_eq!(
        response.tool_calls,
        vec![
            ToolCall::new("toolu_01", "get_weather", r#"{"location":"Paris"}"#),
            ToolCall::new("toolu_02", "get_weather", r#"{"location":"Tōkyō 東京"}"#),
        ]
    );
    assert_eq!(
        bodies(&server).await[0]["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo and Rome?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"location": "Oslo"}},
                {"type": "tool_use", "id": "toolu_b", "name": "get_weather",
                 "input": {"_raw_arguments": "{\"location\": \"Rome"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "-3°C, snow"},
                {"type": "tool_result", "tool_use_id": "toolu_b",
                 "content": "invalid arguments: not valid JSON", "is_error": true},
                {"type": "text", "text": "Now Paris and Tokyo."}
            ]}
        ])
    );
}

#[tokio::test]
async fn a_text_answer() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(message(
            json!([{"type": "text", "text": "Hi! How can I help?"}]),
            "end_turn",
            12,
            8,
        )),
    )
    .await;
    let response = invoke(&model(&server), &[Message::user("Hello")], &[])
        .await
        .unwrap();
    assert_eq!(response.content.as_deref(), Some("Hi! How can I help?"));
    assert!(response.tool_calls.is_empty());
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 12,
            output_tokens: 8
        }
    );
    // No tools: no `tools` key.
    assert!(bodies(&server).await[0].get("tools").is_none());
}

#[tokio::test]
async fn a_response_without_content_is_invalid() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(json!({"id": "msg_1", "type": "message", "role": "assistant"})),
    )
    .await;
    let error = invoke(&model(&server), &[Message::user("Hello")], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ModelError::InvalidResponse { ref provider, .. } if provider == "anthropic"),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Streamed

#[tokio::test]
async fn streamed_text_with_pings_keep_alives_and_multibyte_text() {
    let server = MockServer::start().await;
    let body = sse(&[
        message_start(25),
        text_start(0),
        ping(),
        (":", json!("keep-alive")),
        text_delta(0, "Héllo, "),
        (":", json!("keep-alive")),
        text_delta(0, "wörld 🌍"),
        ping(),
        text_delta(0, "!"),
        block_stop(0),
        message_delta("end_turn", 15),
        message_stop(),
    ]);
    mount(&server, ok_sse(body)).await;
    let events = invoke_stream(&model(&server), &[Message::user("Hi")], &[]).await;
    let events: Vec<ModelEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        events,
        vec![
            ModelEvent::ContentDelta("Héllo, ".into()),
            ModelEvent::ContentDelta("wörld 🌍".into()),
            ModelEvent::ContentDelta("!".into()),
            ModelEvent::Completed(ModelResponse {
                content: Some("Héllo, wörld 🌍!".into()),
                tool_calls: vec![],
                usage: Usage {
                    input_tokens: 25,
                    output_tokens: 15
                },
            }),
        ]
    );
    let sent = &bodies(&server).await[0];
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["max_tokens"], json!(4096));
    assert_eq!(sent["system"], json!("You are a weather bot."));
}

#[tokio::test]
async fn streamed_tool_calls_split_and_interleaved() {
    let server = MockServer::start().await;
    let body = sse(&[
        message_start(472),
        text_start(0),
        text_delta(0, "Checking both."),
        block_stop(0),
        tool_start(1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        json_delta(1, ""),
        tool_start(2, "toolu_02Bq4sX8", "get_weather"),
        json_delta(1, "{\"locat"),
        json_delta(2, "{\"location\": \"Sã"),
        ping(),
        json_delta(1, "ion\": \"San Fra"),
        json_delta(2, "o Paulo\", \"unit\": \"°C\"}"),
        json_delta(1, "ncisco, CA\"}"),
        block_stop(2),
        block_stop(1),
        message_delta("tool_use", 89),
        message_stop(),
    ]);
    mount(&server, ok_sse(body)).await;
    let tool = weather_tool();
    let events = invoke_stream(&model(&server), &[Message::user("SF and SP?")], &[&tool]).await;
    let events: Vec<ModelEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        events,
        vec![
            ModelEvent::ContentDelta("Checking both.".into()),
            ModelEvent::Completed(ModelResponse {
                content: Some("Checking both.".into()),
                tool_calls: vec![
                    ToolCall::new(
                        "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                        "get_weather",
                        r#"{"location": "San Francisco, CA"}"#
                    ),
                    ToolCall::new(
                        "toolu_02Bq4sX8",
                        "get_weather",
                        r#"{"location": "São Paulo", "unit": "°C"}"#
                    ),
                ],
                usage: Usage {
                    input_tokens: 472,
                    output_tokens: 89
                },
            }),
        ]
    );
    let sent = &bodies(&server).await[0];
    assert_eq!(sent["tools"], json!([weather_tool_json()]));
    assert_eq!(sent["stream"], json!(true));
}

#[tokio::test]
async fn a_streamed_tool_call_without_input_has_empty_object_arguments() {
    let server = MockServer::start().await;
    let body = sse(&[
        message_start(5),
        tool_start(0, "toolu_now", "now"),
        json_delta(0, ""),
        block_stop(0),
        message_delta("tool_use", 3),
        message_stop(),
    ]);
    mount(&server, ok_sse(body)).await;
    let events = invoke_stream(&model(&server), &[Message::user("Time?")], &[]).await;
    let Some(Ok(ModelEvent::Completed(response))) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(
        response.tool_calls,
        vec![ToolCall::new("toolu_now", "now", "{}")]
    );
}

#[tokio::test]
async fn an_error_event_in_the_stream_is_a_typed_error() {
    let server = MockServer::start().await;
    let body = sse(&[
        message_start(25),
        text_start(0),
        text_delta(0, "Partial"),
        (
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
    ]);
    mount(&server, ok_sse(body)).await;
    let events = invoke_stream(&model(&server), &[Message::user("Hi")], &[]).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0].as_ref().unwrap(),
        &ModelEvent::ContentDelta("Partial".into())
    );
    match &events[1] {
        Err(ModelError::Api {
            provider,
            code,
            message,
        }) => {
            assert_eq!(provider, "anthropic");
            assert_eq!(code.as_deref(), Some("overloaded_error"));
            assert_eq!(message, "Overloaded");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_stream_is_an_error_not_a_shorter_answer() {
    let server = MockServer::start().await;
    // Everything but `message_stop`; then a cut in the middle of an event.
    let mut body = sse(&[
        message_start(25),
        text_start(0),
        text_delta(0, "The answer is"),
        block_stop(0),
        message_delta("end_turn", 4),
    ]);
    body.push_str("event: message_st");
    mount(&server, ok_sse(body)).await;
    let events = invoke_stream(&model(&server), &[Message::user("Hi")], &[]).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(&events[0], Ok(ModelEvent::ContentDelta(t)) if t == "The answer is"));
    match &events[1] {
        Err(ModelError::InvalidResponse { message, .. }) => {
            assert!(message.contains("ended early"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_overloaded_stream_request_is_retried() {
    let server = MockServer::start().await;
    let overloaded = ResponseTemplate::new(529).set_body_json(json!({
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"}
    }));
    mount(
        &server,
        Sequence::new(vec![overloaded, ok_sse(streamed_text("Fine.", 3, 2))]),
    )
    .await;
    let events = invoke_stream(&model(&server), &[Message::user("Hi")], &[]).await;
    assert!(
        matches!(events.last(), Some(Ok(ModelEvent::Completed(r))) if r.content.as_deref() == Some("Fine.")),
        "{events:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// HTTP failures

#[tokio::test]
async fn a_400_carries_the_providers_message_and_is_not_retried() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages: roles must alternate between \"user\" and \"assistant\""
            },
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
        })),
    )
    .await;
    let error = invoke(&model(&server), &[Message::user("Hi")], &[])
        .await
        .unwrap_err();
    match error {
        ModelError::Http {
            provider,
            status,
            message,
        } => {
            assert_eq!((provider.as_str(), status), ("anthropic", 400));
            assert_eq!(
                message,
                "messages: roles must alternate between \"user\" and \"assistant\""
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_then_success() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_json(json!({
            "type": "error",
            "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}
        }));
    mount(
        &server,
        Sequence::new(vec![
            limited,
            ok_json(message(
                json!([{"type": "text", "text": "ok"}]),
                "end_turn",
                1,
                1,
            )),
        ]),
    )
    .await;
    // `retry-after: 1` is honoured up to the longest backoff (20 ms here).
    let started = std::time::Instant::now();
    let response = invoke(&model(&server), &[Message::user("Hi")], &[])
        .await
        .unwrap();
    assert_eq!(response.content.as_deref(), Some("ok"));
    assert!(started.elapsed() < Duration::from_millis(900));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same body is sent again"
    );
}

#[tokio::test]
async fn a_500_every_time_gives_up_after_the_bounded_tries() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(500).set_body_json(json!({
            "type": "error",
            "error": {"type": "api_error", "message": "Internal server error"}
        })),
    )
    .await;
    let error = invoke(&model(&server).max_retries(2), &[Message::user("Hi")], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Http { status: 500, message, .. } if message == "Internal server error"),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(message(
            json!([{"type": "text", "text": "late"}]),
            "end_turn",
            1,
            1,
        ))
        .set_delay(Duration::from_secs(2)),
    )
    .await;
    let started = std::time::Instant::now();
    let error = invoke(
        &model(&server)
            .timeout(Duration::from_millis(200))
            .max_retries(1),
        &[Message::user("Hi")],
        &[],
    )
    .await
    .unwrap_err();
    match &error {
        ModelError::Transport { provider, message } => {
            assert_eq!(provider, "anthropic");
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(1500));
    // The timeout is retried like any transient failure: two tries.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_stalled_stream_times_out_on_the_read_timeout() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_sse(streamed_text("late", 1, 1)).set_delay(Duration::from_secs(2)),
    )
    .await;
    let events = invoke_stream(
        &model(&server)
            .read_timeout(Duration::from_millis(200))
            .max_retries(0),
        &[Message::user("Hi")],
        &[],
    )
    .await;
    assert!(
        matches!(&events[..], [Err(ModelError::Transport { message, .. })] if message.contains("timed out")),
        "{events:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Through the agent

#[tokio::test]
async fn usage_is_summed_over_the_turns_of_a_run() {
    let server = MockServer::start().await;
    mount(
        &server,
        Sequence::new(vec![
            ok_json(message(
                json!([{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1, "b": 2}}]),
                "tool_use",
                100,
                10,
            )),
            ok_json(message(
                json!([{"type": "tool_use", "id": "toolu_2", "name": "add", "input": {"a": 3, "b": 4}}]),
                "tool_use",
                150,
                12,
            )),
            ok_json(message(
                json!([{"type": "text", "text": "3 and 7."}]),
                "end_turn",
                200,
                5,
            )),
        ]),
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .tool(add_tool())
        .build()
        .unwrap();
    let run = agent.run("Add twice").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("3 and 7."));
    assert_eq!(run.metrics.turns, 3);
    assert_eq!(run.metrics.tool_calls, 2);
    assert_eq!(
        run.metrics.usage,
        Usage {
            input_tokens: 450,
            output_tokens: 27
        }
    );
    // The third request carries both rounds, each result paired with its call.
    let third = &bodies(&server).await[2];
    assert_eq!(
        third["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Add twice"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1, "b": 2}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "3"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "add", "input": {"a": 3, "b": 4}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "7"}]}
        ])
    );
}

fn shell_tool_json() -> Value {
    json!({"name": "shell", "description": "The shell tool.", "input_schema": command_schema()})
}

/// The body of the request after the host ran `ls` for the model.
fn continued_body(stream: bool) -> Value {
    let mut body = json!({
        "model": MODEL,
        "max_tokens": 4096,
        "system": "You run commands for the user.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "List my files"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "I'll list them."},
                {"type": "tool_use", "id": "toolu_01ShellLs", "name": "shell", "input": {"command": "ls"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01ShellLs", "content": "a.txt\nb.txt"}
            ]}
        ],
        "tools": [shell_tool_json()]
    });
    if stream {
        body["stream"] = json!(true);
    }
    body
}

fn shell_agent(server: &MockServer) -> Agent {
    Agent::builder()
        .model(model(server))
        .instructions("You run commands for the user.")
        .tool(shell_tool())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_full_run_pauses_for_an_external_tool_and_continues() {
    let server = MockServer::start().await;
    mount(
        &server,
        Sequence::new(vec![
            ok_json(message(
                json!([
                    {"type": "text", "text": "I'll list them."},
                    {"type": "tool_use", "id": "toolu_01ShellLs", "name": "shell", "input": {"command": "ls"}}
                ]),
                "tool_use",
                50,
                20,
            )),
            ok_json(message(
                json!([{"type": "text", "text": "You have a.txt and b.txt."}]),
                "end_turn",
                80,
                10,
            )),
        ]),
    )
    .await;
    let agent = shell_agent(&server);
    let mut run = agent.run("List my files").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    for requirement in run.active_requirements_mut() {
        assert_eq!(requirement.tool_execution.tool_call_id, "toolu_01ShellLs");
        assert_eq!(
            requirement.tool_execution.tool_args,
            json!({"command": "ls"})
        );
        requirement.set_external_execution_result("a.txt\nb.txt");
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("You have a.txt and b.txt."));
    assert_eq!(
        run.metrics.usage,
        Usage {
            input_tokens: 130,
            output_tokens: 30
        }
    );
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1], continued_body(false));
}

#[tokio::test]
async fn a_full_streamed_run_pauses_for_an_external_tool_and_continues() {
    let server = MockServer::start().await;
    let first = sse(&[
        message_start(50),
        text_start(0),
        text_delta(0, "I'll list "),
        text_delta(0, "them."),
        block_stop(0),
        tool_start(1, "toolu_01ShellLs", "shell"),
        json_delta(1, ""),
        json_delta(1, "{\"comm"),
        json_delta(1, "and\": \"ls\"}"),
        block_stop(1),
        message_delta("tool_use", 20),
        message_stop(),
    ]);
    let second = sse(&[
        message_start(80),
        text_start(0),
        text_delta(0, "You have a.txt "),
        ping(),
        text_delta(0, "and b.txt."),
        block_stop(0),
        message_delta("end_turn", 10),
        message_stop(),
    ]);
    mount(&server, Sequence::new(vec![ok_sse(first), ok_sse(second)])).await;
    let agent = shell_agent(&server);

    let events = stream_events(agent.run_stream("List my files")).await;
    assert_eq!(content_deltas(&events), ["I'll list ", "them."]);
    let mut paused = ended_paused(&events);
    assert_eq!(paused.requirements.len(), 1);
    let requirement = &mut paused.requirements[0];
    assert_eq!(requirement.tool_execution.tool_call_id, "toolu_01ShellLs");
    assert_eq!(
        requirement.tool_execution.tool_args,
        json!({"command": "ls"})
    );
    requirement.set_external_execution_result("a.txt\nb.txt");

    let events =
        stream_events(agent.continue_run_stream(&paused.run_id, paused.requirements)).await;
    assert_eq!(
        content_deltas(&events).concat(),
        "You have a.txt and b.txt."
    );
    let done = ended_completed(&events);
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.content.as_deref(), Some("You have a.txt and b.txt."));
    assert_eq!(
        done.metrics.usage,
        Usage {
            input_tokens: 130,
            output_tokens: 30
        }
    );
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1], continued_body(true));
}

#[tokio::test]
async fn a_model_error_fails_the_run_with_it() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"}
        })),
    )
    .await;
    let agent = shell_agent(&server);
    let error = agent.run("List my files").await.unwrap_err();
    assert!(
        matches!(&error, Error::Model(ModelError::Http { status: 401, message, .. }) if message == "invalid x-api-key"),
        "{error:?}"
    );
}
