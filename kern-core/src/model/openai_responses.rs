//! [`OpenAiResponses`]: OpenAI's Responses API (`POST /responses`), streamed or not.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{Http, HttpSettings, secret_header};
use super::sse::SseEvent;
use super::{Model, ModelError, ModelEvent, ModelRequest, ModelResponse, Usage};
use crate::message::{Message, ToolCall};
use crate::tool::ToolDefinition;

const PROVIDER: &str = "openai-responses";
const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const KEY_VAR: &str = "OPENAI_API_KEY";
const BASE_URL_VAR: &str = "OPENAI_BASE_URL";

/// A model behind OpenAI's Responses API (`POST {base}/responses`).
///
/// The key comes from `OPENAI_API_KEY` and the base URL from `OPENAI_BASE_URL` (default
/// `https://api.openai.com/v1`), unless the builder sets them. Without a key, the first request
/// fails with [`ModelError::Config`] — except against another base URL (a local
/// Responses-compatible server), where no `Authorization` header is sent then.
///
/// Every turn is stateless (`store: false` unless [`store`](Self::store) says otherwise): the
/// whole conversation goes out as `input` items, so nothing depends on a response kept at
/// OpenAI (kern keeps the conversation itself, and a run paused today may be continued by
/// another process next week). Reasoning items are not sent back, so a reasoning model does not
/// see its earlier reasoning across turns.
///
/// The wire mapping:
///
/// | kern | Responses API |
/// |---|---|
/// | agent instructions | top-level `instructions` |
/// | [`Message::System`] | `{"role":"system","content":…}` |
/// | [`Message::User`] | `{"role":"user","content":…}` |
/// | [`Message::Assistant`] text | `{"role":"assistant","content":…}` |
/// | a [`ToolCall`] | `{"type":"function_call","call_id","name","arguments"}` |
/// | [`Message::Tool`] | `{"type":"function_call_output","call_id","output"}` (an error's output starts with `Error: `) |
/// | [`ToolDefinition`] | `{"type":"function","name","description","parameters","strict"}` (flat; `strict` always sent: the API takes a missing one as `true`) |
///
/// Back: `message` items give the text (`output_text` parts; a `refusal` counts as text),
/// `function_call` items the tool calls, with their `call_id` as [`ToolCall::id`] (not the
/// item's `id`); `reasoning` and other items are ignored; `usage.{input,output}_tokens` give
/// the [`Usage`].
///
/// Streamed, text comes from `response.output_text.delta` events and calls are put together
/// from `response.output_item.added` / `response.function_call_arguments.delta` / `.done`
/// events by `output_index` (so interleaved calls come out whole and in order); the usage comes
/// from `response.completed`.
///
/// Failures: a response that failed (status `failed`, a `response.failed` event, or an `error`
/// event) is [`ModelError::InvalidResponse`] carrying OpenAI's message and code. A response
/// `incomplete` because of `max_output_tokens` gives what there is (the limit is the caller's
/// choice; a tool call cut short reaches the agent with malformed arguments, which it reports
/// to the model); incomplete for any other reason (`content_filter`) is an error. A stream that
/// ends before `response.completed` (or `response.incomplete`) is an error, never a shorter
/// answer. HTTP errors, retries and timeouts are those of [`HttpSettings`].
///
/// ```no_run
/// use kern_core::Agent;
/// use kern_core::model::OpenAiResponses;
/// use std::time::Duration;
///
/// # async fn demo() -> kern_core::Result<()> {
/// let model = OpenAiResponses::new("gpt-4.1-mini")
///     .temperature(0.2)
///     .max_tokens(1024)
///     .timeout(Duration::from_secs(60))
///     .max_retries(2);
/// let agent = Agent::builder().model(model).build()?;
/// let run = agent.run("Hello!").await?;
/// println!("{}", run.content.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiResponses {
    model: String,
    name: String,
    http: Http,
    max_output_tokens: Option<u32>,
    temperature: Option<f32>,
    store: bool,
}

