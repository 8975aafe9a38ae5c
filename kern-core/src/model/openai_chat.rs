//! [`OpenAiChat`]: OpenAI's Chat Completions API (`POST {base}/chat/completions`), and every
//! server that speaks it (vLLM, Ollama, llama.cpp server, OpenRouter, …) through a base URL.

use std::borrow::Cow;
use std::fmt;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{Http, HttpSettings, secret_header};
use super::sse::SseEvent;
use super::{Model, ModelError, ModelEvent, ModelRequest, ModelResponse, Usage};
use crate::message::{Message, ToolCall};
use crate::tool::ToolDefinition;

const PROVIDER: &str = "openai";
/// OpenAI's own API.
const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const KEY_VAR: &str = "OPENAI_API_KEY";
const BASE_URL_VAR: &str = "OPENAI_BASE_URL";

/// A model behind OpenAI's Chat Completions API, or behind any server that speaks it.
///
/// [`OpenAiChat::new`] reads the key from `OPENAI_API_KEY` and the base URL from
/// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`); the builder methods override both
/// and the timeouts, retries and sampling settings. Nothing is checked until the first request:
/// without a key, that request fails with [`ModelError::Config`] naming `OPENAI_API_KEY` — unless
/// the base URL is not OpenAI's, since a local server (vLLM, Ollama, llama.cpp) needs none; then
/// no `Authorization` header is sent.
///
/// ```no_run
/// use std::time::Duration;
/// use kern_core::model::OpenAiChat;
///
/// // OpenAI, key from OPENAI_API_KEY.
/// let gpt = OpenAiChat::new("gpt-4o-mini").temperature(0.2).max_tokens(1024);
///
/// // A local Ollama server: no key.
/// let local = OpenAiChat::new("llama3.1:8b")
///     .base_url("http://127.0.0.1:11434/v1")
///     .timeout(Duration::from_secs(300));
/// ```
///
/// # Wire format
///
/// The agent's instructions become the first `system` message, then the conversation follows:
/// `user`, `assistant` (its text, or `null` beside its `tool_calls`), and one `tool` message per
/// result, paired with its call by `tool_call_id`. Chat Completions has no error flag on a tool
/// result, so a failed call is sent as `"Error: <message>"`. A tool is sent as
/// `{"type": "function", "function": {name, description, parameters}}`, with `"strict": true`
/// when its definition is strict. `parallel_tool_calls` is left to the server's default.
/// Streaming asks for `stream_options: {"include_usage": true}` so the turn's usage arrives too.
/// A `refusal` the model gives instead of text is taken as its text.
///
/// # Errors
///
/// A non-success status is [`ModelError::Http`] with the server's `error.message` (after the
/// retries, for a 429 or a 5xx). An error the server reports in the middle of a stream
/// (`data: {"error": {…}}`) is [`ModelError::Api`] with the server's code and message. A stream that ends before `data: [DONE]` is
/// [`ModelError::InvalidResponse`], never a shorter answer.
///
/// [`max_tokens`](Self::max_tokens) is sent as `max_completion_tokens` (OpenAI's current name;
/// the o-series and later models refuse the old one). A server that knows only the old
/// `max_tokens` ignores it and writes until the model stops or its context is full: use
/// [`legacy_max_tokens`](Self::legacy_max_tokens) for llama-cpp-python's server (the interop
/// suite, `scripts/interop.sh`, shows it ignoring `max_completion_tokens` and honouring
/// `max_tokens`), DeepSeek, Mistral and older Ollama releases. From `KERN_MODEL`, the form
/// `openai-compatible-legacy:BASE_URL:MODEL` chooses it (see
/// [`ModelChoice`](super::ModelChoice)).
#[derive(Clone)]
pub struct OpenAiChat {
    model: String,
    name: String,
    http: Http,
    max_tokens: Option<u32>,
    legacy_max_tokens: bool,
    temperature: Option<f32>,
}

impl fmt::Debug for OpenAiChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiChat")
            .field("model", &self.model)
            .field("http", &self.http)
            .field("max_tokens", &self.max_tokens)
            .field("legacy_max_tokens", &self.legacy_max_tokens)
            .field("temperature", &self.temperature)
            .finish()
    }
}

impl OpenAiChat {
    /// The model `model` (`"gpt-4o-mini"`), with the key from `OPENAI_API_KEY` and the base URL
    /// from `OPENAI_BASE_URL` if they are set. Cannot fail: a missing key is reported by the
    /// first request.
    pub fn new(model: impl Into<String>) -> Self {
        let model = model.into();
        let settings = HttpSettings::from_env(BASE_URL_VAR, DEFAULT_BASE_URL, KEY_VAR);
        OpenAiChat {
            name: format!("openai:{model}"),
            model,
            http: Http::new(PROVIDER, settings),
            max_tokens: None,
            legacy_max_tokens: false,
            temperature: None,
        }
    }

