//! [`Anthropic`]: Claude through the Anthropic Messages API (`POST /v1/messages`), streamed or
//! not.

use std::borrow::Cow;
use std::fmt;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::http::{Http, secret_header};
use super::sse::SseEvent;
use super::{HttpSettings, Model, ModelError, ModelEvent, ModelRequest, ModelResponse, Usage};
use crate::message::{Message, ToolCall};
use crate::tool::ToolDefinition;

const PROVIDER: &str = "anthropic";
const KEY_VAR: &str = "ANTHROPIC_API_KEY";
const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const API_VERSION: &str = "2023-06-01";
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The key under which the tool input of an earlier call is sent when the model's arguments were
/// not a JSON object (see [`Anthropic`]).
const RAW_ARGUMENTS: &str = "_raw_arguments";

/// Claude, through the [Anthropic Messages API](https://docs.anthropic.com/en/api/messages).
///
/// [`Anthropic::new`] reads the key from `ANTHROPIC_API_KEY` and the server from
/// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`); the builder methods override them
/// and set the timeouts, the retries and the sampling parameters. A missing key is a
/// [`ModelError::Config`] at the first request, never a panic. `Debug` never shows the key.
///
/// How kern's conversation goes on the wire:
/// - the agent's instructions and every [`Message::System`] are joined (with a blank line) into
///   the top-level `system` parameter;
/// - an assistant turn is one `assistant` message with a `text` block and a `tool_use` block per
///   call; a call's `arguments` (JSON text) become the block's `input` object. Empty arguments are
///   `{}`; arguments that are not a JSON object (the model wrote malformed JSON, and the agent
///   already answered that call with a tool error) are kept as
///   `{"_raw_arguments": "<the text>"}`, so the model sees what it wrote next to the error;
/// - tool results are `tool_result` blocks (with `is_error` for errors) in a `user` message; the
///   results of parallel calls and a user text that follows them share one `user` message, since
///   the API wants the roles to alternate, and within it the results come first, as the API
///   requires.
///
/// A tool with [`ToolDefinition::strict`] is sent with `"strict": true` (strict tool use) when
/// Anthropic takes its schema ([`crate::schema::anthropic_strict_accepts`]: no numeric bounds, no
/// recursion), else without.
///
/// ```no_run
/// use kern_core::{Agent, model::Anthropic};
/// use std::time::Duration;
///
/// # async fn demo() -> kern_core::Result<()> {
/// let model = Anthropic::new("claude-sonnet-4-5")
///     .max_tokens(2048)
///     .timeout(Duration::from_secs(60))
///     .max_retries(2);
/// let agent = Agent::builder().model(model).instructions("Be brief.").build()?;
/// let run = agent.run("What is the capital of France?").await?;
/// println!("{}", run.content.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Anthropic {
    model: String,
    name: String,
    http: Http,
    max_tokens: u32,
    temperature: Option<f32>,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("provider", &self.http.provider())
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("http", self.http.settings())
            .finish()
    }
}

impl Anthropic {
    /// The model `model` ("claude-sonnet-4-5", …), with the key from `ANTHROPIC_API_KEY` and the
    /// server from `ANTHROPIC_BASE_URL` if they are set.
    pub fn new(model: impl Into<String>) -> Self {
        let model = model.into();
        let settings = HttpSettings::from_env(BASE_URL_VAR, DEFAULT_BASE_URL, KEY_VAR);
        Anthropic {
            name: format!("{PROVIDER}:{model}"),
            model,
            http: Http::new(PROVIDER, settings),
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: None,
        }
    }

    super::http::http_builder_methods!("ANTHROPIC_API_KEY");

    /// The most tokens the model may write in one turn (`max_tokens`, which the API requires;
    /// default 4096).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// The sampling temperature (0.0 to 1.0; the API's default if not set).
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// The model's id, as sent to the API.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The headers and the JSON body of a request.
    fn prepare(
        &self,
        request: ModelRequest<'_>,
        stream: bool,
    ) -> Result<(HeaderMap, Vec<u8>), ModelError> {
        let key = self.http.require_key(KEY_VAR)?;
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert("x-api-key", secret_header(PROVIDER, key.expose())?);
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        // Most bodies (a few turns, a few tools) fit without growing the buffer.
        let mut body = Vec::with_capacity(2048);
        serde_json::to_writer(&mut body, &WireRequest::new(self, request, stream))
            .map_err(|e| ModelError::Other(format!("{PROVIDER}: {e}")))?;
        Ok((headers, body))
    }

