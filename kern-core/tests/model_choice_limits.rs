//! `ModelChoice::build_with_max_tokens` sends the limit under each provider's own name:
//! `max_tokens` for Anthropic, `max_output_tokens` for Responses, `max_completion_tokens` for
//! OpenAI's Chat Completions. One test in its own binary: the base URLs come from the process
//! environment (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`), which no other test may read meanwhile.

use kern_core::model::ModelChoice;
use kern_core::{Message, ModelRequest};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn set(name: &str, value: &str) {
    // SAFETY: the only test of this binary, and it sets them before any other thread reads them.
    unsafe { std::env::set_var(name, value) }
}

/// The body of the one request the model `spec` names sends, built with a limit of 77.
async fn body_sent(server: &MockServer, spec: &str) -> Value {
    let model = ModelChoice::parse(spec)
        .and_then(|choice| choice.build_with_max_tokens(77))
        .expect("the model builds");
    let messages = [Message::user("Hi")];
    let response = model
        .invoke(ModelRequest {
            instructions: None,
            messages: &messages,
            tools: &[],
        })
        .await
        .expect("the mock answers");
    assert_eq!(response.content.as_deref(), Some("Hi."), "{spec}");
    let requests = server.received_requests().await.expect("recording is on");
    let last = requests.last().expect("a request");
    serde_json::from_slice(&last.body).expect("a JSON body")
}

#[tokio::test]
async fn each_provider_gets_the_limit_under_its_own_name() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{ "type": "text", "text": "Hi." }],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": { "input_tokens": 1, "output_tokens": 1 }
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "resp_1", "object": "response", "status": "completed",
            "output": [{
                "type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{ "type": "output_text", "text": "Hi.", "annotations": [] }]
            }],
            "usage": { "input_tokens": 1, "output_tokens": 1, "total_tokens": 2 }
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": "Hi." },
                "finish_reason": "stop"
            }],
            "usage": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 }
        })))
        .mount(&server)
        .await;
    set("ANTHROPIC_BASE_URL", &server.uri());
    set("ANTHROPIC_API_KEY", "sk-ant-test");
    set("OPENAI_BASE_URL", &format!("{}/v1", server.uri()));
    set("OPENAI_API_KEY", "sk-test");

    let anthropic = body_sent(&server, "anthropic:claude-test").await;
    assert_eq!(anthropic["max_tokens"], json!(77), "{anthropic}");

    let responses = body_sent(&server, "openai-responses:gpt-test").await;
    assert_eq!(responses["max_output_tokens"], json!(77), "{responses}");
    assert!(responses.get("max_tokens").is_none(), "{responses}");

    let chat = body_sent(&server, "openai:gpt-test").await;
    assert_eq!(chat["max_completion_tokens"], json!(77), "{chat}");
    assert!(chat.get("max_tokens").is_none(), "{chat}");
}
