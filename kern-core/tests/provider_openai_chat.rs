//! `OpenAiChat` against a local mock of the Chat Completions API: what kern sends (the exact JSON
//! body and headers), what it makes of the answers (streamed and not), the failures (errors,
//! retries, timeouts, truncated streams), and whole agent runs that pause and continue.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use kern_core::model::{ModelEvent, OpenAiChat};
use kern_core::{
    Agent, Error, Message, Model, ModelError, ModelRequest, ModelResponse, RunOutput, RunStatus,
    ToolCall, ToolDefinition, Usage,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789";

/// A model at the mock, with a key and fast retries.
fn model(server: &MockServer) -> OpenAiChat {
    OpenAiChat::new("gpt-4o-mini")
        .base_url(format!("{}/v1/", server.uri()))
        .api_key(KEY)
        .max_retries(2)
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
}

/// A non-streamed answer, as OpenAI sends it (extra fields included).
fn completion(message: Value, prompt: u64, completion: u64) -> Value {
    let finish = if message.get("tool_calls").is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish
        }],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
            }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306"
    })
}

fn text_message(text: &str) -> Value {
    json!({ "role": "assistant", "content": text, "refusal": null, "annotations": [] })
}

fn calls_message(calls: &[(&str, &str, &str)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| {
            json!({ "id": id, "type": "function", "function": { "name": name, "arguments": args } })
        })
        .collect();
    json!({ "role": "assistant", "content": null, "tool_calls": calls, "refusal": null, "annotations": [] })
}

fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// One streamed chunk as OpenAI sends it with `include_usage` (`"usage": null` until the end).
fn chunk(delta: Value, finish: Option<&str>) -> String {
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
}

fn usage_chunk(prompt: u64, completion: u64) -> String {
    let chunk = json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [],
        "usage": { "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion }
    });
    format!("data: {chunk}\n\n")
}

const DONE: &str = "data: [DONE]\n\n";

fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("cache-control", "no-cache")
        .set_body_raw(body, "text/event-stream")
}

/// A streamed text answer.
fn text_stream(pieces: &[&str], prompt: u64, completion: u64) -> String {
    let mut body = chunk(
        json!({ "role": "assistant", "content": "", "refusal": null }),
        None,
    );
    for piece in pieces {
        body += &chunk(json!({ "content": piece }), None);
    }
    body += &chunk(json!({}), Some("stop"));
    body += &usage_chunk(prompt, completion);
    body += DONE;
    body
}

/// A streamed answer calling one tool, its arguments in pieces.
fn call_stream(id: &str, name: &str, pieces: &[&str], prompt: u64, completion: u64) -> String {
    let mut body = chunk(
        json!({ "role": "assistant", "content": null, "tool_calls": [{
            "index": 0, "id": id, "type": "function", "function": { "name": name, "arguments": "" }
        }], "refusal": null }),
        None,
    );
    for piece in pieces {
        body += &chunk(
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] }),
            None,
        );
    }
    body += &chunk(json!({}), Some("tool_calls"));
    body += &usage_chunk(prompt, completion);
    body += DONE;
    body
}

async fn mount(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn mount_once(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .up_to_n_times(1)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn header<'r>(request: &'r wiremock::Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Get the weather of a city.",
        json!({
            "type": "object",
            "properties": { "city": { "type": "string" } },
            "required": ["city"]
        }),
    )
}

fn request<'a>(messages: &'a [Message], tools: &'a [&'a ToolDefinition]) -> ModelRequest<'a> {
    ModelRequest {
        instructions: None,
        messages,
        tools,
    }
}

async fn collect(
    model: &OpenAiChat,
    request: ModelRequest<'_>,
) -> Vec<Result<ModelEvent, ModelError>> {
    model.invoke_stream(request).collect().await
}

// ------------------------------------------------------------------------------------------
// What kern sends