    fn url(&self) -> String {
        self.http.url("/v1/messages")
    }
}

impl Model for Anthropic {
    fn name(&self) -> &str {
        &self.name
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let (headers, body) = self.prepare(request, false)?;
            let bytes = self.http.post(&self.url(), headers, body).await?;
            parse_response(&bytes)
        })
    }

    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        // The body borrows the request: serialize it now, so the stream only holds bytes.
        let prepared = self.prepare(request, true);
        let open = async move {
            let (headers, body) = prepared?;
            self.http.post_stream(&self.url(), headers, body).await
        };
        stream::once(open)
            .flat_map(|opened| match opened {
                Ok(events) => decode_stream(Box::pin(events)).left_stream(),
                Err(error) => stream::once(async { Err(error) }).right_stream(),
            })
            .boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// Request

/// The body of `POST /v1/messages`, borrowing from the request.
#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Cow<'a, str>>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Role {
    User,
    Assistant,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: Role,
    content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    input_schema: &'a Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    strict: bool,
}

impl<'a> WireRequest<'a> {
    fn new(model: &'a Anthropic, request: ModelRequest<'a>, stream: bool) -> Self {
        let mut system: Vec<&'a str> = Vec::new();
        if let Some(instructions) = request.instructions.filter(|i| !i.trim().is_empty()) {
            system.push(instructions);
        }
        let mut messages: Vec<WireMessage<'a>> = Vec::with_capacity(request.messages.len());
        for message in request.messages {
            let (role, blocks) = match message {
                Message::System { content } => {
                    if !content.trim().is_empty() {
                        system.push(content);
                    }
                    continue;
                }
                Message::User { content } => (Role::User, text_block(content)),
                Message::Assistant {
                    content,
                    tool_calls,
                } => {
                    let text = content.as_deref().and_then(text_block);
                    let calls = tool_calls.iter().map(|call| Block::ToolUse {
                        id: &call.id,
                        name: &call.name,
                        input: tool_input(&call.arguments),
                    });
                    push(
                        &mut messages,
                        Role::Assistant,
                        text.into_iter().chain(calls),
                    );
                    continue;
                }
                Message::Tool {
                    tool_call_id,
                    content,
                    is_error,
                    ..
                } => (
                    Role::User,
                    Some(Block::ToolResult {
                        tool_use_id: tool_call_id,
                        content,
                        is_error: *is_error,
                    }),
                ),
            };
            push(&mut messages, role, blocks);
        }
        // In a user message the tool results must come before any text (a stable sort: the
        // results keep their order, and so do the texts).
        for message in &mut messages {
            if message.role == Role::User {
                message
                    .content
                    .sort_by_key(|block| !matches!(block, Block::ToolResult { .. }));
            }
        }
        let system = match system.as_slice() {
            [] => None,
            [one] => Some(Cow::Borrowed(*one)),
            many => Some(Cow::Owned(many.join("\n\n"))),
        };
        WireRequest {
            model: &model.model,
            max_tokens: model.max_tokens,
            system,
            messages,
            tools: request.tools.iter().map(|t| WireTool::new(t)).collect(),
            temperature: model.temperature,
            stream,
        }
    }
}

impl<'a> WireTool<'a> {
    fn new(tool: &'a ToolDefinition) -> Self {
        WireTool {
            name: &tool.name,
            description: &tool.description,
            input_schema: &tool.parameters,
            // Strict only where Anthropic's strict tool use takes the schema.
            strict: tool.strict && crate::schema::anthropic_strict_accepts(&tool.parameters),
        }
    }
}

/// A text block, unless the text is empty (the API refuses empty text blocks).
fn text_block(text: &str) -> Option<Block<'_>> {
    (!text.is_empty()).then_some(Block::Text { text })
}

/// Adds `blocks` to the last message if it has the same role (the API wants the roles to
/// alternate), else as a new message. No blocks, no message (the API refuses empty ones).
fn push<'a>(
    messages: &mut Vec<WireMessage<'a>>,
    role: Role,
    blocks: impl IntoIterator<Item = Block<'a>>,
) {
    let mut blocks = blocks.into_iter().peekable();
    if blocks.peek().is_none() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(WireMessage {
            role,
            content: blocks.collect(),
        }),
    }
}