    super::http::http_builder_methods!("OPENAI_API_KEY");

    /// The most tokens the model may write in a turn (sent as `max_completion_tokens`).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sends [`max_tokens`](Self::max_tokens) under its old name, `max_tokens`, for servers that
    /// do not know `max_completion_tokens`.
    pub fn legacy_max_tokens(mut self, legacy: bool) -> Self {
        self.legacy_max_tokens = legacy;
        self
    }

    /// The sampling temperature (the server's default if not set).
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// The model's name at the server (`"gpt-4o-mini"`).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request headers: the bearer key, if there is one or one is needed.
    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        let settings = self.http.settings();
        let key = match &settings.api_key {
            Some(key) => Some(key),
            // A server of one's own (vLLM, Ollama, llama.cpp) usually wants no key.
            None if settings.base_url != DEFAULT_BASE_URL => None,
            None => Some(self.http.require_key(KEY_VAR)?),
        };
        if let Some(key) = key {
            let value = secret_header(PROVIDER, &format!("Bearer {}", key.expose()))?;
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }

    /// The JSON body of a request.
    fn body(&self, request: &ModelRequest<'_>, stream: bool) -> Result<Vec<u8>, ModelError> {
        let (max_completion_tokens, max_tokens) = if self.legacy_max_tokens {
            (None, self.max_tokens)
        } else {
            (self.max_tokens, None)
        };
        let body = ChatRequest {
            model: &self.model,
            messages: wire_messages(request),
            tools: request.tools.iter().map(|t| WireTool::new(t)).collect(),
            max_completion_tokens,
            max_tokens,
            temperature: self.temperature,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        };
        // Room for the texts and some JSON around them: one allocation, no regrowth, mostly.
        let texts: usize = request.messages.iter().map(message_len).sum();
        let mut buf = Vec::with_capacity(1024 + texts + texts / 8 + 512 * request.tools.len());
        serde_json::to_writer(&mut buf, &body)
            .map(|()| buf)
            .map_err(|e| ModelError::Config {
                provider: PROVIDER.to_owned(),
                message: format!("cannot encode the request: {e}"),
            })
    }

    async fn turn(&self, request: ModelRequest<'_>) -> Result<ModelResponse, ModelError> {
        let headers = self.headers()?;
        let body = self.body(&request, false)?;
        let url = self.http.url("/chat/completions");
        let bytes = self.http.post(&url, headers, body).await?;
        parse_response(&bytes)
    }
}

impl Model for OpenAiChat {
    fn name(&self) -> &str {
        &self.name
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        self.turn(request).boxed()
    }

    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        // The body borrows the request: build it now, send it when the stream is first polled.
        let prepared = self
            .headers()
            .and_then(|headers| Ok((headers, self.body(&request, true)?)));
        let start = async move {
            let (headers, body) = prepared?;
            let url = self.http.url("/chat/completions");
            let events = self.http.post_stream(&url, headers, body).await?;
            Ok(chat_events(events))
        };
        stream::once(start)
            .flat_map(|started| match started {
                Ok(events) => events.left_stream(),
                Err(error) => stream::iter([Err(error)]).right_stream(),
            })
            .boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// The request, borrowing from kern's messages and definitions.

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        /// `null` beside tool calls.
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: Cow<'a, str>,
    },
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    strict: bool,
}

impl<'a> WireTool<'a> {
    fn new(definition: &'a ToolDefinition) -> Self {
        WireTool {
            kind: "function",
            function: WireFunction {
                name: &definition.name,
                description: &definition.description,
                parameters: &definition.parameters,
                strict: definition.strict,
            },
        }
    }
}

/// The text a message carries, to size the request body.
fn message_len(message: &Message) -> usize {
    match message {
        Message::System { content } | Message::User { content } => content.len(),
        Message::Assistant {
            content,
            tool_calls,
        } => {
            content.as_ref().map_or(0, String::len)
                + tool_calls
                    .iter()
                    .map(|c| 64 + c.id.len() + c.name.len() + c.arguments.len())
                    .sum::<usize>()
        }
        Message::Tool { content, .. } => 48 + content.len(),
    }
}