#[tokio::test]
async fn the_request_body_and_headers_are_the_chat_completions_wire_format() {
    let server = MockServer::start().await;
    mount(&server, ok_json(completion(text_message("Done."), 5, 2))).await;
    let mut strict = weather_tool();
    strict.name = "get_weather_strict".into();
    strict.strict = true;
    strict.parameters = json!({
        "type": "object",
        "properties": { "city": { "type": "string" } },
        "required": ["city"],
        "additionalProperties": false
    });
    let weather = weather_tool();
    let messages = [
        Message::system("Earlier system note."),
        Message::user("Weather in Oslo and Rome?"),
        Message::assistant(
            Some("Looking.".into()),
            vec![
                ToolCall::new("call_1", "get_weather", r#"{"city":"Oslo"}"#),
                ToolCall::new("call_2", "get_weather_strict", r#"{"city":"Rome"}"#),
            ],
        ),
        Message::tool_result("call_1", "get_weather", "sunny"),
        Message::tool_error("call_2", "get_weather_strict", "city not found"),
        Message::assistant(None, vec![ToolCall::new("call_3", "get_weather", "{}")]),
        Message::tool_result("call_3", "get_weather", "rain"),
        // An empty turn (an earlier run's, from a session): text "", not null.
        Message::assistant(None, vec![]),
        Message::user("And tomorrow?"),
    ];
    let model = model(&server).temperature(0.25).max_tokens(300);
    let answer = model
        .invoke(ModelRequest {
            instructions: Some("You are terse."),
            messages: &messages,
            tools: &[&weather, &strict],
        })
        .await
        .unwrap();
    assert_eq!(answer.content.as_deref(), Some("Done."));

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        header(&received[0], "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        header(&received[0], "content-type"),
        Some("application/json")
    );
    assert_eq!(
        body(&received[0]),
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                { "role": "system", "content": "You are terse." },
                { "role": "system", "content": "Earlier system note." },
                { "role": "user", "content": "Weather in Oslo and Rome?" },
                { "role": "assistant", "content": "Looking.", "tool_calls": [
                    { "id": "call_1", "type": "function",
                      "function": { "name": "get_weather", "arguments": "{\"city\":\"Oslo\"}" } },
                    { "id": "call_2", "type": "function",
                      "function": { "name": "get_weather_strict", "arguments": "{\"city\":\"Rome\"}" } }
                ]},
                { "role": "tool", "tool_call_id": "call_1", "content": "sunny" },
                { "role": "tool", "tool_call_id": "call_2", "content": "Error: city not found" },
                { "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_3", "type": "function",
                      "function": { "name": "get_weather", "arguments": "{}" } }
                ]},
                { "role": "tool", "tool_call_id": "call_3", "content": "rain" },
                { "role": "assistant", "content": "" },
                { "role": "user", "content": "And tomorrow?" }
            ],
            "tools": [
                { "type": "function", "function": {
                    "name": "get_weather",
                    "description": "Get the weather of a city.",
                    "parameters": weather.parameters
                }},
                { "type": "function", "function": {
                    "name": "get_weather_strict",
                    "description": "Get the weather of a city.",
                    "parameters": strict.parameters,
                    "strict": true
                }}
            ],
            "max_completion_tokens": 300,
            "temperature": 0.25
        })
    );
}

#[tokio::test]
async fn legacy_max_tokens_and_no_tools() {
    let server = MockServer::start().await;
    mount(&server, ok_json(completion(text_message("Hi."), 1, 1))).await;
    let model = model(&server).max_tokens(64).legacy_max_tokens(true);
    model
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap();
    assert_eq!(
        body(&requests(&server).await[0]),
        json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": "Hi" }],
            "max_tokens": 64
        })
    );
}