/// A tool call's arguments as the `input` object the API wants: `{}` for none, the object
/// itself, or — for text that is not a JSON object — the text under `_raw_arguments`.
fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => object,
        _ => {
            let mut map = Map::with_capacity(1);
            map.insert(
                RAW_ARGUMENTS.to_owned(),
                Value::String(arguments.to_owned()),
            );
            Value::Object(map)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Response

/// A Messages API response (unknown fields are ignored).
#[derive(Deserialize)]
struct WireResponse {
    content: Vec<ResponseBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

/// A content block of a response; kinds kern does not use (thinking, server tools, …) are
/// skipped.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    #[serde(other)]
    Other,
}

/// Token counts. In a stream, `message_start` and `message_delta` both carry them (the latter's
/// are cumulative), so every count is optional and a later one replaces an earlier one.
#[derive(Deserialize, Default, Debug, Clone, Copy)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    fn update(&mut self, later: WireUsage) {
        let replace = |mine: &mut Option<u64>, theirs: Option<u64>| {
            if theirs.is_some() {
                *mine = theirs;
            }
        };
        replace(&mut self.input_tokens, later.input_tokens);
        replace(&mut self.output_tokens, later.output_tokens);
        replace(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        replace(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }

    /// kern's usage: the input counts the tokens written to and read from the prompt cache too
    /// (Anthropic reports them apart from `input_tokens`).
    fn usage(self) -> Usage {
        let input = self
            .input_tokens
            .unwrap_or(0)
            .saturating_add(self.cache_creation_input_tokens.unwrap_or(0))
            .saturating_add(self.cache_read_input_tokens.unwrap_or(0));
        Usage {
            input_tokens: input,
            output_tokens: self.output_tokens.unwrap_or(0),
        }
    }
}

fn invalid(message: impl Into<String>) -> ModelError {
    ModelError::InvalidResponse {
        provider: PROVIDER.to_owned(),
        message: message.into(),
    }
}

fn parse_response(body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: WireResponse = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("cannot read the message: {e}")))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in response.content {
        match block {
            ResponseBlock::Text { text: t } => text.push_str(&t),
            ResponseBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments: input.to_string(),
            }),
            ResponseBlock::Other => {}
        }
    }
    tracing::debug!(provider = PROVIDER, stop_reason = ?response.stop_reason, "turn");
    Ok(ModelResponse {
        content: (!text.is_empty()).then_some(text),
        tool_calls,
        usage: response.usage.usage(),
    })
}

// ---------------------------------------------------------------------------------------------
// Stream

/// The data of `message_start`.
#[derive(Deserialize)]
struct MessageStart {
    message: StartMessage,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: WireUsage,
}

/// The data of `content_block_start`.
#[derive(Deserialize)]
struct BlockStart {
    index: usize,
    content_block: StartBlock,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Option<Value>,
    },
    #[serde(other)]
    Other,
}

/// The data of `content_block_delta`. Flat rather than tagged (the hot path of a stream: no
/// buffering); delta kinds kern does not use (thinking, signatures, citations) are skipped.
#[derive(Deserialize)]
struct BlockDelta<'a> {
    index: usize,
    #[serde(borrow)]
    delta: Delta<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, borrow)]
    partial_json: Option<Cow<'a, str>>,
}