fn wire_messages<'a>(request: &ModelRequest<'a>) -> Vec<WireMessage<'a>> {
    let mut out = Vec::with_capacity(request.messages.len() + 1);
    if let Some(instructions) = request.instructions.filter(|i| !i.is_empty()) {
        out.push(WireMessage::System {
            content: instructions,
        });
    }
    for message in request.messages {
        out.push(match message {
            Message::System { content } => WireMessage::System { content },
            Message::User { content } => WireMessage::User { content },
            Message::Assistant {
                content,
                tool_calls,
            } => WireMessage::Assistant {
                // The API wants text or tool calls: `null` text only beside calls.
                content: match content {
                    Some(text) => Some(text.as_str()),
                    None if tool_calls.is_empty() => Some(""),
                    None => None,
                },
                tool_calls: tool_calls
                    .iter()
                    .map(|call| WireToolCall {
                        id: &call.id,
                        kind: "function",
                        function: WireFunctionCall {
                            name: &call.name,
                            arguments: &call.arguments,
                        },
                    })
                    .collect(),
            },
            Message::Tool {
                tool_call_id,
                content,
                is_error,
                ..
            } => WireMessage::Tool {
                tool_call_id,
                content: if *is_error {
                    Cow::Owned(format!("Error: {content}"))
                } else {
                    Cow::Borrowed(content)
                },
            },
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The answer. `Option` wherever a server may send `null`; unknown fields are ignored.

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ResponseMessage,
}

#[derive(Deserialize)]
struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Deserialize)]
struct ResponseToolCall {
    id: String,
    function: ResponseFunction,
}

#[derive(Deserialize)]
struct ResponseFunction {
    name: String,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens.unwrap_or(0),
            output_tokens: usage.completion_tokens.unwrap_or(0),
        }
    }
}

fn invalid(message: impl Into<String>) -> ModelError {
    ModelError::InvalidResponse {
        provider: PROVIDER.to_owned(),
        message: message.into(),
    }
}