#[tokio::test]
async fn extra_headers_go_with_every_request() {
    use kern_core::model::{HeaderName, HeaderValue};
    let server = MockServer::start().await;
    mount(&server, ok_json(completion(text_message("Hi."), 1, 1))).await;
    let model = model(&server)
        .header(
            HeaderName::from_static("openai-organization"),
            HeaderValue::from_static("org-kern"),
        )
        .header(
            HeaderName::from_static("openai-project"),
            HeaderValue::from_static("proj-1"),
        );
    for _ in 0..2 {
        model
            .invoke(request(&[Message::user("Hi")], &[]))
            .await
            .unwrap();
    }
    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(header(request, "openai-organization"), Some("org-kern"));
        assert_eq!(header(request, "openai-project"), Some("proj-1"));
        assert_eq!(
            header(request, "authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    assert_eq!(model.settings().headers.len(), 2);
}

#[tokio::test]
async fn a_local_server_without_a_key_gets_no_authorization_header() {
    let server = MockServer::start().await;
    mount(&server, ok_json(completion(text_message("local"), 1, 1))).await;
    // No `.api_key`: only an OPENAI_API_KEY in the environment could give one.
    let model = OpenAiChat::new("llama3.1:8b").base_url(format!("{}/v1", server.uri()));
    let answer = model
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap();
    assert_eq!(answer.content.as_deref(), Some("local"));
    assert_eq!(model.name(), "openai:llama3.1:8b");
    let received = requests(&server).await;
    if std::env::var_os("OPENAI_API_KEY").is_none() {
        assert_eq!(header(&received[0], "authorization"), None);
    }
}

#[test]
fn debug_never_shows_the_key() {
    let model = OpenAiChat::new("gpt-4o-mini").api_key("sk-live-abcdef");
    let shown = format!("{model:?} {:?}", model.settings());
    assert!(!shown.contains("sk-live-abcdef"), "{shown}");
    assert!(shown.contains("gpt-4o-mini"), "{shown}");
}

// ------------------------------------------------------------------------------------------
// What kern makes of the answers

#[tokio::test]
async fn a_text_answer_with_usage() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(completion(text_message("Oslo is sunny."), 19, 10)),
    )
    .await;
    let answer = model(&server)
        .invoke(request(&[Message::user("Weather?")], &[]))
        .await
        .unwrap();
    assert_eq!(
        answer,
        ModelResponse {
            content: Some("Oslo is sunny.".into()),
            tool_calls: vec![],
            usage: Usage {
                input_tokens: 19,
                output_tokens: 10
            },
        }
    );
}

#[tokio::test]
async fn one_tool_call() {
    let server = MockServer::start().await;
    let message = calls_message(&[("call_abc123", "get_weather", "{\n\"city\": \"Oslo\"\n}")]);
    mount(&server, ok_json(completion(message, 82, 17))).await;
    let weather = weather_tool();
    let answer = model(&server)
        .invoke(request(&[Message::user("Weather in Oslo?")], &[&weather]))
        .await
        .unwrap();
    assert_eq!(answer.content, None);
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall::new(
            "call_abc123",
            "get_weather",
            "{\n\"city\": \"Oslo\"\n}"
        )]
    );
    assert_eq!(answer.usage.input_tokens, 82);
}