impl OpenAiResponses {
    /// The model `model` ("gpt-4.1-mini", "o4-mini", …), with the key and base URL from the
    /// environment. Never fails: a missing key is reported by the first request.
    pub fn new(model: impl Into<String>) -> Self {
        let model = model.into();
        let settings = HttpSettings::from_env(BASE_URL_VAR, DEFAULT_BASE_URL, KEY_VAR);
        OpenAiResponses {
            name: format!("{PROVIDER}:{model}"),
            model,
            http: Http::new(PROVIDER, settings),
            max_output_tokens: None,
            temperature: None,
            store: false,
        }
    }

    super::http::http_builder_methods!("OPENAI_API_KEY");

    /// The most tokens the model may write in one turn, reasoning included (the API's
    /// `max_output_tokens`). A turn cut by it gives the text and calls written so far.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_output_tokens = Some(max_tokens);
        self
    }

    /// The sampling temperature (0 to 2). Unset by default: the model's own default applies
    /// (reasoning models refuse the parameter).
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Whether OpenAI keeps the responses (the API's `store`). Default `false`: kern sends the
    /// whole conversation each turn and never refers to a stored response.
    pub fn store(mut self, store: bool) -> Self {
        self.store = store;
        self
    }

    fn headers(&self, streaming: bool) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        let settings = self.http.settings();
        let key = match &settings.api_key {
            Some(key) => Some(key),
            None if settings.base_url == DEFAULT_BASE_URL => Some(self.http.require_key(KEY_VAR)?),
            None => None,
        };
        if let Some(key) = key {
            let value = secret_header(PROVIDER, &format!("Bearer {}", key.expose()))?;
            headers.insert(AUTHORIZATION, value);
        }
        if streaming {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        Ok(headers)
    }

    fn body(&self, request: &ModelRequest<'_>, stream: bool) -> Result<Vec<u8>, ModelError> {
        let body = RequestBody {
            model: &self.model,
            instructions: request.instructions.filter(|i| !i.is_empty()),
            input: input_items(request.messages),
            tools: request.tools.iter().map(|d| FunctionTool::new(d)).collect(),
            store: self.store,
            stream,
            max_output_tokens: self.max_output_tokens,
            temperature: self.temperature,
        };
        serde_json::to_vec(&body).map_err(|e| ModelError::InvalidResponse {
            provider: PROVIDER.to_owned(),
            message: format!("cannot encode the request: {e}"),
        })
    }

    /// The headers and the body of a request.
    fn prepare(
        &self,
        request: &ModelRequest<'_>,
        streaming: bool,
    ) -> Result<(HeaderMap, Vec<u8>), ModelError> {
        Ok((self.headers(streaming)?, self.body(request, streaming)?))
    }
}

impl Model for OpenAiResponses {
    fn name(&self) -> &str {
        &self.name
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let (headers, body) = self.prepare(&request, false)?;
            let bytes = self
                .http
                .post(&self.http.url("/responses"), headers, body)
                .await?;
            let body: ResponseObject = serde_json::from_slice(&bytes)
                .map_err(|e| invalid(format!("cannot read the response: {e}")))?;
            body.into_model_response()
        })
    }

    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        let start = async move {
            let (headers, body) = self.prepare(&request, true)?;
            let url = self.http.url("/responses");
            self.http.post_stream(&url, headers, body).await
        };
        stream::once(start)
            .flat_map(|started| match started {
                Ok(events) => decode_stream(events).left_stream(),
                Err(error) => stream::iter([Err(error)]).right_stream(),
            })
            .boxed()
    }
}

