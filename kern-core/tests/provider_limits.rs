//! The limits of the transport every provider shares, checked on each of them against a local
//! server: the size of an answer, the total time of a stream, a key echoed in an error body, a
//! JSON body where a stream was asked for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use futures::StreamExt;
use kern_core::model::{Anthropic, ModelEvent, OpenAiChat, OpenAiResponses};
use kern_core::{Message, Model, ModelError, ModelRequest};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-secret-0123456789abcdef";

/// The limits a test sets on every provider.
#[derive(Clone, Copy)]
struct Limits {
    max_response_bytes: usize,
    stream_timeout: Duration,
    read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_response_bytes: 32 * 1024 * 1024,
            stream_timeout: Duration::from_secs(600),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// The three providers at `base` (no retries: each failure here is final).
fn models(base: &str, limits: Limits) -> Vec<Box<dyn Model>> {
    vec![
        Box::new(
            OpenAiChat::new("gpt-4o-mini")
                .base_url(format!("{base}/v1"))
                .api_key(KEY)
                .max_retries(0)
                .max_response_bytes(limits.max_response_bytes)
                .stream_timeout(limits.stream_timeout)
                .read_timeout(limits.read_timeout),
        ),
        Box::new(
            OpenAiResponses::new("gpt-4.1-mini")
                .base_url(format!("{base}/v1"))
                .api_key(KEY)
                .max_retries(0)
                .max_response_bytes(limits.max_response_bytes)
                .stream_timeout(limits.stream_timeout)
                .read_timeout(limits.read_timeout),
        ),
        Box::new(
            Anthropic::new("claude-sonnet-4-5")
                .base_url(base)
                .api_key(KEY)
                .max_retries(0)
                .max_response_bytes(limits.max_response_bytes)
                .stream_timeout(limits.stream_timeout)
                .read_timeout(limits.read_timeout),
        ),
    ]
}

fn request(messages: &[Message]) -> ModelRequest<'_> {
    ModelRequest {
        instructions: None,
        messages,
        tools: &[],
    }
}

async fn stream(model: &dyn Model, messages: &[Message]) -> Vec<Result<ModelEvent, ModelError>> {
    model.invoke_stream(request(messages)).collect().await
}