#[tokio::test]
async fn several_parallel_tool_calls() {
    let server = MockServer::start().await;
    let message = calls_message(&[
        ("call_1", "get_weather", r#"{"city":"Oslo"}"#),
        ("call_2", "get_weather", r#"{"city":"Rome"}"#),
        ("call_3", "get_weather", r#"{"city":"Tokyo"}"#),
    ]);
    mount(&server, ok_json(completion(message, 90, 60))).await;
    let weather = weather_tool();
    let answer = model(&server)
        .invoke(request(&[Message::user("Three cities")], &[&weather]))
        .await
        .unwrap();
    let ids: Vec<&str> = answer.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["call_1", "call_2", "call_3"]);
    assert_eq!(answer.tool_calls[2].arguments, r#"{"city":"Tokyo"}"#);
}

#[tokio::test]
async fn a_refusal_is_the_text_and_multibyte_text_survives() {
    let server = MockServer::start().await;
    let message =
        json!({ "role": "assistant", "content": null, "refusal": "Je ne peux pas — désolé 🙏" });
    mount(&server, ok_json(completion(message, 3, 4))).await;
    let answer = model(&server)
        .invoke(request(&[Message::user("…")], &[]))
        .await
        .unwrap();
    assert_eq!(
        answer.content.as_deref(),
        Some("Je ne peux pas — désolé 🙏")
    );
}

#[tokio::test]
async fn a_malformed_answer_is_invalid_response() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(json!({ "id": "x", "object": "chat.completion" })),
    )
    .await;
    let error = model(&server)
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ModelError::InvalidResponse { .. }),
        "{error:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Streaming

#[tokio::test]
async fn streamed_text_with_keep_alives_and_usage() {
    let server = MockServer::start().await;
    let mut body = String::from(": keep-alive\n\n");
    body += &text_stream(&["Hel", "lo, ", "wörld 🌍", "!"], 8, 5);
    body = body.replacen("data: {", ": ping\n\ndata: {", 2);
    mount(&server, sse(body)).await;
    let events = collect(&model(&server), request(&[Message::user("Hi")], &[])).await;
    assert_eq!(turn_deltas(&events), ["Hel", "lo, ", "wörld 🌍", "!"]);
    let done = completed_turn(&events);
    assert_eq!(done.content.as_deref(), Some("Hello, wörld 🌍!"));
    assert!(done.tool_calls.is_empty());
    assert_eq!(
        done.usage,
        Usage {
            input_tokens: 8,
            output_tokens: 5
        }
    );

    let sent = body_of_first(&server).await;
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["stream_options"], json!({ "include_usage": true }));
}

async fn body_of_first(server: &MockServer) -> Value {
    body(&requests(server).await[0])
}