fn invalid(message: impl Into<String>) -> ModelError {
    ModelError::InvalidResponse {
        provider: PROVIDER.to_owned(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Request

#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Vec<InputItem<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<FunctionTool<'a>>,
    store: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
}

/// One `input` item: an easy message (`{"role","content"}`, no `type`) or a typed item.
#[derive(Serialize)]
#[serde(untagged)]
enum InputItem<'a> {
    Message {
        role: &'static str,
        content: &'a str,
    },
    FunctionCall {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    FunctionCallOutput {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        output: std::borrow::Cow<'a, str>,
    },
}

fn input_items(messages: &[Message]) -> Vec<InputItem<'_>> {
    let mut items = Vec::with_capacity(messages.len() + 1);
    for message in messages {
        match message {
            Message::System { content } => items.push(InputItem::Message {
                role: "system",
                content,
            }),
            Message::User { content } => items.push(InputItem::Message {
                role: "user",
                content,
            }),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                if let Some(content) = content.as_deref().filter(|c| !c.is_empty()) {
                    items.push(InputItem::Message {
                        role: "assistant",
                        content,
                    });
                }
                items.extend(tool_calls.iter().map(|call| InputItem::FunctionCall {
                    kind: "function_call",
                    call_id: &call.id,
                    name: &call.name,
                    arguments: &call.arguments,
                }));
            }
            Message::Tool {
                tool_call_id,
                content,
                is_error,
                ..
            } => items.push(InputItem::FunctionCallOutput {
                kind: "function_call_output",
                call_id: tool_call_id,
                // The item has no error flag: say it in the text.
                output: if *is_error {
                    format!("Error: {content}").into()
                } else {
                    content.as_str().into()
                },
            }),
        }
    }
    items
}

/// A function tool, flat (unlike Chat Completions' `{"type":"function","function":{…}}`).
#[derive(Serialize)]
struct FunctionTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    /// Always sent: the Responses API takes a missing `strict` as `true`.
    strict: bool,
}

