//! A model chosen by a `KERN_MODEL` spec (`ModelChoice`) sends its token limit under the name
//! the spec asks for: `openai-compatible:` as `max_completion_tokens`, `openai-compatible-legacy:`
//! as `max_tokens` (llama-cpp-python's server, DeepSeek, Mistral: servers that ignore the new
//! name). Checked on the body a local mock receives.

use kern_core::model::ModelChoice;
use kern_core::{Message, ModelRequest};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The body of the one request `spec` (with `{url}` for the mock's base URL) sends, built with
/// `max_tokens`.
async fn body_sent(spec: &str, max_tokens: Option<u32>) -> Value {
    let server = MockServer::start().await;
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
        .expect(1)
        .mount(&server)
        .await;
    let choice = ModelChoice::parse(&spec.replace("{url}", &format!("{}/v1", server.uri())))
        .expect("a valid spec");
    let model = match max_tokens {
        Some(n) => choice.build_with_max_tokens(n),
        None => choice.build(),
    }
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
    assert_eq!(response.content.as_deref(), Some("Hi."));
    let requests = server.received_requests().await.expect("recording is on");
    serde_json::from_slice(&requests[0].body).expect("a JSON body")
}

#[tokio::test]
async fn the_legacy_spec_sends_the_limit_as_max_tokens() {
    let body = body_sent("openai-compatible-legacy:{url}:gemma-3-270m", Some(32)).await;
    assert_eq!(
        body,
        json!({
            "model": "gemma-3-270m",
            "messages": [{ "role": "user", "content": "Hi" }],
            "max_tokens": 32
        })
    );
}

#[tokio::test]
async fn the_plain_spec_sends_the_limit_as_max_completion_tokens() {
    let body = body_sent("openai-compatible:{url}:gemma-3-270m", Some(32)).await;
    assert_eq!(
        body,
        json!({
            "model": "gemma-3-270m",
            "messages": [{ "role": "user", "content": "Hi" }],
            "max_completion_tokens": 32
        })
    );
}

#[tokio::test]
async fn without_a_limit_neither_name_is_sent() {
    for spec in [
        "openai-compatible:{url}:m",
        "openai-compatible-legacy:{url}:m",
    ] {
        let body = body_sent(spec, None).await;
        assert_eq!(
            body,
            json!({ "model": "m", "messages": [{ "role": "user", "content": "Hi" }] }),
            "{spec}"
        );
    }
}