/// A non-streamed answer.
fn parse_response(body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: ChatResponse = match serde_json::from_slice(body) {
        Ok(response) => response,
        Err(error) => {
            // Some servers answer an error with a success status.
            let payload = serde_json::from_slice::<ErrorPayload>(body).ok();
            if let Some(message) = payload.and_then(|p| p.message()) {
                return Err(invalid(format!("the server answered an error: {message}")));
            }
            return Err(invalid(format!("not a chat completion: {error}")));
        }
    };
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(invalid("the answer has no choices"));
    };
    let message = choice.message;
    let content = message.content.or(message.refusal);
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| ToolCall {
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments.unwrap_or_default(),
        })
        .collect();
    Ok(ModelResponse {
        content,
        tool_calls,
        usage: response.usage.map(Usage::from).unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------------
// The streamed answer.

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<ChunkChoice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<DeltaToolCall>>,
}

#[derive(Deserialize)]
struct DeltaToolCall {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<DeltaFunction>,
}

#[derive(Deserialize)]
struct DeltaFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// An error a server sends instead of a chunk: OpenAI's `{"error": {"message", …}}`, or the
/// bare `{"object": "error", "message", …}` of some vLLM versions.
#[derive(Deserialize)]
struct ErrorPayload {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ErrorPayload {
    /// The error's `code`, else its `type` (`server_error`), if it has one.
    fn code(&self) -> Option<String> {
        let error = self.error.as_ref()?;
        ["code", "type"]
            .iter()
            .find_map(|key| error.get(key)?.as_str().filter(|c| !c.is_empty()))
            .map(str::to_owned)
    }

    /// The error's message, if the payload is an error.
    fn message(&self) -> Option<String> {
        if let Some(error) = &self.error {
            if error.is_null() {
                return None;
            }
            let message = match error {
                Value::String(text) => text.clone(),
                Value::Object(map) => match map.get("message") {
                    Some(Value::String(text)) => text.clone(),
                    _ => error.to_string(),
                },
                other => other.to_string(),
            };
            return Some(message);
        }
        if self.object.as_deref() == Some("error") {
            return Some(
                self.message
                    .clone()
                    .unwrap_or_else(|| "unknown error".into()),
            );
        }
        None
    }
}

/// A tool call being assembled from deltas.
#[derive(Debug, Default)]
struct PartialCall {
    /// The `index` the deltas of this call carry, if they carry one.
    index: Option<u32>,
    id: String,
    name: String,
    arguments: String,
}

/// Assembles a streamed turn from its chunks.
#[derive(Debug, Default)]
struct Assembler {
    text: String,
    calls: Vec<PartialCall>,
    usage: Usage,
}

/// What one `data:` payload meant.
enum Step {
    /// Text to pass on (possibly none).
    Text(Option<String>),
    /// `[DONE]`: the turn is whole.
    Done,
}

impl Assembler {
    fn feed(&mut self, data: &str) -> Result<Step, ModelError> {
        if data.trim() == "[DONE]" {
            return Ok(Step::Done);
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(error) => return Err(invalid(format!("not a chat completion chunk: {error}"))),
        };
        if let Some(usage) = chunk.usage {
            self.usage = usage.into();
        }
        let mut text: Option<String> = None;
        for choice in chunk.choices.unwrap_or_default() {
            // With `n` > 1 a server would interleave choices; the first is the turn.
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            let Some(delta) = choice.delta else { continue };
            for piece in [delta.content, delta.refusal].into_iter().flatten() {
                if !piece.is_empty() {
                    self.text.push_str(&piece);
                    match &mut text {
                        Some(text) => text.push_str(&piece),
                        None => text = Some(piece),
                    }
                }
            }
            for call in delta.tool_calls.unwrap_or_default() {
                self.tool_call_delta(call);
            }
        }
        Ok(Step::Text(text))
    }

    /// Adds a tool-call delta to its call: the one with its `index`, or a new one. A new `id` at
    /// an index already in use starts a new call (some servers give every call of a turn index
    /// 0); a delta without an index continues the last call unless it brings a new `id`.
    fn tool_call_delta(&mut self, delta: DeltaToolCall) {
        let id = delta.id.filter(|id| !id.is_empty());
        let position = match delta.index {
            Some(index) => self.calls.iter().rposition(|c| c.index == Some(index)),
            None => self.calls.len().checked_sub(1),
        };
        let position = match position {
            Some(p)
                if id
                    .as_ref()
                    .is_none_or(|id| self.calls[p].id.is_empty() || self.calls[p].id == *id) =>
            {
                p
            }
            _ => {
                self.calls.push(PartialCall {
                    index: delta.index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[position];
        if let Some(id) = id
            && call.id.is_empty()
        {
            call.id = id;
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name.filter(|n| !n.is_empty()) {
                // OpenAI sends the name whole, once; a server repeating it is not appending.
                if call.name.is_empty() {
                    call.name = name;
                } else if call.name != name {
                    call.name.push_str(&name);
                }
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
    }

    fn finish(self) -> Result<ModelResponse, ModelError> {
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for call in self.calls {
            if call.name.is_empty() {
                return Err(invalid("a streamed tool call has no function name"));
            }
            tool_calls.push(ToolCall {
                id: call.id,
                name: call.name,
                arguments: call.arguments,
            });
        }
        Ok(ModelResponse {
            content: (!self.text.is_empty()).then_some(self.text),
            tool_calls,
            usage: self.usage,
        })
    }
}

/// The model events of a Chat Completions event stream.
fn chat_events<S>(events: S) -> impl Stream<Item = Result<ModelEvent, ModelError>> + Send + 'static
where
    S: Stream<Item = Result<SseEvent, ModelError>> + Send + 'static,
{
    struct State<S> {
        events: std::pin::Pin<Box<S>>,
        assembler: Option<Assembler>,
    }
    let state = State {
        events: Box::pin(events),
        assembler: Some(Assembler::default()),
    };
    stream::unfold(state, move |mut state| async move {
        let assembler = state.assembler.as_mut()?;
        loop {
            let event = match state.events.next().await {
                Some(Ok(event)) => event,
                Some(Err(error)) => {
                    state.assembler = None;
                    return Some((Err(error), state));
                }
                None => {
                    state.assembler = None;
                    let error = invalid("the stream ended early (no [DONE])");
                    return Some((Err(error), state));
                }
            };
            if let Some(error) = stream_error(&event.data) {
                state.assembler = None;
                return Some((Err(error), state));
            }
            match assembler.feed(&event.data) {
                Ok(Step::Text(Some(text))) => {
                    return Some((Ok(ModelEvent::ContentDelta(text)), state));
                }
                Ok(Step::Text(None)) => {}
                Ok(Step::Done) => {
                    let done = state.assembler.take().map(Assembler::finish)?;
                    return Some((done.map(ModelEvent::Completed), state));
                }
                Err(error) => {
                    state.assembler = None;
                    return Some((Err(error), state));
                }
            }
        }
    })
}

/// The message of an error payload in the stream, if `data` is one. Cheap for ordinary chunks:
/// only a payload mentioning `"error"` is parsed twice.
fn stream_error(data: &str) -> Option<ModelError> {
    if !data.contains("\"error\"") {
        return None;
    }
    let payload = serde_json::from_str::<ErrorPayload>(data).ok()?;
    let message = payload.message()?;
    Some(ModelError::Api {
        provider: PROVIDER.to_owned(),
        code: payload.code(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed_all(chunks: &[Value]) -> ModelResponse {
        let mut assembler = Assembler::default();
        for chunk in chunks {
            assembler.feed(&chunk.to_string()).unwrap();
        }
        assert!(matches!(assembler.feed("[DONE]"), Ok(Step::Done)));
        assembler.finish().unwrap()
    }

    #[test]
    fn debug_never_shows_the_key() {
        let model = OpenAiChat::new("gpt-4o-mini").api_key("sk-very-secret");
        let shown = format!("{model:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn a_key_is_needed_for_openai_itself_and_not_for_another_server() {
        let mut model = OpenAiChat::new("gpt-4o-mini").base_url(DEFAULT_BASE_URL);
        model.http.settings_mut().api_key = None;
        match model.headers() {
            Err(ModelError::Config { provider, message }) => {
                assert_eq!(provider, "openai");
                assert!(message.contains("OPENAI_API_KEY"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let local = model.base_url("http://127.0.0.1:8080/v1/");
        assert_eq!(local.settings().base_url, "http://127.0.0.1:8080/v1");
        assert!(local.headers().unwrap().is_empty());
        let keyed = local.api_key("sk-x");
        let headers = keyed.headers().unwrap();
        assert_eq!(headers[AUTHORIZATION], "Bearer sk-x");
        assert!(headers[AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn calls_with_the_same_index_and_new_ids_are_separate() {
        // Ollama-style: every call of the batch at index 0, told apart by id.
        let response = feed_all(&[
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","type":"function","function":{"name":"g","arguments":"{\"x\":1}"}}]}}]}),
        ]);
        assert_eq!(
            response.tool_calls,
            vec![
                ToolCall::new("a", "f", "{}"),
                ToolCall::new("b", "g", "{\"x\":1}")
            ]
        );
    }

    #[test]
    fn deltas_without_index_continue_the_last_call() {
        let response = feed_all(&[
            json!({"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"q\":"}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"2}"}}]}}]}),
        ]);
        assert_eq!(
            response.tool_calls,
            vec![ToolCall::new("a", "f", "{\"q\":2}")]
        );
    }

    #[test]
    fn a_repeated_name_is_not_doubled_and_other_choices_are_ignored() {
        let response = feed_all(&[
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"}"}}]}}]}),
            json!({"choices":[{"index":1,"delta":{"content":"other choice"}}]}),
        ]);
        assert_eq!(response.tool_calls, vec![ToolCall::new("a", "f", "{}")]);
        assert_eq!(response.content, None);
    }

    #[test]
    fn a_call_without_a_name_is_invalid_not_a_panic() {
        let mut assembler = Assembler::default();
        assembler
            .feed(&json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}).to_string())
            .unwrap();
        assert!(matches!(
            assembler.finish(),
            Err(ModelError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        for body in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"choices":[]}"#,
            r#"{"choices":[{}]}"#,
            r#"{"choices":[{"message":{"tool_calls":[{"id":"x"}]}}]}"#,
            r#"{"choices":"x"}"#,
        ] {
            assert!(
                matches!(
                    parse_response(body.as_bytes()),
                    Err(ModelError::InvalidResponse { .. })
                ),
                "{body}"
            );
        }
        let mut assembler = Assembler::default();
        for data in ["", "{", "[1]", r#"{"choices":7}"#] {
            assert!(assembler.feed(data).is_err(), "{data}");
        }
    }

    #[test]
    fn nulls_where_servers_send_them() {
        let body = json!({
            "choices":[{"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":null}}],
            "usage":{"prompt_tokens":null,"completion_tokens":3}
        });
        let response = parse_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(response.content, None);
        assert!(response.tool_calls.is_empty());
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 0,
                output_tokens: 3
            }
        );
    }

    #[test]
    fn error_payloads_are_recognised() {
        let seen = |data: &str| match stream_error(data) {
            Some(ModelError::Api { code, message, .. }) => Some((code, message)),
            Some(other) => panic!("{other:?}"),
            None => None,
        };
        assert_eq!(
            seen(r#"{"error":{"message":"boom","type":"server_error"}}"#),
            Some((Some("server_error".into()), "boom".into()))
        );
        assert_eq!(
            seen(r#"{"object":"error","message":"too long","type":"BadRequestError","code":400}"#),
            Some((None, "too long".into()))
        );
        assert_eq!(
            seen(r#"{"choices":[{"delta":{"content":"\"error\""}}]}"#),
            None
        );
        assert_eq!(seen(r#"{"error":null,"choices":[]}"#), None);
    }
}
