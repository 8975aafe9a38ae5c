//! `OpenAiResponses` against a local mock of the Responses API (`POST /v1/responses`), fed the
//! API's documented request, response and streaming-event shapes. No network, no key.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use kern_core::{
    Agent, Message, Model, ModelError, ModelEvent, ModelRequest, ModelResponse, OpenAiResponses,
    RunStatus, ToolCall, ToolDefinition, Usage,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-test-key-0123456789";

/// The provider pointed at the mock, with fast retries.
fn model(server: &MockServer) -> OpenAiResponses {
    OpenAiResponses::new("gpt-4.1-mini")
        .base_url(format!("{}/v1/", server.uri()))
        .api_key(KEY)
        .max_retries(2)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A response object as the API returns it (with the fields kern ignores).
fn response(output: Value, input_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": "gpt-4.1-mini-2025-04-14",
        "output": output,
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
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens
        },
        "user": null,
        "metadata": {}
    })
}

fn message_item(text: &str) -> Value {
    json!({
        "type": "message",
        "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e6",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]
    })
}

fn call_item(n: u32, name: &str, arguments: &str) -> Value {
    json!({
        "type": "function_call",
        "id": format!("fc_67ca09c6bedc8190a7abfec07b1a1332_{n}"),
        "call_id": format!("call_unLAR8MvFNptuiZK6K6HCy5k_{n}"),
        "name": name,
        "arguments": arguments,
        "status": "completed"
    })
}

/// A `text/event-stream` body: each event with its `event:` line and its `sequence_number`.
fn sse(events: &[(&str, Value)]) -> String {
    let mut body = String::new();
    for (n, (name, data)) in events.iter().enumerate() {
        let mut data = data.clone();
        data["type"] = json!(name);
        data["sequence_number"] = json!(n);
        body.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    }
    body
}