#[tokio::test]
async fn streamed_tool_calls_split_and_interleaved_are_assembled() {
    let server = MockServer::start().await;
    let tc = |value: Value| chunk(json!({ "tool_calls": [value] }), None);
    let mut body = chunk(json!({ "role": "assistant", "content": null }), None);
    body += &tc(json!({ "index": 0, "id": "call_oslo", "type": "function",
                        "function": { "name": "get_weather", "arguments": "" } }));
    body += &tc(json!({ "index": 0, "function": { "arguments": "{\"ci" } }));
    body += &tc(json!({ "index": 1, "id": "call_rome", "type": "function",
                        "function": { "name": "get_weather", "arguments": "{\"city\"" } }));
    body += &tc(json!({ "index": 0, "function": { "arguments": "ty\": \"Os" } }));
    body += &tc(json!({ "index": 1, "function": { "arguments": ": \"Ro" } }));
    body += &tc(json!({ "index": 0, "function": { "arguments": "lo\"}" } }));
    body += &tc(json!({ "index": 1, "function": { "arguments": "me\"}" } }));
    body += &chunk(json!({}), Some("tool_calls"));
    body += &usage_chunk(40, 30);
    body += DONE;
    mount(&server, sse(body)).await;
    let weather = weather_tool();
    let events = collect(
        &model(&server),
        request(&[Message::user("Two")], &[&weather]),
    )
    .await;
    assert!(turn_deltas(&events).is_empty());
    let done = completed_turn(&events);
    assert_eq!(
        done.tool_calls,
        vec![
            ToolCall::new("call_oslo", "get_weather", r#"{"city": "Oslo"}"#),
            ToolCall::new("call_rome", "get_weather", r#"{"city": "Rome"}"#),
        ]
    );
    assert_eq!(done.usage.output_tokens, 30);
}

#[tokio::test]
async fn an_error_payload_in_the_stream_is_an_error() {
    let server = MockServer::start().await;
    let mut body = chunk(json!({ "role": "assistant", "content": "Par" }), None);
    body += "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";
    body += DONE;
    mount(&server, sse(body)).await;
    let events = collect(&model(&server), request(&[Message::user("Hi")], &[])).await;
    assert_eq!(turn_deltas(&events), ["Par"]);
    match events.last() {
        Some(Err(ModelError::Api { code, message, .. })) => {
            assert_eq!(code.as_deref(), Some("server_error"));
            assert_eq!(
                message,
                "The server had an error while processing your request."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events.len(), 2, "nothing after the error");
}

#[tokio::test]
async fn a_truncated_stream_is_an_error_not_a_shorter_answer() {
    let server = MockServer::start().await;
    let full = text_stream(&["The answer ", "is ", "42."], 3, 3);
    // Cut after the second piece: no finish, no usage, no [DONE].
    let cut = full.match_indices("data: ").nth(3).unwrap().0;
    mount(&server, sse(full[..cut].to_owned())).await;
    let events = collect(&model(&server), request(&[Message::user("Hi")], &[])).await;
    assert_eq!(turn_deltas(&events), ["The answer ", "is "]);
    match events.last() {
        Some(Err(ModelError::InvalidResponse { message, .. })) => {
            assert!(message.contains("ended early"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Ok(ModelEvent::Completed(_))))
    );
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_of_a_tool_call_is_an_error() {
    let server = MockServer::start().await;
    let full = call_stream("call_1", "get_weather", &["{\"city\":", "\"Oslo\"}"], 1, 1);
    let cut = full.find("[DONE]").unwrap() - "data: ".len();
    // A finished answer without its end marker is still an error.
    mount(&server, sse(full[..cut].to_owned())).await;
    let weather = weather_tool();
    let events = collect(
        &model(&server),
        request(&[Message::user("Hi")], &[&weather]),
    )
    .await;
    assert!(matches!(
        events.last(),
        Some(Err(ModelError::InvalidResponse { .. }))
    ));
}

#[tokio::test]
async fn a_streamed_4xx_is_a_typed_error() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({ "error": {
            "message": "Incorrect API key provided: sk-test-***6789.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
        }})),
    )
    .await;
    let events = collect(&model(&server), request(&[Message::user("Hi")], &[])).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(
        &events[0],
        Err(ModelError::Http { status: 401, message, .. }) if message.starts_with("Incorrect API key")
    ));
}

// ------------------------------------------------------------------------------------------
// Errors, retries, timeouts (through the shared `Http::post`)

#[tokio::test]
async fn a_400_carries_the_providers_message_and_is_not_retried() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({ "error": {
            "message": "Invalid schema for function 'get_weather': 'object' is not valid.",
            "type": "invalid_request_error", "param": "tools[0].function.parameters", "code": "invalid_function_parameters"
        }})),
    )
    .await;
    let error = model(&server)
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    match &error {
        ModelError::Http {
            provider,
            status,
            message,
        } => {
            assert_eq!(provider, "openai");
            assert_eq!(*status, 400);
            assert_eq!(
                message,
                "Invalid schema for function 'get_weather': 'object' is not valid."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_429_then_200_is_retried_after_retry_after_ms() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after-ms", "20")
            .set_body_json(json!({ "error": {
                "message": "Rate limit reached for gpt-4o-mini.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"
            }})),
    )
    .await;
    mount(
        &server,
        ok_json(completion(text_message("after the wait"), 1, 1)),
    )
    .await;
    let started = Instant::now();
    let answer = model(&server)
        .backoff(Duration::from_millis(1), Duration::from_secs(5))
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap();
    assert_eq!(answer.content.as_deref(), Some("after the wait"));
    assert!(started.elapsed() >= Duration::from_millis(20));
    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body, "the same body again");
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
    )
    .await;
    mount(&server, ok_json(completion(text_message("ok"), 1, 1))).await;
    let started = Instant::now();
    model(&server)
        .backoff(Duration::from_millis(1), Duration::from_secs(5))
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_5xx_every_time_fails_after_max_retries_plus_one_tries() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(503).set_body_json(json!({ "error": {
            "message": "The engine is currently overloaded, please try again later.", "type": "server_error"
        }})),
    )
    .await;
    let error = model(&server)
        .max_retries(3)
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Http { status: 503, message, .. } if message.contains("overloaded")),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn a_500_thrice_with_two_retries_is_three_requests() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(500).set_body_string("Internal Server Error"),
    )
    .await;
    let error = model(&server)
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Http { status: 500, message, .. } if message == "Internal Server Error"),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_the_retries() {
    // A port nothing listens on: bound, then released.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let model = OpenAiChat::new("gpt-4o-mini")
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(KEY)
        .max_retries(2)
        .backoff(Duration::from_millis(40), Duration::from_millis(40));
    let started = Instant::now();
    let error = model
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    match &error {
        ModelError::Transport { provider, message } => {
            assert_eq!(provider, "openai");
            assert!(message.starts_with("cannot connect"), "{message}");
            assert!(!message.contains(KEY));
        }
        other => panic!("{other:?}"),
    }
    // Two waits of 20..=40 ms each: the retries happened.
    assert!(started.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok_json(completion(text_message("too late"), 1, 1)).set_delay(Duration::from_secs(10)),
    )
    .await;
    let error = model(&server)
        .timeout(Duration::from_millis(200))
        .max_retries(1)
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Transport { message, .. } if message.starts_with("timed out")),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 2, "a timeout is retried");
}