/// The one error a stream ended with (after any events).
fn stream_error(events: Vec<Result<ModelEvent, ModelError>>) -> ModelError {
    let mut errors: Vec<ModelError> = events.into_iter().filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

// ------------------------------------------------------------------------------------------
// A key echoed by the server

#[tokio::test]
async fn a_401_that_echoes_the_key_does_not_show_it() {
    let body = json!({
        "error": {
            "message": format!("Incorrect API key provided: {KEY}. Bearer {KEY} is not valid."),
            "type": "invalid_request_error"
        }
    });
    let server = answering(ResponseTemplate::new(401).set_body_json(body)).await;
    let messages = [Message::user("Hi")];
    for model in models(&server.uri(), Limits::default()) {
        let turn = model.invoke(request(&messages)).await.unwrap_err();
        let streamed = stream_error(stream(model.as_ref(), &messages).await);
        for error in [turn, streamed] {
            let shown = format!("{error} {error:?}");
            assert!(
                !shown.contains("0123456789abcdef"),
                "{}: {shown}",
                model.name()
            );
            assert!(
                matches!(&error, ModelError::Http { status: 401, message, .. }
                    if message.contains("Incorrect API key provided: <redacted>")),
                "{}: {error:?}",
                model.name()
            );
        }
    }
}

#[tokio::test]
async fn a_key_echoed_past_the_cut_of_a_plain_text_body_does_not_show_either() {
    // A plain body is cut to 500 characters: the key must be blanked before the cut, or its
    // first half would show.
    let body = format!("{}{KEY}", "x".repeat(490));
    let server = answering(ResponseTemplate::new(403).set_body_string(body)).await;
    for model in models(&server.uri(), Limits::default()) {
        let error = model
            .invoke(request(&[Message::user("Hi")]))
            .await
            .unwrap_err();
        let shown = error.to_string();
        assert!(!shown.contains("sk-test-se"), "{}: {shown}", model.name());
        assert!(shown.contains("<redacted>"), "{}: {shown}", model.name());
    }
}

// ------------------------------------------------------------------------------------------
// The size of an answer

#[tokio::test]
async fn an_answer_over_the_size_limit_is_a_typed_error() {
    let huge = "a".repeat(300 * 1024);
    let body = json!({ "choices": [{ "message": { "role": "assistant", "content": huge } }] });
    let server = answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let limits = Limits {
        max_response_bytes: 64 * 1024,
        ..Limits::default()
    };
    for model in models(&server.uri(), limits) {
        let error = model
            .invoke(request(&[Message::user("Hi")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ModelError::ResponseTooLarge { limit: 65536, .. }),
            "{}: {error:?}",
            model.name()
        );
    }
}

#[tokio::test]
async fn an_answer_without_a_length_over_the_size_limit_is_a_typed_error() {
    // No content-length: the limit holds as the body is read.
    let server = RawServer::start(|stream| {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
        stream.write_all(head.as_bytes())?;
        stream.write_all(br#"{"choices":[{"message":{"content":""#)?;
        let piece = vec![b'a'; 16 * 1024];
        for _ in 0..64 {
            stream.write_all(&piece)?;
        }
        stream.write_all(br#""}}]}"#)
    });
    let limits = Limits {
        max_response_bytes: 100 * 1024,
        ..Limits::default()
    };
    for model in models(&server.base(), limits) {
        let error = model
            .invoke(request(&[Message::user("Hi")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ModelError::ResponseTooLarge { .. }),
            "{}: {error:?}",
            model.name()
        );
    }
}

#[tokio::test]
async fn a_stream_over_the_size_limit_is_a_typed_error() {
    // Keep-alives count: a stream that sends nothing but them still has a size.
    let body = ": keep-alive\n\n".repeat(20_000);
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let limits = Limits {
        max_response_bytes: 64 * 1024,
        ..Limits::default()
    };
    for model in models(&server.uri(), limits) {
        let error = stream_error(stream(model.as_ref(), &[Message::user("Hi")]).await);
        assert!(
            matches!(&error, ModelError::ResponseTooLarge { limit: 65536, .. }),
            "{}: {error:?}",
            model.name()
        );
    }
}

// ------------------------------------------------------------------------------------------
// The total time of a stream

#[tokio::test]
async fn keep_alives_forever_end_at_the_stream_timeout() {
    let server = RawServer::start(|stream| {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        stream.write_all(head.as_bytes())?;
        // Until the client hangs up.
        loop {
            stream.write_all(b": keep-alive\n\n")?;
            stream.flush()?;
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let limits = Limits {
        stream_timeout: Duration::from_millis(300),
        // Never reached: a keep-alive comes every 20 ms.
        read_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    for model in models(&server.base(), limits) {
        // A guard so that a regression fails instead of hanging the suite.
        let events = tokio::time::timeout(
            Duration::from_secs(60),
            stream(model.as_ref(), &[Message::user("Hi")]),
        )
        .await
        .expect("the stream never ended");
        let error = stream_error(events);
        assert!(
            matches!(&error, ModelError::StreamTimeout { limit, .. }
                if *limit == Duration::from_millis(300)),
            "{}: {error:?}",
            model.name()
        );
    }
}

// ------------------------------------------------------------------------------------------
// A JSON body where a stream was asked for

#[tokio::test]
async fn a_json_answer_to_a_stream_request_says_so() {
    let body = json!({ "choices": [{ "message": { "role": "assistant", "content": "Hello" } }] });
    let server = answering(ResponseTemplate::new(200).set_body_json(body)).await;
    for model in models(&server.uri(), Limits::default()) {
        let error = stream_error(stream(model.as_ref(), &[Message::user("Hi")]).await);
        assert!(
            matches!(&error, ModelError::InvalidResponse { message, .. }
                if message.contains("JSON body, not an event stream")),
            "{}: {error:?}",
            model.name()
        );
    }
}

#[tokio::test]
async fn a_json_error_answer_to_a_stream_request_gives_its_message() {
    let body = json!({ "error": { "message": format!("streaming is not enabled for {KEY}") } });
    let server = answering(ResponseTemplate::new(200).set_body_json(body)).await;
    for model in models(&server.uri(), Limits::default()) {
        let error = stream_error(stream(model.as_ref(), &[Message::user("Hi")]).await);
        let shown = error.to_string();
        assert!(
            shown.contains("JSON body") && shown.contains("streaming is not enabled for"),
            "{}: {shown}",
            model.name()
        );
        assert!(!shown.contains(KEY), "{}: {shown}", model.name());
    }
}

// ------------------------------------------------------------------------------------------
// A server wiremock cannot be: it writes its answer over time, or without a length.

/// An HTTP/1.1 server on 127.0.0.1 whose every connection gets the answer `respond` writes after
/// the request has been read. Its threads end when the client hangs up.
struct RawServer {
    port: u16,
}

impl RawServer {
    fn start(respond: fn(&mut std::net::TcpStream) -> std::io::Result<()>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    if read_request(&mut stream).is_ok() {
                        let _ = respond(&mut stream);
                    }
                });
            }
        });
        RawServer { port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Reads a request's head and its body (by `content-length`).
fn read_request(stream: &mut std::net::TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)
}
