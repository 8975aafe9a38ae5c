//! Models: one turn of a conversation, through a provider or offline.

#[cfg(feature = "providers")]
mod anthropic;
mod function;
#[cfg(feature = "providers")]
mod http;
#[cfg(feature = "providers")]
mod openai_chat;
#[cfg(feature = "providers")]
mod openai_responses;
#[cfg(feature = "providers")]
mod select;
#[cfg(feature = "providers")]
mod sse;
mod test;

#[cfg(feature = "providers")]
pub use anthropic::Anthropic;
pub use function::FunctionModel;
#[cfg(feature = "providers")]
pub use http::{ApiKey, HttpSettings};
#[cfg(feature = "providers")]
pub use openai_chat::OpenAiChat;
#[cfg(feature = "providers")]
pub use openai_responses::OpenAiResponses;
/// Header names and values, for the providers' [`header`](OpenAiChat::header) method.
#[cfg(feature = "providers")]
pub use reqwest::header::{HeaderName, HeaderValue};
#[cfg(feature = "providers")]
pub use select::{ModelChoice, from_env, from_env_or};
pub use test::TestModel;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::message::{Message, ToolCall};
use crate::tool::ToolDefinition;

/// Tokens a provider reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// What the agent gives a model for one turn.
#[derive(Debug, Clone, Copy)]
pub struct ModelRequest<'a> {
    /// The agent's instructions (a system prompt), if any.
    pub instructions: Option<&'a str>,
    /// The conversation so far: session history, then the run's messages.
    pub messages: &'a [Message],
    /// The tools the model may call.
    pub tools: &'a [&'a ToolDefinition],
}

/// What a model answers in one turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// Text, if any.
    pub content: Option<String>,
    /// Tool calls, if any (several in one turn are run together).
    pub tool_calls: Vec<ToolCall>,
    /// Tokens of this turn.
    pub usage: Usage,
}

/// One event of a streamed turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of the text.
    ContentDelta(String),
    /// The whole turn, assembled; always the last event of a successful stream.
    Completed(ModelResponse),
}

/// A model: given the conversation and the tools, it answers one turn.
///
/// Object safe; the agent keeps it as `Arc<dyn Model>`.
pub trait Model: Send + Sync + 'static {
    /// A name for logs and errors ("openai:gpt-4o-mini", "test").
    fn name(&self) -> &str;

    /// One turn.
    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>;

    /// One turn, streamed. The default gives the whole answer as one delta and the completion.
    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        use futures::StreamExt;
        futures::stream::once(self.invoke(request))
            .flat_map(|result| {
                let events: Vec<Result<ModelEvent, ModelError>> = match result {
                    Ok(response) => {
                        let mut events = Vec::with_capacity(2);
                        if let Some(text) = response.content.clone().filter(|t| !t.is_empty()) {
                            events.push(Ok(ModelEvent::ContentDelta(text)));
                        }
                        events.push(Ok(ModelEvent::Completed(response)));
                        events
                    }
                    Err(error) => vec![Err(error)],
                };
                futures::stream::iter(events)
            })
            .boxed()
    }
}

/// A boxed model is a model: what a choice made at run time (`kern::model::from_env`) gives.
impl Model for Box<dyn Model> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).invoke(request)
    }

    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        (**self).invoke_stream(request)
    }
}

/// A shared model is a model: one provider client (and its connection pool) for many agents.
impl<M: Model + ?Sized> Model for std::sync::Arc<M> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).invoke(request)
    }

    fn invoke_stream<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxStream<'a, Result<ModelEvent, ModelError>> {
        (**self).invoke_stream(request)
    }
}

/// A model (provider) failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The provider answered with an error status.
    #[error("{provider} answered HTTP {status}: {message}")]
    Http {
        /// The provider ("openai", "anthropic", …).
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The provider's error message.
        message: String,
    },
    /// The provider reported an error inside an answer it had begun: an error event in a
    /// stream, a response whose status is `failed`. Anthropic's `overloaded_error` or OpenAI's
    /// `server_error` arrive this way once a stream has started.
    #[error("{provider} reported an error: {message}")]
    Api {
        /// The provider.
        provider: String,
        /// The provider's code or type for the error (`overloaded_error`, `server_error`,
        /// `rate_limit_exceeded`), when it gave one.
        code: Option<String>,
        /// The provider's message.
        message: String,
    },
    /// The request did not get through (connection, TLS, timeout).
    #[error("{provider}: transport error: {message}")]
    Transport {
        /// The provider.
        provider: String,
        /// What failed.
        message: String,
    },
    /// The provider's answer could not be understood, or a stream ended early.
    #[error("{provider}: invalid response: {message}")]
    InvalidResponse {
        /// The provider.
        provider: String,
        /// What is wrong with it.
        message: String,
    },
    /// The model is not configured (no API key, bad base URL, …).
    #[error("{provider}: configuration: {message}")]
    Config {
        /// The provider.
        provider: String,
        /// What is missing.
        message: String,
    },
    /// The answer was larger than `HttpSettings::max_response_bytes`; it was dropped, not
    /// buffered.
    #[error("{provider}: the answer is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The provider.
        provider: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A streamed answer was not over within `HttpSettings::stream_timeout` (however many
    /// keep-alives it sent).
    #[error("{provider}: the stream was not over after {limit:?}")]
    StreamTimeout {
        /// The provider.
        provider: String,
        /// The limit.
        limit: std::time::Duration,
    },
    /// An offline model could not answer (a `FunctionModel` closure failed, say).
    #[error("{0}")]
    Other(String),
}