/// The data of `message_delta`.
#[derive(Deserialize)]
struct MessageDelta {
    #[serde(default)]
    delta: Option<MessageDeltaBody>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// The data of an `error` event.
#[derive(Deserialize)]
struct ErrorEvent {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// The `type` of an event whose SSE `event:` line is missing.
#[derive(Deserialize)]
struct EventType<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

/// A tool call being streamed.
#[derive(Debug)]
struct PendingCall {
    index: usize,
    id: String,
    name: String,
    /// The `partial_json` pieces so far.
    json: String,
    /// The `input` of `content_block_start` (`{}` in practice), used if no piece came.
    start_input: Option<Value>,
}

/// What one event of the stream means for the caller.
#[derive(Debug, PartialEq)]
enum Step {
    Nothing,
    Delta(String),
    Done,
}

/// The turn being streamed: text, tool calls by block index, usage.
#[derive(Debug, Default)]
struct StreamTurn {
    text: String,
    calls: Vec<PendingCall>,
    usage: WireUsage,
    stop_reason: Option<String>,
}

fn parse<'a, T: Deserialize<'a>>(name: &str, data: &'a str) -> Result<T, ModelError> {
    serde_json::from_str(data).map_err(|e| invalid(format!("cannot read a `{name}` event: {e}")))
}

impl StreamTurn {
    /// Takes in one event.
    fn push(&mut self, event: &SseEvent) -> Result<Step, ModelError> {
        let data = event.data.as_str();
        let kind = match &event.event {
            Some(name) => Cow::Borrowed(name.as_str()),
            None => parse::<EventType<'_>>("unnamed", data)?.kind,
        };
        match kind.as_ref() {
            "content_block_delta" => {
                let BlockDelta { index, delta } = parse(&kind, data)?;
                match delta.kind.as_ref() {
                    "text_delta" => {
                        let text = delta.text.unwrap_or_default();
                        if text.is_empty() {
                            return Ok(Step::Nothing);
                        }
                        self.text.push_str(&text);
                        Ok(Step::Delta(text))
                    }
                    "input_json_delta" => {
                        // A delta of a block kern does not keep (a server tool's input) is skipped.
                        if let (Some(call), Some(piece)) = (
                            self.calls.iter_mut().rev().find(|c| c.index == index),
                            delta.partial_json,
                        ) {
                            call.json.push_str(&piece);
                        }
                        Ok(Step::Nothing)
                    }
                    _ => Ok(Step::Nothing),
                }
            }
            "content_block_start" => {
                let BlockStart {
                    index,
                    content_block,
                } = parse(&kind, data)?;
                match content_block {
                    StartBlock::Text { text } if !text.is_empty() => {
                        self.text.push_str(&text);
                        Ok(Step::Delta(text))
                    }
                    StartBlock::ToolUse { id, name, input } => {
                        self.calls.push(PendingCall {
                            index,
                            id,
                            name,
                            json: String::new(),
                            start_input: input,
                        });
                        Ok(Step::Nothing)
                    }
                    _ => Ok(Step::Nothing),
                }
            }
            "message_start" => {
                let start: MessageStart = parse(&kind, data)?;
                self.usage.update(start.message.usage);
                Ok(Step::Nothing)
            }
            "message_delta" => {
                let delta: MessageDelta = parse(&kind, data)?;
                if let Some(usage) = delta.usage {
                    self.usage.update(usage);
                }
                if let Some(reason) = delta.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason = Some(reason);
                }
                Ok(Step::Nothing)
            }
            "message_stop" => Ok(Step::Done),
            "error" => {
                let ErrorEvent { error } = parse(&kind, data)?;
                Err(stream_error(error))
            }
            // `ping`, `content_block_stop`, and kinds added later.
            _ => Ok(Step::Nothing),
        }
    }