fn stream_reply(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn created() -> (&'static str, Value) {
    let mut response = response(json!([]), 0, 0);
    response["status"] = json!("in_progress");
    response["usage"] = Value::Null;
    ("response.created", json!({ "response": response }))
}

fn completed(output: Value, input_tokens: u64, output_tokens: u64) -> (&'static str, Value) {
    (
        "response.completed",
        json!({ "response": response(output, input_tokens, output_tokens) }),
    )
}

/// The events of a streamed text answer, in the pieces given.
fn text_events(
    pieces: &[&str],
    input_tokens: u64,
    output_tokens: u64,
) -> Vec<(&'static str, Value)> {
    let item_id = "msg_67c9fdcf37fc8190ba82116e33fb28c5";
    let text: String = pieces.concat();
    let mut events = vec![
        created(),
        (
            "response.output_item.added",
            json!({"output_index": 0, "item": {"id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
        ),
        (
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": {"type": "output_text", "annotations": [], "text": ""}}),
        ),
    ];
    for piece in pieces {
        events.push((
            "response.output_text.delta",
            json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []}),
        ));
    }
    events.extend([
        (
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
        ),
        (
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": {"type": "output_text", "annotations": [], "text": text}}),
        ),
        (
            "response.output_item.done",
            json!({"output_index": 0, "item": message_item(&text)}),
        ),
        completed(json!([message_item(&text)]), input_tokens, output_tokens),
    ]);
    events
}

/// The events of one streamed function call at `output_index`, its arguments in pieces.
fn call_events(n: u32, name: &str, pieces: &[&str]) -> Vec<(&'static str, Value)> {
    let arguments: String = pieces.concat();
    let done = call_item(n, name, &arguments);
    let mut added = done.clone();
    added["arguments"] = json!("");
    added["status"] = json!("in_progress");
    let item_id = done["id"].clone();
    let mut events = vec![(
        "response.output_item.added",
        json!({"output_index": n, "item": added}),
    )];
    for piece in pieces {
        events.push((
            "response.function_call_arguments.delta",
            json!({"item_id": item_id, "output_index": n, "delta": piece}),
        ));
    }
    events.push((
        "response.function_call_arguments.done",
        json!({"item_id": item_id, "output_index": n, "arguments": arguments}),
    ));
    events.push((
        "response.output_item.done",
        json!({"output_index": n, "item": done}),
    ));
    events
}

async fn mount(server: &MockServer, reply: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(reply)
        .mount(server)
        .await;
}

/// Mounts replies served one after the other (each once).
async fn mount_in_turn(server: &MockServer, replies: Vec<ResponseTemplate>) {
    for (n, reply) in replies.into_iter().enumerate() {
        Mock::given(method("POST"))
            .and(path("/v1/responses"))
            .respond_with(reply)
            .up_to_n_times(1)
            .with_priority(u8::try_from(n + 1).unwrap())
            .mount(server)
            .await;
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Get the weather of a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

fn strict_tool() -> ToolDefinition {
    let mut tool = ToolDefinition::new(
        "get_time",
        "Get the time in a zone.",
        json!({
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "required": ["zone"],
            "additionalProperties": false
        }),
    );
    tool.strict = true;
    tool
}

async fn invoke(
    model: &OpenAiResponses,
    messages: &[Message],
) -> Result<ModelResponse, ModelError> {
    let (weather, time) = (weather_tool(), strict_tool());
    model
        .invoke(ModelRequest {
            instructions: Some("You are terse."),
            messages,
            tools: &[&weather, &time],
        })
        .await
}

async fn invoke_stream(
    model: &OpenAiResponses,
    messages: &[Message],
) -> Vec<Result<ModelEvent, ModelError>> {
    let weather = weather_tool();
    model
        .invoke_stream(ModelRequest {
            instructions: None,
            messages,
            tools: &[&weather],
        })
        .collect()
        .await
}

fn invalid_message(error: &ModelError) -> &str {
    match error {
        ModelError::InvalidResponse { provider, message } => {
            assert_eq!(provider, "openai-responses");
            message
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

/// The code and message of an error OpenAI reported inside its answer.
fn api_error(error: &ModelError) -> (Option<&str>, &str) {
    match error {
        ModelError::Api {
            provider,
            code,
            message,
        } => {
            assert_eq!(provider, "openai-responses");
            (code.as_deref(), message)
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Non-streamed turns

#[tokio::test]
async fn sends_the_whole_conversation_as_input_items_and_reads_a_tool_call() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(response(
            json!([call_item(1, "get_weather", r#"{"city":"Paris"}"#)]),
            36,
            17,
        )),
    )
    .await;
    let messages = [
        Message::system("Answer in French."),
        Message::user("Weather in Oslo and the time?"),
        Message::assistant(
            Some("Let me check.".into()),
            vec![
                ToolCall::new("call_1", "get_weather", r#"{"city":"Oslo"}"#),
                ToolCall::new("call_2", "get_time", r#"{"zone":"CET"}"#),
            ],
        ),
        Message::tool_result("call_1", "get_weather", "sunny"),
        Message::tool_error("call_2", "get_time", "unknown zone"),
        Message::assistant(None, vec![]),
        Message::user("And Paris?"),
    ];
    let model = model(&server).temperature(0.5).max_tokens(300);
    let turn = invoke(&model, &messages).await.unwrap();
    assert_eq!(
        turn,
        ModelResponse {
            content: None,
            tool_calls: vec![ToolCall::new(
                "call_unLAR8MvFNptuiZK6K6HCy5k_1",
                "get_weather",
                r#"{"city":"Paris"}"#
            )],
            usage: Usage {
                input_tokens: 36,
                output_tokens: 17
            },
        }
    );

    let requests = requests(&server).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.url.path(), "/v1/responses");
    assert_eq!(
        header(request, "authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(header(request, "content-type"), Some("application/json"));
    assert_eq!(
        body(request),
        json!({
            "model": "gpt-4.1-mini",
            "instructions": "You are terse.",
            "input": [
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "Weather in Oslo and the time?"},
                {"role": "assistant", "content": "Let me check."},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"},
                {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": "{\"zone\":\"CET\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                {"type": "function_call_output", "call_id": "call_2", "output": "Error: unknown zone"},
                {"role": "user", "content": "And Paris?"}
            ],
            "tools": [
                {
                    "type": "function",
                    "name": "get_weather",
                    "description": "Get the weather of a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                    "strict": false
                },
                {
                    "type": "function",
                    "name": "get_time",
                    "description": "Get the time in a zone.",
                    "parameters": {
                        "type": "object",
                        "properties": {"zone": {"type": "string"}},
                        "required": ["zone"],
                        "additionalProperties": false
                    },
                    "strict": true
                }
            ],
            "store": false,
            "max_output_tokens": 300,
            "temperature": 0.5
        })
    );
}

#[tokio::test]
async fn several_tool_calls_in_one_turn_keep_their_order_and_call_ids() {
    let server = MockServer::start().await;
    let output = json!([
        {
            "type": "reasoning",
            "id": "rs_6820f383d7c08191846711c5df8233bc",
            "summary": []
        },
        message_item("Checking both."),
        call_item(1, "get_weather", r#"{"city":"Oslo"}"#),
        call_item(2, "get_weather", r#"{"city":"Rome"}"#),
        call_item(3, "get_time", r#"{"zone":"CET"}"#)
    ]);
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(response(output, 50, 60)),
    )
    .await;
    let turn = invoke(&model(&server), &[Message::user("Both cities")])
        .await
        .unwrap();
    assert_eq!(turn.content.as_deref(), Some("Checking both."));
    let calls: Vec<(&str, &str, &str)> = turn
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "call_unLAR8MvFNptuiZK6K6HCy5k_1",
                "get_weather",
                r#"{"city":"Oslo"}"#
            ),
            (
                "call_unLAR8MvFNptuiZK6K6HCy5k_2",
                "get_weather",
                r#"{"city":"Rome"}"#
            ),
            (
                "call_unLAR8MvFNptuiZK6K6HCy5k_3",
                "get_time",
                r#"{"zone":"CET"}"#
            ),
        ]
    );
}

#[tokio::test]
async fn a_text_answer_with_usage_and_multibyte_text() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(response(
            json!([message_item("Très bien — 晴れ 😀")]),
            12,
            8,
        )),
    )
    .await;
    let model = model(&server);
    let turn = model
        .invoke(ModelRequest {
            instructions: None,
            messages: &[Message::user("Hi")],
            tools: &[],
        })
        .await
        .unwrap();
    assert_eq!(turn.content.as_deref(), Some("Très bien — 晴れ 😀"));
    assert!(turn.tool_calls.is_empty());
    assert_eq!(
        turn.usage,
        Usage {
            input_tokens: 12,
            output_tokens: 8
        }
    );
    // No instructions, no tools: neither key is sent.
    assert_eq!(
        body(&requests(&server).await[0]),
        json!({"model": "gpt-4.1-mini", "input": [{"role": "user", "content": "Hi"}], "store": false})
    );
}

#[tokio::test]
async fn a_refusal_is_the_text_of_the_turn() {
    let server = MockServer::start().await;
    let output = json!([{
        "type": "message",
        "id": "msg_1",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "refusal", "refusal": "I can't help with that."}]
    }]);
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(response(output, 5, 6)),
    )
    .await;
    let turn = invoke(&model(&server), &[Message::user("?")])
        .await
        .unwrap();
    assert_eq!(turn.content.as_deref(), Some("I can't help with that."));
}

#[tokio::test]
async fn a_failed_response_is_an_error_with_openais_message() {
    let server = MockServer::start().await;
    let mut failed = response(json!([]), 0, 0);
    failed["status"] = json!("failed");
    failed["error"] =
        json!({"code": "server_error", "message": "The model failed to generate a response."});
    mount(&server, ResponseTemplate::new(200).set_body_json(failed)).await;
    let error = invoke(&model(&server), &[Message::user("?")])
        .await
        .unwrap_err();
    let (code, message) = api_error(&error);
    assert!(
        message.contains("The model failed to generate a response."),
        "{message}"
    );
    assert_eq!(code, Some("server_error"));
}

#[tokio::test]
async fn incomplete_for_max_output_tokens_gives_what_there_is_other_reasons_fail() {
    let server = MockServer::start().await;
    let mut cut = response(json!([message_item("The answer is")]), 10, 16);
    cut["status"] = json!("incomplete");
    cut["incomplete_details"] = json!({"reason": "max_output_tokens"});
    let mut filtered = cut.clone();
    filtered["incomplete_details"] = json!({"reason": "content_filter"});
    mount_in_turn(
        &server,
        vec![
            ResponseTemplate::new(200).set_body_json(cut),
            ResponseTemplate::new(200).set_body_json(filtered),
        ],
    )
    .await;
    let model = model(&server);
    let turn = invoke(&model, &[Message::user("?")]).await.unwrap();
    assert_eq!(turn.content.as_deref(), Some("The answer is"));
    assert_eq!(turn.usage.output_tokens, 16);
    let error = invoke(&model, &[Message::user("?")]).await.unwrap_err();
    assert!(invalid_message(&error).contains("content_filter"));
}

#[tokio::test]
async fn a_response_missing_required_fields_is_invalid_not_a_panic() {
    let server = MockServer::start().await;
    let bodies = [
        json!({"id": "resp_1", "status": "completed"}),
        json!({"output": [{"type": "function_call", "name": "get_weather", "arguments": "{}"}]}),
        json!({"output": [{"type": "message", "role": "assistant"}]}),
        json!({"output": "nope"}),
    ];
    mount_in_turn(
        &server,
        bodies
            .iter()
            .map(|b| ResponseTemplate::new(200).set_body_json(b))
            .chain([ResponseTemplate::new(200).set_body_string("not json")])
            .collect(),
    )
    .await;
    let model = model(&server);
    for _ in 0..5 {
        let error = invoke(&model, &[Message::user("?")]).await.unwrap_err();
        invalid_message(&error);
    }
}

// ---------------------------------------------------------------------------------------------
// Streamed turns

#[tokio::test]
async fn streams_text_deltas_through_keep_alives() {
    let server = MockServer::start().await;
    let mut raw = ": keep-alive\n\n".to_owned();
    for (n, chunk) in sse(&text_events(&["Hel", "lo, ", "wörld", " 😀"], 9, 4))
        .split_inclusive("\n\n")
        .enumerate()
    {
        raw.push_str(chunk);
        if n % 2 == 0 {
            raw.push_str(": ping\n\n");
        }
    }
    mount(&server, stream_reply(raw)).await;
    let events = invoke_stream(&model(&server), &[Message::user("Hi")]).await;
    assert_eq!(turn_deltas(&events), ["Hel", "lo, ", "wörld", " 😀"]);
    let turn = completed_turn(&events);
    assert_eq!(turn.content.as_deref(), Some("Hello, wörld 😀"));
    assert!(turn.tool_calls.is_empty());
    assert_eq!(
        turn.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 4
        }
    );

    let request = &requests(&server).await[0];
    assert_eq!(header(request, "accept"), Some("text/event-stream"));
    assert_eq!(
        header(request, "authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    let sent = body(request);
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["store"], json!(false));
    assert_eq!(sent["input"], json!([{"role": "user", "content": "Hi"}]));
    assert_eq!(sent["tools"][0]["name"], json!("get_weather"));
}

#[tokio::test]
async fn streams_tool_calls_with_split_and_interleaved_arguments() {
    let server = MockServer::start().await;
    // Two calls whose argument deltas interleave; the first call's item has the larger index.
    let a = call_events(1, "get_weather", &["{\"ci", "ty\":", "\"Os", "lo\"}"]);
    let b = call_events(2, "get_weather", &["{\"city\"", ":\"Rome\"}"]);
    let mut events = vec![created(), a[0].clone(), b[0].clone()];
    let (mut a_rest, mut b_rest) = (a[1..].iter(), b[1..].iter());
    loop {
        let (x, y) = (a_rest.next(), b_rest.next());
        if x.is_none() && y.is_none() {
            break;
        }
        events.extend(x.cloned());
        events.extend(y.cloned());
    }
    let final_output = json!([
        call_item(1, "get_weather", r#"{"city":"Oslo"}"#),
        call_item(2, "get_weather", r#"{"city":"Rome"}"#)
    ]);
    events.push(completed(final_output, 20, 30));
    mount(&server, stream_reply(sse(&events))).await;

    let out = invoke_stream(&model(&server), &[Message::user("Oslo and Rome")]).await;
    assert!(turn_deltas(&out).is_empty());
    let turn = completed_turn(&out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        turn.tool_calls,
        vec![
            ToolCall::new(
                "call_unLAR8MvFNptuiZK6K6HCy5k_1",
                "get_weather",
                r#"{"city":"Oslo"}"#
            ),
            ToolCall::new(
                "call_unLAR8MvFNptuiZK6K6HCy5k_2",
                "get_weather",
                r#"{"city":"Rome"}"#
            ),
        ]
    );
    assert_eq!(turn.content, None);
    assert_eq!(turn.usage.output_tokens, 30);
}

#[tokio::test]
async fn streams_text_then_a_tool_call() {
    let server = MockServer::start().await;
    let mut events = text_events(&["Let me ", "look."], 0, 0);
    events.pop(); // its completion
    events.extend(call_events(1, "get_weather", &["{\"city\":", "\"Oslo\"}"]));
    events.push(completed(
        json!([
            message_item("Let me look."),
            call_item(1, "get_weather", r#"{"city":"Oslo"}"#)
        ]),
        7,
        9,
    ));
    mount(&server, stream_reply(sse(&events))).await;
    let out = invoke_stream(&model(&server), &[Message::user("Oslo?")]).await;
    assert_eq!(turn_deltas(&out), ["Let me ", "look."]);
    let turn = completed_turn(&out);
    assert_eq!(turn.content.as_deref(), Some("Let me look."));
    assert_eq!(turn.tool_calls.len(), 1);
    assert_eq!(turn.tool_calls[0].arguments, r#"{"city":"Oslo"}"#);
}

#[tokio::test]
async fn an_error_event_in_the_stream_is_an_error() {
    let server = MockServer::start().await;
    let mut events = text_events(&["Hal"], 0, 0);
    events.truncate(4);
    events.push((
        "error",
        json!({"code": "rate_limit_exceeded", "message": "Rate limit reached for gpt-4.1-mini.", "param": null}),
    ));
    mount(&server, stream_reply(sse(&events))).await;
    let out = invoke_stream(&model(&server), &[Message::user("Hi")]).await;
    assert_eq!(turn_deltas(&out), ["Hal"]);
    let error = out.last().unwrap().as_ref().unwrap_err();
    let (code, message) = api_error(error);
    assert!(
        message.contains("Rate limit reached for gpt-4.1-mini."),
        "{message}"
    );
    assert_eq!(code, Some("rate_limit_exceeded"));
    assert!(
        !out.iter()
            .any(|e| matches!(e, Ok(ModelEvent::Completed(_))))
    );
}

#[tokio::test]
async fn response_failed_in_the_stream_is_an_error() {
    let server = MockServer::start().await;
    let mut failed = response(json!([]), 0, 0);
    failed["status"] = json!("failed");
    failed["error"] = json!({"code": "server_error", "message": "The server had an error."});
    let events = vec![created(), ("response.failed", json!({"response": failed}))];
    mount(&server, stream_reply(sse(&events))).await;
    let out = invoke_stream(&model(&server), &[Message::user("Hi")]).await;
    assert_eq!(out.len(), 1);
    let (code, message) = api_error(out[0].as_ref().unwrap_err());
    assert!(message.contains("The server had an error."), "{message}");
    assert_eq!(code, Some("server_error"));
}

#[tokio::test]
async fn response_incomplete_in_the_stream_gives_what_there_is() {
    let server = MockServer::start().await;
    let mut events = text_events(&["Once upon", " a"], 0, 0);
    let mut cut = response(json!([message_item("Once upon a")]), 11, 16);
    cut["status"] = json!("incomplete");
    cut["incomplete_details"] = json!({"reason": "max_output_tokens"});
    *events.last_mut().unwrap() = ("response.incomplete", json!({"response": cut}));
    mount(&server, stream_reply(sse(&events))).await;
    let out = invoke_stream(&model(&server).max_tokens(16), &[Message::user("A story")]).await;
    let turn = completed_turn(&out);
    assert_eq!(turn.content.as_deref(), Some("Once upon a"));
    assert_eq!(turn.usage.output_tokens, 16);
    assert_eq!(
        body(&requests(&server).await[0])["max_output_tokens"],
        json!(16)
    );
}

#[tokio::test]
async fn a_stream_cut_before_response_completed_is_an_error() {
    let server = MockServer::start().await;
    let mut events = text_events(&["Hello", " there"], 0, 0);
    events.pop(); // no response.completed
    mount(&server, stream_reply(sse(&events))).await;
    let out = invoke_stream(&model(&server), &[Message::user("Hi")]).await;
    assert_eq!(turn_deltas(&out), ["Hello", " there"]);
    let message = invalid_message(out.last().unwrap().as_ref().unwrap_err());
    assert!(message.contains("ended early"), "{message}");

    // Cut in the middle of an event, too.
    let server = MockServer::start().await;
    let whole = sse(&text_events(&["Hello"], 0, 0));
    let cut = whole[..whole.len() - 40].to_owned();
    mount(&server, stream_reply(cut)).await;
    let out = invoke_stream(&model(&server), &[Message::user("Hi")]).await;
    assert!(invalid_message(out.last().unwrap().as_ref().unwrap_err()).contains("ended early"));
}

// ---------------------------------------------------------------------------------------------
// HTTP failures, retries, timeouts, keys

#[tokio::test]
async fn a_400_carries_openais_message_and_is_not_retried() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "error": {
                "message": "Invalid type for 'input[0].content': expected one of a string or array of input items.",
                "type": "invalid_request_error",
                "param": "input[0].content",
                "code": "invalid_type"
            }
        })),
    )
    .await;
    let error = invoke(&model(&server), &[Message::user("?")])
        .await
        .unwrap_err();
    match &error {
        ModelError::Http {
            provider,
            status,
            message,
        } => {
            assert_eq!(provider, "openai-responses");
            assert_eq!(*status, 400);
            assert!(
                message.starts_with("Invalid type for 'input[0].content'"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 1);
    // Streamed, the same.
    let out = invoke_stream(&model(&server), &[Message::user("?")]).await;
    assert!(
        matches!(out[..], [Err(ModelError::Http { status: 400, .. })]),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_ms() {
    let server = MockServer::start().await;
    mount_in_turn(
        &server,
        vec![
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "2")
                .set_body_json(json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})),
            ResponseTemplate::new(200).set_body_json(response(json!([message_item("ok")]), 1, 1)),
        ],
    )
    .await;
    let turn = invoke(&model(&server), &[Message::user("?")])
        .await
        .unwrap();
    assert_eq!(turn.content.as_deref(), Some("ok"));
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn a_500_thrice_is_an_error_after_bounded_tries() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(500)
            .set_body_json(json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})),
    )
    .await;
    // max_retries(2): three tries in all.
    let error = invoke(&model(&server), &[Message::user("?")])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Http { status: 500, message, .. } if message.contains("The server had an error")),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_stalled_server_is_a_timeout() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(response(json!([message_item("late")]), 1, 1))
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    let model = model(&server)
        .timeout(Duration::from_millis(200))
        .read_timeout(Duration::from_millis(200))
        .max_retries(1);
    let started = std::time::Instant::now();
    let error = invoke(&model, &[Message::user("?")]).await.unwrap_err();
    assert!(
        matches!(&error, ModelError::Transport { message, .. } if message.contains("timed out")),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    // A timeout is tried again, within bounds.
    assert_eq!(requests(&server).await.len(), 2);
    // Streamed: the read timeout bounds the wait for the stream.
    let out = invoke_stream(&model.max_retries(0), &[Message::user("?")]).await;
    assert!(
        matches!(&out[..], [Err(ModelError::Transport { message, .. })] if message.contains("timed out")),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_local_server_needs_no_key() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(response(json!([message_item("hi")]), 1, 1)),
    )
    .await;
    // No key given; OPENAI_API_KEY may be set on the machine, so build without it by hand.
    let model = OpenAiResponses::new("llama3.2").base_url(format!("{}/v1", server.uri()));
    if model.settings().api_key.is_some() {
        return; // the environment provides a key: nothing to check here
    }
    let turn = invoke(&model, &[Message::user("?")]).await.unwrap();
    assert_eq!(turn.content.as_deref(), Some("hi"));
    assert_eq!(header(&requests(&server).await[0], "authorization"), None);
}

#[test]
fn debug_never_shows_the_key_and_the_name_names_the_model() {
    let model = OpenAiResponses::new("gpt-4.1-mini").api_key("sk-live-very-secret");
    let shown = format!("{model:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
    assert_eq!(model.name(), "openai-responses:gpt-4.1-mini");
    assert_eq!(
        model.clone().base_url("http://x/v1/").settings().base_url,
        "http://x/v1"
    );
}

// ---------------------------------------------------------------------------------------------
// Through the agent

#[tokio::test]
async fn usage_is_summed_into_the_run_metrics() {
    let server = MockServer::start().await;
    mount_in_turn(
        &server,
        vec![
            ResponseTemplate::new(200).set_body_json(response(
                json!([call_item(1, "add", r#"{"a":2,"b":3}"#)]),
                100,
                20,
            )),
            ResponseTemplate::new(200).set_body_json(response(json!([message_item("5")]), 130, 2)),
        ],
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .tool(add_tool())
        .build()
        .unwrap();
    let run = agent.run("2 + 3?").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("5"));
    assert_eq!(run.metrics.turns, 2);
    assert_eq!(
        run.metrics.usage,
        Usage {
            input_tokens: 230,
            output_tokens: 22
        }
    );
    let second = body(&requests(&server).await[1]);
    assert_eq!(
        second["input"],
        json!([
            {"role": "user", "content": "2 + 3?"},
            {"type": "function_call", "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k_1", "name": "add", "arguments": "{\"a\":2,\"b\":3}"},
            {"type": "function_call_output", "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k_1", "output": "5"}
        ])
    );
}

/// The second request of a paused-and-continued run: the external result paired with the call.
fn assert_continued_with_the_result(second: &Value) {
    assert_eq!(second["instructions"], json!("Use the shell."));
    assert_eq!(
        second["input"],
        json!([
            {"role": "user", "content": "What files do I have?"},
            {"type": "function_call", "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k_1", "name": "shell", "arguments": "{\"command\":\"ls\"}"},
            {"type": "function_call_output", "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k_1", "output": "Cargo.toml\nsrc"}
        ])
    );
    assert_eq!(second["tools"][0]["name"], json!("shell"));
    assert_eq!(second["tools"][0]["type"], json!("function"));
}

#[tokio::test]
async fn a_full_run_pauses_for_an_external_tool_and_continues() {
    let server = MockServer::start().await;
    mount_in_turn(
        &server,
        vec![
            ResponseTemplate::new(200).set_body_json(response(
                json!([call_item(1, "shell", r#"{"command":"ls"}"#)]),
                40,
                10,
            )),
            ResponseTemplate::new(200).set_body_json(response(
                json!([message_item("You have Cargo.toml and src.")]),
                60,
                8,
            )),
        ],
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .instructions("Use the shell.")
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = agent.run("What files do I have?").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(requests(&server).await.len(), 1);
    for req in run.active_requirements_mut() {
        assert!(req.is_external_tool_execution());
        assert_eq!(req.tool_execution.tool_args, json!({"command": "ls"}));
        req.set_external_execution_result("Cargo.toml\nsrc");
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("You have Cargo.toml and src."));
    assert_eq!(run.metrics.usage.input_tokens, 100);
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 2);
    assert_continued_with_the_result(&body(&requests[1]));
}

#[tokio::test]
async fn a_full_streamed_run_pauses_for_an_external_tool_and_continues() {
    let server = MockServer::start().await;
    let mut first = vec![created()];
    first.extend(call_events(1, "shell", &["{\"comm", "and\":\"l", "s\"}"]));
    first.push(completed(
        json!([call_item(1, "shell", r#"{"command":"ls"}"#)]),
        40,
        10,
    ));
    mount_in_turn(
        &server,
        vec![
            stream_reply(sse(&first)),
            stream_reply(sse(&text_events(
                &["You have ", "Cargo.toml and src."],
                60,
                8,
            ))),
        ],
    )
    .await;
    let agent = Agent::builder()
        .model(model(&server))
        .instructions("Use the shell.")
        .tool(shell_tool())
        .build()
        .unwrap();
    let events = stream_events(agent.run_stream("What files do I have?")).await;
    let mut paused = ended_paused(&events);
    for req in paused.active_requirements_mut() {
        assert_eq!(req.tool_execution.tool_args, json!({"command": "ls"}));
        req.set_external_execution_result("Cargo.toml\nsrc");
    }
    let events =
        stream_events(agent.continue_run_stream(&paused.run_id, paused.requirements)).await;
    assert_eq!(
        content_deltas(&events).concat(),
        "You have Cargo.toml and src."
    );
    let done = ended_completed(&events);
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(
        done.content.as_deref(),
        Some("You have Cargo.toml and src.")
    );
    assert_eq!(
        done.metrics.usage,
        Usage {
            input_tokens: 100,
            output_tokens: 18
        }
    );
    let requests = requests(&server).await;
    assert_eq!(requests.len(), 2);
    let second = body(&requests[1]);
    assert_eq!(second["stream"], json!(true));
    assert_continued_with_the_result(&second);
}

/// A server that sends the start of a stream, then nothing (wiremock can only delay a whole
/// response): a raw HTTP/1.1 answer on a thread.
fn stalling_server(first_events: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        // Read the request head and body (the body's length is in the head).
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let Ok(n) = socket.read(&mut buf) else { return };
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length: usize = text[..head_end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if request.len() >= head_end + 4 + length {
                    break;
                }
            }
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let chunk = format!("{:x}\r\n{first_events}\r\n", first_events.len());
        let _ = socket.write_all(head.as_bytes());
        let _ = socket.write_all(chunk.as_bytes());
        let _ = socket.flush();
        std::thread::sleep(Duration::from_secs(5));
    });
    format!("http://{address}/v1")
}

#[tokio::test]
async fn a_stream_that_stalls_midway_is_a_timeout_after_the_deltas_so_far() {
    let mut events = text_events(&["Hel", "lo"], 0, 0);
    events.truncate(5); // created, item added, part added, two deltas
    let base = stalling_server(sse(&events));
    let model = OpenAiResponses::new("gpt-4.1-mini")
        .base_url(base)
        .api_key(KEY)
        .read_timeout(Duration::from_millis(300))
        .max_retries(0);
    let started = std::time::Instant::now();
    let out = invoke_stream(&model, &[Message::user("Hi")]).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(turn_deltas(&out), ["Hel", "lo"]);
    assert!(
        matches!(out.last(), Some(Err(ModelError::Transport { message, .. })) if message.contains("timed out")),
        "{out:?}"
    );
}