impl<'a> FunctionTool<'a> {
    fn new(definition: &'a ToolDefinition) -> Self {
        FunctionTool {
            kind: "function",
            name: &definition.name,
            description: &definition.description,
            parameters: &definition.parameters,
            strict: definition.strict,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Response

/// A response object (the body of a non-streamed answer, and of the stream's terminal events).
#[derive(Deserialize)]
struct ResponseObject {
    #[serde(default)]
    status: Option<String>,
    /// Required in a response body; a stream's terminal event may do without.
    #[serde(default)]
    output: Option<Vec<OutputItem>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    incomplete_details: Option<IncompleteDetails>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OutputItem {
    Message {
        content: Vec<ContentPart>,
    },
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// `reasoning`, built-in tool calls, …: not for kern.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentPart {
    OutputText {
        text: String,
    },
    Refusal {
        refusal: String,
    },
    #[serde(other)]
    Other,
}

impl ContentPart {
    fn into_text(self) -> Option<String> {
        match self {
            ContentPart::OutputText { text } => Some(text),
            ContentPart::Refusal { refusal } => Some(refusal),
            ContentPart::Other => None,
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
        }
    }
}

/// An error OpenAI reports inside a 200: a failed response's `error`, or an `error` event
/// (flat, or nested under `error` as some servers send it).
#[derive(Deserialize, Default)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<Box<WireError>>,
}

impl WireError {
    fn into_error(self, what: &str) -> ModelError {
        if self.message.is_none()
            && let Some(inner) = self.error
        {
            return inner.into_error(what);
        }
        let message = self.message.unwrap_or_else(|| "no message".to_owned());
        ModelError::Api {
            provider: PROVIDER.to_owned(),
            code: self.code.filter(|c| !c.is_empty()),
            message: format!("{what}: {message}"),
        }
    }
}

#[derive(Deserialize, Default)]
struct IncompleteDetails {
    #[serde(default)]
    reason: Option<String>,
}

/// What to make of a response's status: an error, or go on (`incomplete` for
/// `max_output_tokens` goes on, with a warning).
fn check_status(
    status: Option<&str>,
    error: Option<WireError>,
    incomplete: Option<IncompleteDetails>,
) -> Result<(), ModelError> {
    match status {
        Some("failed") => Err(error.unwrap_or_default().into_error("the response failed")),
        Some("cancelled") => Err(invalid("the response was cancelled")),
        Some("incomplete") => {
            let reason = incomplete.and_then(|d| d.reason);
            match reason.as_deref() {
                Some("max_output_tokens") => {
                    tracing::warn!(
                        provider = PROVIDER,
                        "the answer was cut by max_output_tokens"
                    );
                    Ok(())
                }
                other => Err(invalid(format!(
                    "the response is incomplete: {}",
                    other.unwrap_or("no reason given")
                ))),
            }
        }
        _ => Ok(()),
    }
}

impl ResponseObject {
    fn into_model_response(self) -> Result<ModelResponse, ModelError> {
        check_status(self.status.as_deref(), self.error, self.incomplete_details)?;
        let mut content: Option<String> = None;
        let mut tool_calls = Vec::new();
        let output = self
            .output
            .ok_or_else(|| invalid("the response has no output"))?;
        for item in output {
            match item {
                OutputItem::Message { content: parts } => {
                    for text in parts.into_iter().filter_map(ContentPart::into_text) {
                        match &mut content {
                            Some(all) => all.push_str(&text),
                            None => content = Some(text),
                        }
                    }
                }
                OutputItem::FunctionCall {
                    call_id,
                    name,
                    arguments,
                } => tool_calls.push(ToolCall {
                    id: call_id,
                    name,
                    arguments,
                }),
                OutputItem::Other => {}
            }
        }
        Ok(ModelResponse {
            content: content.filter(|c| !c.is_empty()),
            tool_calls,
            usage: self.usage.unwrap_or_default().into(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming

/// The events of a streamed turn, from its server-sent events.
fn decode_stream<S>(events: S) -> impl Stream<Item = Result<ModelEvent, ModelError>> + Send
where
    S: Stream<Item = Result<SseEvent, ModelError>> + Send,
{
    let state = (Box::pin(events), Assembler::default(), false);
    stream::unfold(state, |(mut events, mut assembler, done)| async move {
        if done {
            return None;
        }
        loop {
            let step = match events.next().await {
                Some(Ok(event)) => assembler.feed(&event),
                Some(Err(error)) => Err(error),
                None => Err(invalid("stream ended early (no response.completed event)")),
            };
            match step {
                Ok(Step::Nothing) => continue,
                Ok(Step::Delta(text)) => {
                    return Some((
                        Ok(ModelEvent::ContentDelta(text)),
                        (events, assembler, false),
                    ));
                }
                Ok(Step::Done(response)) => {
                    return Some((
                        Ok(ModelEvent::Completed(response)),
                        (events, assembler, true),
                    ));
                }
                Err(error) => return Some((Err(error), (events, assembler, true))),
            }
        }
    })
}

/// What one server-sent event gives.
#[derive(Debug)]
enum Step {
    Nothing,
    Delta(String),
    Done(ModelResponse),
}

/// One output item being streamed.
#[derive(Debug)]
enum Part {
    Text(String),
    Call {
        call_id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
}

/// Puts a streamed turn together: text and calls by `output_index` (calls may interleave).
#[derive(Debug, Default)]
struct Assembler {
    parts: BTreeMap<u64, Part>,
    /// Item ids to output indexes, for events that carry only the id.
    ids: Vec<(String, u64)>,
}

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize)]
struct ItemEvent {
    #[serde(default)]
    output_index: Option<u64>,
    item: StreamItem,
}

#[derive(Deserialize)]
struct StreamItem {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
    /// Read only for a finished `message` (other items may hold other shapes here).
    #[serde(default)]
    content: Option<Value>,
}

#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(default)]
    output_index: Option<u64>,
    #[serde(default, borrow)]
    item_id: Option<std::borrow::Cow<'a, str>>,
    delta: String,
}

#[derive(Deserialize)]
struct ArgumentsDoneEvent<'a> {
    #[serde(default)]
    output_index: Option<u64>,
    #[serde(default, borrow)]
    item_id: Option<std::borrow::Cow<'a, str>>,
    arguments: String,
}

#[derive(Deserialize)]
struct TerminalEvent {
    response: ResponseObject,
}

impl Assembler {
    fn feed(&mut self, event: &SseEvent) -> Result<Step, ModelError> {
        let data = event.data.as_str();
        let kind: std::borrow::Cow<'_, str> = match &event.event {
            Some(name) => name.as_str().into(),
            None => {
                // Servers that name events only in the data.
                let tag: TypeOnly<'_> = parse(data, "an event")?;
                tag.kind
            }
        };
        match kind.as_ref() {
            "response.output_text.delta" | "response.refusal.delta" => {
                let delta: DeltaEvent<'_> = parse(data, &kind)?;
                let index = self.index(delta.output_index, delta.item_id.as_deref(), &kind)?;
                match self.parts.entry(index).or_insert(Part::Text(String::new())) {
                    Part::Text(text) => text.push_str(&delta.delta),
                    Part::Call { .. } => {
                        return Err(invalid(format!(
                            "{kind} for output {index}, which is a function call"
                        )));
                    }
                }
                if delta.delta.is_empty() {
                    Ok(Step::Nothing)
                } else {
                    Ok(Step::Delta(delta.delta))
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let event: ItemEvent = parse(data, &kind)?;
                let done = kind == "response.output_item.done";
                self.item(event, done)?;
                Ok(Step::Nothing)
            }
            "response.function_call_arguments.delta" => {
                let delta: DeltaEvent<'_> = parse(data, &kind)?;
                let index = self.index(delta.output_index, delta.item_id.as_deref(), &kind)?;
                self.call(index, &kind)?.push_str(&delta.delta);
                Ok(Step::Nothing)
            }
            "response.function_call_arguments.done" => {
                let done: ArgumentsDoneEvent<'_> = parse(data, &kind)?;
                let index = self.index(done.output_index, done.item_id.as_deref(), &kind)?;
                *self.call(index, &kind)? = done.arguments;
                Ok(Step::Nothing)
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let terminal: TerminalEvent = parse(data, &kind)?;
                self.finish(terminal.response, &kind).map(Step::Done)
            }
            "error" => {
                let error: WireError = parse(data, "an error event")?;
                Err(error.into_error("error event"))
            }
            _ => Ok(Step::Nothing),
        }
    }

    /// The output index an event is about: its `output_index`, else the one of its `item_id`.
    fn index(
        &self,
        output_index: Option<u64>,
        item_id: Option<&str>,
        kind: &str,
    ) -> Result<u64, ModelError> {
        if let Some(index) = output_index {
            return Ok(index);
        }
        item_id
            .and_then(|id| self.ids.iter().find(|(known, _)| known == id))
            .map(|(_, index)| *index)
            .ok_or_else(|| invalid(format!("{kind} names no output item")))
    }

    /// The arguments of the call at `index` (a call whose start was not seen is started).
    fn call(&mut self, index: u64, kind: &str) -> Result<&mut String, ModelError> {
        match self.parts.entry(index).or_insert(Part::Call {
            call_id: None,
            name: None,
            arguments: String::new(),
        }) {
            Part::Call { arguments, .. } => Ok(arguments),
            Part::Text(_) => Err(invalid(format!(
                "{kind} for output {index}, which is a message"
            ))),
        }
    }

    fn item(&mut self, event: ItemEvent, done: bool) -> Result<(), ModelError> {
        let item = event.item;
        let index = match (event.output_index, &item.id) {
            (Some(index), _) => index,
            (None, Some(id)) => self.index(None, Some(id), "response.output_item")?,
            (None, None) => return Err(invalid("an output item event without output_index")),
        };
        if let Some(id) = &item.id
            && !self.ids.iter().any(|(known, _)| known == id)
        {
            self.ids.push((id.clone(), index));
        }
        match item.kind.as_str() {
            "function_call" => {
                let part = self.parts.entry(index).or_insert(Part::Call {
                    call_id: None,
                    name: None,
                    arguments: String::new(),
                });
                let Part::Call {
                    call_id,
                    name,
                    arguments,
                } = part
                else {
                    return Err(invalid(format!(
                        "output {index} is both a message and a function call"
                    )));
                };
                if item.call_id.is_some() {
                    *call_id = item.call_id;
                }
                if item.name.is_some() {
                    *name = item.name;
                }
                // The finished item holds the whole arguments; the added one holds "" (or,
                // from some servers, all of them at once).
                if let Some(whole) = item.arguments.filter(|a| done || !a.is_empty()) {
                    *arguments = whole;
                }
            }
            "message" if done => {
                // A message whose text came without deltas.
                let parts: Vec<ContentPart> = match item.content {
                    Some(content) => serde_json::from_value(content)
                        .map_err(|e| invalid(format!("cannot read a message item: {e}")))?,
                    None => Vec::new(),
                };
                let text: String = parts
                    .into_iter()
                    .filter_map(ContentPart::into_text)
                    .collect();
                if let Part::Text(streamed) =
                    self.parts.entry(index).or_insert(Part::Text(String::new()))
                    && streamed.is_empty()
                {
                    *streamed = text;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The turn, at the terminal event: the streamed text and calls (or, if nothing was
    /// streamed, the terminal response's own output) with the terminal response's usage.
    fn finish(
        &mut self,
        response: ResponseObject,
        kind: &str,
    ) -> Result<ModelResponse, ModelError> {
        let status = match kind {
            "response.failed" => Some("failed"),
            "response.incomplete" => Some("incomplete"),
            _ => response.status.as_deref(),
        };
        check_status(status, response.error, response.incomplete_details)?;
        let usage: Usage = response.usage.unwrap_or_default().into();
        if self.parts.is_empty() {
            let whole = ResponseObject {
                status: None,
                output: Some(response.output.unwrap_or_default()),
                usage: None,
                error: None,
                incomplete_details: None,
            };
            let mut turn = whole.into_model_response()?;
            turn.usage = usage;
            return Ok(turn);
        }
        let mut content: Option<String> = None;
        let mut tool_calls = Vec::new();
        for (index, part) in std::mem::take(&mut self.parts) {
            match part {
                Part::Text(text) => match &mut content {
                    Some(all) => all.push_str(&text),
                    None => content = Some(text),
                },
                Part::Call {
                    call_id,
                    name,
                    arguments,
                } => {
                    let (Some(id), Some(name)) = (call_id, name) else {
                        return Err(invalid(format!(
                            "the function call at output {index} has no call_id or name"
                        )));
                    };
                    tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments,
                    });
                }
            }
        }
        Ok(ModelResponse {
            content: content.filter(|c| !c.is_empty()),
            tool_calls,
            usage,
        })
    }
}

fn parse<'a, T: Deserialize<'a>>(data: &'a str, what: &str) -> Result<T, ModelError> {
    serde_json::from_str(data).map_err(|e| invalid(format!("cannot read {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, data: serde_json::Value) -> SseEvent {
        SseEvent {
            event: Some(name.to_owned()),
            data: data.to_string(),
        }
    }

    fn run(events: Vec<SseEvent>) -> Vec<Result<ModelEvent, ModelError>> {
        let stream = decode_stream(stream::iter(events.into_iter().map(Ok)));
        futures::executor::block_on(stream.collect())
    }

    #[test]
    fn interleaved_calls_are_assembled_by_output_index() {
        use serde_json::json;
        let events = vec![
            ev(
                "response.output_item.added",
                json!({"type":"response.output_item.added","output_index":1,
                       "item":{"type":"function_call","id":"fc_b","call_id":"call_b","name":"b","arguments":""}}),
            ),
            ev(
                "response.output_item.added",
                json!({"type":"response.output_item.added","output_index":0,
                       "item":{"type":"function_call","id":"fc_a","call_id":"call_a","name":"a","arguments":""}}),
            ),
            ev(
                "response.function_call_arguments.delta",
                json!({"type":"response.function_call_arguments.delta","item_id":"fc_b","output_index":1,"delta":"{\"y\":"}),
            ),
            ev(
                "response.function_call_arguments.delta",
                json!({"type":"response.function_call_arguments.delta","item_id":"fc_a","delta":"{\"x\":1}"}),
            ),
            ev(
                "response.function_call_arguments.delta",
                json!({"type":"response.function_call_arguments.delta","item_id":"fc_b","output_index":1,"delta":"2}"}),
            ),
            // The terminal response's output is left empty: the streamed parts are what counts.
            ev(
                "response.completed",
                json!({"type":"response.completed","response":{"status":"completed","output":[],
                       "usage":{"input_tokens":3,"output_tokens":4}}}),
            ),
        ];
        let out = run(events);
        assert_eq!(out.len(), 1, "{out:?}");
        let Ok(ModelEvent::Completed(turn)) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            turn.tool_calls,
            vec![
                ToolCall::new("call_a", "a", "{\"x\":1}"),
                ToolCall::new("call_b", "b", "{\"y\":2}")
            ]
        );
        assert_eq!(turn.content, None);
        assert_eq!(
            turn.usage,
            Usage {
                input_tokens: 3,
                output_tokens: 4
            }
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for data in ["", "{", "[]", "null", r#"{"delta":5}"#, r#"{"item":{}}"#] {
            for name in [
                "response.output_text.delta",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.completed",
                "error",
            ] {
                let out = run(vec![SseEvent {
                    event: Some(name.to_owned()),
                    data: data.to_owned(),
                }]);
                assert!(out.last().unwrap().is_err(), "{name} {data}: {out:?}");
            }
        }
    }

    #[test]
    fn items_without_deltas_and_unknown_items() {
        use serde_json::json;
        let out = run(vec![
            ev(
                "response.output_item.done",
                json!({"type":"response.output_item.done","output_index":0,
                       "item":{"type":"some_future_item","id":"x_1","content":"a string, not parts"}}),
            ),
            ev(
                "response.output_item.done",
                json!({"type":"response.output_item.done","output_index":1,
                       "item":{"type":"message","id":"msg_1","role":"assistant",
                               "content":[{"type":"output_text","text":"whole","annotations":[]}]}}),
            ),
            ev(
                "response.output_item.done",
                json!({"type":"response.output_item.done","output_index":2,
                       "item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{}"}}),
            ),
            ev(
                "response.completed",
                json!({"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}),
            ),
        ]);
        let Some(Ok(ModelEvent::Completed(turn))) = out.last() else {
            panic!("{out:?}")
        };
        assert_eq!(turn.content.as_deref(), Some("whole"));
        assert_eq!(turn.tool_calls, vec![ToolCall::new("call_1", "f", "{}")]);
        assert_eq!(turn.usage.output_tokens, 2);
    }

    #[test]
    fn no_key_for_the_public_api_is_a_config_error_naming_the_variable() {
        let mut model = OpenAiResponses::new("gpt-4.1-mini").base_url(DEFAULT_BASE_URL);
        model.http.settings_mut().api_key = None;
        let request = ModelRequest {
            instructions: None,
            messages: &[Message::user("hi")],
            tools: &[],
        };
        let error = futures::executor::block_on(model.invoke(request)).unwrap_err();
        assert!(
            matches!(&error, ModelError::Config { provider, message }
                if provider == PROVIDER && message.contains(KEY_VAR)),
            "{error:?}"
        );
        let streamed: Vec<_> = futures::executor::block_on(model.invoke_stream(request).collect());
        assert!(matches!(&streamed[..], [Err(ModelError::Config { .. })]));
    }

    #[test]
    fn events_named_only_in_their_data() {
        let out = run(vec![
            SseEvent {
                event: None,
                data: r#"{"type":"response.output_text.delta","output_index":0,"delta":"hé"}"#
                    .to_owned(),
            },
            SseEvent {
                event: None,
                data: r#"{"type":"response.completed","response":{"output":[]}}"#.to_owned(),
            },
        ]);
        assert!(matches!(&out[0], Ok(ModelEvent::ContentDelta(d)) if d == "hé"));
        assert!(
            matches!(&out[1], Ok(ModelEvent::Completed(t)) if t.content.as_deref() == Some("hé"))
        );
    }
}