#[tokio::test]
async fn a_stalled_stream_times_out_on_the_read_timeout() {
    let server = MockServer::start().await;
    mount(
        &server,
        sse(text_stream(&["late"], 1, 1)).set_delay(Duration::from_secs(10)),
    )
    .await;
    let model = model(&server)
        .read_timeout(Duration::from_millis(200))
        .max_retries(0);
    let events = collect(&model, request(&[Message::user("Hi")], &[])).await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], Err(ModelError::Transport { message, .. }) if message.starts_with("timed out")),
        "{events:?}"
    );
}

#[tokio::test]
async fn no_key_for_openai_itself_is_a_config_error_naming_the_variable() {
    if std::env::var_os("OPENAI_API_KEY").is_some() || std::env::var_os("OPENAI_BASE_URL").is_some()
    {
        return; // the environment gives a key or another server
    }
    let error = OpenAiChat::new("gpt-4o-mini")
        .invoke(request(&[Message::user("Hi")], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Config { message, .. } if message.contains("OPENAI_API_KEY")),
        "{error:?}"
    );
}

// ------------------------------------------------------------------------------------------
// The agent through OpenAiChat

fn first_turn_body(instructions: &str, user: &str, tools: Value) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            { "role": "system", "content": instructions },
            { "role": "user", "content": user }
        ],
        "tools": tools
    })
}

fn shell_tools_json() -> Value {
    json!([{ "type": "function", "function": {
        "name": "shell",
        "description": "The shell tool.",
        "parameters": command_schema()
    }}])
}

fn after_result_messages() -> Value {
    json!([
        { "role": "system", "content": "You are terse." },
        { "role": "user", "content": "What files are here?" },
        { "role": "assistant", "content": null, "tool_calls": [
            { "id": "call_ls", "type": "function",
              "function": { "name": "shell", "arguments": "{\"command\":\"ls\"}" } }
        ]},
        { "role": "tool", "tool_call_id": "call_ls", "content": "a.txt\nb.txt" }
    ])
}

fn resolve_shell(run: &mut RunOutput) {
    assert!(run.is_paused());
    assert_eq!(run.requirements.len(), 1);
    for req in run.active_requirements_mut() {
        assert!(req.is_external_tool_execution());
        assert_eq!(req.tool_execution.tool_call_id, "call_ls");
        assert_eq!(req.tool_execution.tool_args, json!({ "command": "ls" }));
        req.set_external_execution_result("a.txt\nb.txt");
    }
}

