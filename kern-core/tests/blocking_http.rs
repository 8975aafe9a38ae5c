//! The blocking facade with every HTTP provider, against a local mock of each API: the facade's
//! runtime has I/O, so a request goes out (and a run pauses and continues) instead of panicking.

mod common;

use std::time::Duration;

use common::*;
use kern_core::model::{Anthropic, OpenAiChat, OpenAiResponses};
use kern_core::{Agent, Model, RunStatus};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789";

/// A runtime of its own for the mock server: the facade is called from plain threads.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A mock answering POSTs to `route` with `bodies`, one each, in order.
fn serve(runtime: &tokio::runtime::Runtime, route: &str, bodies: Vec<Value>) -> MockServer {
    runtime.block_on(async {
        let server = MockServer::start().await;
        for body in bodies {
            Mock::given(method("POST"))
                .and(path(route))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .up_to_n_times(1)
                .mount(&server)
                .await;
        }
        server
    })
}

fn chat(message: Value) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15 }
    })
}

fn blocking(model: impl Model) -> kern_core::blocking::Agent {
    Agent::builder()
        .model(model)
        .tool(shell_tool())
        .build_blocking()
        .unwrap()
}

#[test]
fn the_blocking_facade_pauses_and_continues_with_openai_chat() {
    let runtime = server_runtime();
    let server = serve(
        &runtime,
        "/v1/chat/completions",
        vec![
            chat(json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_abc",
                    "type": "function",
                    "function": { "name": "shell", "arguments": "{\"command\":\"ls\"}" }
                }]
            })),
            chat(json!({ "role": "assistant", "content": "You have a.txt." })),
        ],
    );
    let agent = blocking(
        OpenAiChat::new("gpt-4o-mini")
            .base_url(format!("{}/v1/", server.uri()))
            .api_key(KEY)
            .backoff(Duration::from_millis(1), Duration::from_millis(1)),
    );
    let mut run = agent.run("List files").unwrap();
    assert!(run.is_paused(), "{run:?}");
    run.requirements[0].set_external_execution_result("a.txt");
    let run = agent.continue_run(&run.run_id, &run.requirements).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("You have a.txt."));
    let received = runtime.block_on(server.received_requests()).unwrap();
    assert_eq!(received.len(), 2);
}

#[test]
fn the_blocking_facade_runs_with_openai_responses() {
    let runtime = server_runtime();
    let server = serve(
        &runtime,
        "/v1/responses",
        vec![json!({
            "id": "resp_1",
            "object": "response",
            "status": "completed",
            "model": "gpt-4.1-mini",
            "output": [{
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{ "type": "output_text", "text": "Hello there.", "annotations": [] }]
            }],
            "usage": { "input_tokens": 10, "output_tokens": 3, "total_tokens": 13 }
        })],
    );
    let agent = blocking(
        OpenAiResponses::new("gpt-4.1-mini")
            .base_url(format!("{}/v1/", server.uri()))
            .api_key(KEY)
            .backoff(Duration::from_millis(1), Duration::from_millis(1)),
    );
    let run = agent.run("Hello").unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("Hello there."));
}

#[test]
fn the_blocking_facade_runs_with_anthropic() {
    let runtime = server_runtime();
    let server = serve(
        &runtime,
        "/v1/messages",
        vec![json!({
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{ "type": "text", "text": "Hi!" }],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": { "input_tokens": 10, "output_tokens": 2 }
        })],
    );
    let agent = blocking(
        Anthropic::new("claude-sonnet-4-5")
            .base_url(server.uri())
            .api_key(KEY)
            .backoff(Duration::from_millis(1), Duration::from_millis(1)),
    );
    let run = agent.run("Hello").unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("Hi!"));
}