    /// The whole turn, once `message_stop` came.
    fn finish(self) -> ModelResponse {
        let mut calls = self.calls;
        calls.sort_by_key(|c| c.index);
        let tool_calls = calls
            .into_iter()
            .map(|call| {
                let arguments = if !call.json.trim().is_empty() {
                    call.json
                } else {
                    match call.start_input {
                        Some(Value::Object(map)) if !map.is_empty() => {
                            Value::Object(map).to_string()
                        }
                        _ => "{}".to_owned(),
                    }
                };
                ToolCall {
                    id: call.id,
                    name: call.name,
                    arguments,
                }
            })
            .collect();
        tracing::debug!(provider = PROVIDER, stop_reason = ?self.stop_reason, "streamed turn");
        ModelResponse {
            content: (!self.text.is_empty()).then_some(self.text),
            tool_calls,
            usage: self.usage.usage(),
        }
    }
}

/// An `error` event: [`ModelError::Api`] with Anthropic's error type (`overloaded_error`) as the
/// code.
fn stream_error(error: ErrorBody) -> ModelError {
    let code = (!error.kind.is_empty()).then(|| error.kind.clone());
    let message = if error.message.is_empty() {
        error.kind
    } else {
        error.message
    };
    ModelError::Api {
        provider: PROVIDER.to_owned(),
        code,
        message,
    }
}

/// The model events of a stream of SSE events: deltas, then the completed turn at
/// `message_stop`. A stream that ends before `message_stop` is an error.
fn decode_stream<S>(events: S) -> impl Stream<Item = Result<ModelEvent, ModelError>> + Send
where
    S: Stream<Item = Result<SseEvent, ModelError>> + Send + Unpin,
{
    stream::unfold(Some((events, StreamTurn::default())), |state| async move {
        let (mut events, mut turn) = state?;
        loop {
            let event = match events.next().await {
                Some(Ok(event)) => event,
                Some(Err(error)) => return Some((Err(error), None)),
                None => {
                    let error = invalid("the stream ended early, before `message_stop`".to_owned());
                    return Some((Err(error), None));
                }
            };
            match turn.push(&event) {
                Ok(Step::Nothing) => {}
                Ok(Step::Delta(text)) => {
                    return Some((Ok(ModelEvent::ContentDelta(text)), Some((events, turn))));
                }
                Ok(Step::Done) => {
                    return Some((Ok(ModelEvent::Completed(turn.finish())), None));
                }
                Err(error) => return Some((Err(error), None)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Anthropic {
        Anthropic::new("claude-test").api_key("sk-ant-secret-123")
    }

    fn body(model: &Anthropic, request: ModelRequest<'_>, stream: bool) -> Value {
        serde_json::to_value(WireRequest::new(model, request, stream)).unwrap()
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", model());
        assert!(!shown.contains("sk-ant-secret"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        assert!(shown.contains("claude-test"), "{shown}");
    }

    #[test]
    fn a_missing_key_is_a_config_error_naming_the_variable() {
        let mut model = Anthropic::new("claude-test");
        model.http.settings_mut().api_key = None;
        let messages = [Message::user("hi")];
        let request = ModelRequest {
            instructions: None,
            messages: &messages,
            tools: &[],
        };
        match model.prepare(request, false) {
            Err(ModelError::Config { provider, message }) => {
                assert_eq!(provider, "anthropic");
                assert!(message.contains("ANTHROPIC_API_KEY"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let error = futures::executor::block_on(model.invoke(request)).unwrap_err();
        assert!(matches!(error, ModelError::Config { .. }), "{error:?}");
        let events: Vec<_> = futures::executor::block_on(model.invoke_stream(request).collect());
        assert!(
            matches!(&events[..], [Err(ModelError::Config { .. })]),
            "{events:?}"
        );
    }

    #[test]
    fn name_and_builder() {
        let model = model()
            .base_url("http://127.0.0.1:9/")
            .max_tokens(10)
            .temperature(0.5);
        assert_eq!(model.name(), "anthropic:claude-test");
        assert_eq!(model.model(), "claude-test");
        assert_eq!(model.url(), "http://127.0.0.1:9/v1/messages");
    }

    #[test]
    fn tool_input_is_always_an_object() {
        assert_eq!(tool_input(""), json!({}));
        assert_eq!(tool_input("  "), json!({}));
        assert_eq!(tool_input(r#"{"a":[1,2]}"#), json!({"a": [1, 2]}));
        assert_eq!(
            tool_input(r#"{"a": 1"#),
            json!({"_raw_arguments": r#"{"a": 1"#})
        );
        assert_eq!(tool_input("[1]"), json!({"_raw_arguments": "[1]"}));
    }

    #[test]
    fn roles_alternate_results_first_and_empty_text_is_left_out() {
        let messages = [
            Message::system("Mind the units."),
            Message::user("Weather in Paris and Rome?"),
            Message::assistant(
                Some(String::new()),
                vec![
                    ToolCall::new("toolu_1", "weather", r#"{"city":"Paris"}"#),
                    ToolCall::new("toolu_2", "weather", ""),
                ],
            ),
            Message::tool_result("toolu_1", "weather", "sunny"),
            Message::user("And quickly."),
            Message::tool_error("toolu_2", "weather", "no such city"),
            Message::assistant(None, vec![]),
            Message::assistant(Some("Paris: sunny.".into()), vec![]),
        ];
        let model = model().temperature(0.25);
        let got = body(
            &model,
            ModelRequest {
                instructions: Some("Be brief."),
                messages: &messages,
                tools: &[],
            },
            true,
        );
        assert_eq!(
            got,
            json!({
                "model": "claude-test",
                "max_tokens": 4096,
                "system": "Be brief.\n\nMind the units.",
                "temperature": 0.25,
                "stream": true,
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no such city", "is_error": true},
                        {"type": "text", "text": "And quickly."}
                    ]},
                    {"role": "assistant", "content": [{"type": "text", "text": "Paris: sunny."}]}
                ]
            })
        );
    }

    #[test]
    fn tools_with_and_without_strict() {
        let loose = ToolDefinition::new("a", "", json!({"type": "object"}));
        let mut strict = ToolDefinition::new(
            "b",
            "B.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        );
        strict.strict = true;
        let messages = [Message::user("x")];
        let got = body(
            &model(),
            ModelRequest {
                instructions: None,
                messages: &messages,
                tools: &[&loose, &strict],
            },
            false,
        );
        assert_eq!(
            got["tools"],
            json!([
                {"name": "a", "input_schema": {"type": "object"}},
                {"name": "b", "description": "B.", "input_schema": {"type": "object", "properties": {}, "additionalProperties": false}, "strict": true}
            ])
        );
        assert!(got.get("system").is_none() && got.get("stream").is_none());
    }

    #[test]
    fn responses_missing_fields_and_unknown_blocks() {
        let ok = parse_response(
            br#"{"id":"msg_1","type":"message","role":"assistant","model":"m",
                "content":[{"type":"thinking","thinking":"hmm","signature":"x"},
                           {"type":"text","text":"a","citations":[]},{"type":"text","text":"b"}],
                "stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":4,
                "cache_read_input_tokens":10,"cache_creation_input_tokens":null}}"#,
        )
        .unwrap();
        assert_eq!(ok.content.as_deref(), Some("ab"));
        assert_eq!(
            ok.usage,
            Usage {
                input_tokens: 13,
                output_tokens: 4
            }
        );
        for bad in [
            &br#"{"id":"msg_1"}"#[..],
            br#"{"content":[{"type":"tool_use","name":"x","input":{}}]}"#,
            br#"{"content":"#,
            b"",
        ] {
            let error = parse_response(bad).unwrap_err();
            assert!(
                matches!(error, ModelError::InvalidResponse { .. }),
                "{error:?}"
            );
        }
    }

    fn ev(name: Option<&str>, data: Value) -> SseEvent {
        SseEvent {
            event: name.map(str::to_owned),
            data: data.to_string(),
        }
    }

    #[test]
    fn stream_events_without_names_and_unknown_kinds() {
        let mut turn = StreamTurn::default();
        let events = [
            ev(
                None,
                json!({"type": "message_start", "message": {"usage": {"input_tokens": 7, "output_tokens": 1}}}),
            ),
            ev(
                None,
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
            ),
            ev(
                None,
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
            ),
            ev(
                None,
                json!({"type": "content_block_start", "index": 1, "content_block": {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}),
            ),
            ev(
                None,
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
            ),
            ev(
                None,
                json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}}),
            ),
            ev(None, json!({"type": "some_future_event"})),
            ev(
                None,
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
            ),
        ];
        for event in &events {
            assert_eq!(turn.push(event).unwrap(), Step::Nothing);
        }
        assert_eq!(
            turn.push(&ev(None, json!({"type": "message_stop"})))
                .unwrap(),
            Step::Done
        );
        let response = turn.finish();
        assert_eq!(response.content, None);
        assert_eq!(
            response.tool_calls,
            vec![ToolCall::new("toolu_1", "now", "{}")]
        );
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 7,
                output_tokens: 9
            }
        );
    }

    #[test]
    fn bad_stream_events_are_errors_not_panics() {
        for (name, data) in [
            (Some("content_block_delta"), "{\"index\": 0}"),
            (
                Some("content_block_start"),
                "{\"index\": 0, \"content_block\": {\"type\": \"tool_use\"}}",
            ),
            (Some("message_start"), "not json"),
            (None, "{}"),
            (Some("error"), "{}"),
        ] {
            let mut turn = StreamTurn::default();
            let event = SseEvent {
                event: name.map(str::to_owned),
                data: data.to_owned(),
            };
            let error = turn.push(&event).unwrap_err();
            assert!(
                matches!(error, ModelError::InvalidResponse { .. }),
                "{name:?} {data}: {error:?}"
            );
        }
    }

    #[test]
    fn error_events_are_typed() {
        let mut turn = StreamTurn::default();
        let event = ev(
            Some("error"),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        );
        match turn.push(&event).unwrap_err() {
            ModelError::Api {
                provider,
                code,
                message,
            } => {
                assert_eq!(provider, "anthropic");
                assert_eq!(code.as_deref(), Some("overloaded_error"));
                assert_eq!(message, "Overloaded");
            }
            other => panic!("{other:?}"),
        }
    }
}