#[tokio::test]
async fn an_agent_run_pauses_on_an_external_tool_and_continues() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        ok_json(completion(
            calls_message(&[("call_ls", "shell", r#"{"command":"ls"}"#)]),
            50,
            12,
        )),
    )
    .await;
    mount(
        &server,
        ok_json(completion(
            text_message("Two files: a.txt and b.txt."),
            80,
            9,
        )),
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .instructions("You are terse.")
        .tool(shell_tool())
        .build()
        .unwrap();

    let mut run = agent.run("What files are here?").await.unwrap();
    assert_eq!(requests(&server).await.len(), 1);
    resolve_shell(&mut run);
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("Two files: a.txt and b.txt."));
    assert_eq!(
        run.metrics.usage,
        Usage {
            input_tokens: 130,
            output_tokens: 21
        }
    );

    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    assert_eq!(
        body(&received[0]),
        first_turn_body("You are terse.", "What files are here?", shell_tools_json())
    );
    let mut second = first_turn_body("You are terse.", "What files are here?", shell_tools_json());
    second["messages"] = after_result_messages();
    assert_eq!(body(&received[1]), second);
}

#[tokio::test]
async fn a_streamed_agent_run_pauses_and_continues() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        sse(call_stream(
            "call_ls",
            "shell",
            &["{\"comm", "and\":", "\"ls\"}"],
            50,
            12,
        )),
    )
    .await;
    mount(
        &server,
        sse(text_stream(&["Two files: ", "a.txt and b.txt."], 80, 9)),
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .instructions("You are terse.")
        .tool(shell_tool())
        .build()
        .unwrap();

    let events = stream_events(agent.run_stream("What files are here?")).await;
    let mut run = ended_paused(&events);
    resolve_shell(&mut run);

    let events = stream_events(agent.continue_run_stream(&run.run_id, run.requirements)).await;
    assert_eq!(
        content_deltas(&events).concat(),
        "Two files: a.txt and b.txt."
    );
    let run = ended_completed(&events);
    assert_eq!(run.content.as_deref(), Some("Two files: a.txt and b.txt."));
    assert_eq!(run.metrics.usage.input_tokens, 130);
    assert_eq!(run.metrics.usage.output_tokens, 21);

    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    let mut second = first_turn_body("You are terse.", "What files are here?", shell_tools_json());
    second["messages"] = after_result_messages();
    second["stream"] = json!(true);
    second["stream_options"] = json!({ "include_usage": true });
    assert_eq!(body(&received[1]), second);
}

#[tokio::test]
async fn usage_is_summed_over_a_multi_turn_run_with_parallel_internal_calls() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        ok_json(completion(
            calls_message(&[
                ("call_a", "add", r#"{"a":1,"b":2}"#),
                ("call_b", "add", r#"{"a":3,"b":4}"#),
            ]),
            10,
            5,
        )),
    )
    .await;
    mount_once(
        &server,
        ok_json(completion(
            calls_message(&[("call_c", "add", r#"{"a":3,"b":7}"#)]),
            20,
            6,
        )),
    )
    .await;
    mount(&server, ok_json(completion(text_message("10"), 30, 1))).await;
    let agent = Agent::builder()
        .model(model(&server))
        .tool(add_tool())
        .build()
        .unwrap();
    let run = agent.run("Add things").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.metrics.turns, 3);
    assert_eq!(
        run.metrics.usage,
        Usage {
            input_tokens: 60,
            output_tokens: 12
        }
    );
    let received = requests(&server).await;
    let second = body(&received[1]);
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(
        &messages[2..],
        &[
            json!({ "role": "tool", "tool_call_id": "call_a", "content": "3" }),
            json!({ "role": "tool", "tool_call_id": "call_b", "content": "7" })
        ]
    );
}

#[tokio::test]
async fn a_provider_error_fails_the_run_with_a_typed_error() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(404).set_body_json(json!({ "error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error", "param": null, "code": "model_not_found"
        }})),
    )
    .await;
    let agent = Agent::builder().model(model(&server)).build().unwrap();
    let error = agent.run("Hi").await.unwrap_err();
    assert!(
        matches!(&error, Error::Model(ModelError::Http { status: 404, message, .. }) if message.contains("gpt-9")),
        "{error:?}"
    );
}
