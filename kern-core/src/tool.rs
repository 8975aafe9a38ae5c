//! The tool model: what a tool is ([`Tool`]), what the model is told about it
//! ([`ToolDefinition`]), how it runs ([`ExecutionMode`]) and how it fails ([`ToolError`]).
//!
//! `#[tool]` and `#[derive(Toolkit)]` generate implementations of [`Tool`]; hand-written ones are
//! just as welcome.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a tool call gives back: the text the model sees, or an error that is also sent to the
/// model (as a tool error message).
pub type ToolResult = Result<String, ToolError>;

/// How the agent handles a call of a tool.
///
/// One enum, so a tool cannot be two of these at once; the macros refuse such combinations at
/// compile time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecutionMode {
    /// The agent runs the tool itself.
    #[default]
    Internal,
    /// The agent never runs the tool: the run pauses and the host executes it and sets the result.
    External,
    /// The run pauses until the host confirms (the agent then runs the tool) or rejects the call.
    RequiresConfirmation,
    /// The run pauses until the host supplies the listed arguments (typically asked of a person);
    /// they are merged into the model's arguments and the agent runs the tool.
    RequiresUserInput {
        /// The arguments the host must supply.
        fields: Vec<String>,
    },
}

impl ExecutionMode {
    /// Whether a call in this mode pauses the run.
    pub fn pauses(&self) -> bool {
        !matches!(self, ExecutionMode::Internal)
    }
}

/// Everything the model and the agent know about a tool.
///
/// Generated tools keep theirs in a `static`, computed once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// The name the model calls the tool by (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: Cow<'static, str>,
    /// What the tool does, for the model.
    pub description: Cow<'static, str>,
    /// The JSON schema of the arguments (an object schema).
    pub parameters: Value,
    /// Whether the schema is in the form OpenAI's strict function calling accepts, and should be
    /// sent with `strict: true`.
    #[serde(default)]
    pub strict: bool,
    /// How a call is handled.
    #[serde(default)]
    pub mode: ExecutionMode,
    /// Stop the run after this tool has run, instead of giving its result back to the model.
    #[serde(default)]
    pub stop_after_tool_call: bool,
    /// Show the tool's result as the run's content.
    #[serde(default)]
    pub show_result: bool,
}

impl ToolDefinition {
    /// A definition of an internal tool with the given name, description and parameter schema.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
        parameters: Value,
    ) -> Self {
        ToolDefinition {
            name: name.into(),
            description: description.into(),
            parameters,
            strict: false,
            mode: ExecutionMode::Internal,
            stop_after_tool_call: false,
            show_result: false,
        }
    }

    /// The same definition with another execution mode.
    pub fn with_mode(mut self, mode: ExecutionMode) -> Self {
        self.mode = mode;
        self
    }
}

/// What a tool knows about the call it serves. A tool function may take a `ToolContext`
/// parameter; it is filled in by the agent and is not part of the tool's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolContext {
    /// The run the call belongs to.
    pub run_id: String,
    /// The session of that run.
    pub session_id: String,
    /// The user of that run, if the host named one.
    pub user_id: Option<String>,
    /// The id the model gave the call.
    pub tool_call_id: String,
}

/// A tool: a definition and a way to call it with JSON arguments.
///
/// Object safe; the agent keeps tools as `Arc<dyn Tool>`. `invoke` returns a `'static` future so
/// the agent can run the calls of one turn concurrently; a synchronous tool should run its body
/// on the blocking pool ([`run_blocking`]).
pub trait Tool: Send + Sync + 'static {
    /// The tool's definition.
    fn definition(&self) -> &ToolDefinition;

    /// Calls the tool. Arguments that do not deserialize give [`ToolErrorKind::InvalidArguments`].
    fn invoke(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolResult>;

    /// Checks arguments without running the tool. The agent asks before it pauses on a call of
    /// an external tool or of one that needs confirmation: arguments that do not fit go back to
    /// the model at once (as an [`ToolErrorKind::InvalidArguments`] tool error) instead of being
    /// handed to the host.
    ///
    /// `#[tool]` and `#[derive(Toolkit)]` check them against the tool's args type, exactly as a
    /// call would. The default accepts any arguments (the agent still checks that the schema's
    /// `required` properties are there).
    fn check_args(&self, args: &Value) -> Result<(), ToolError> {
        let _ = args;
        Ok(())
    }
}

impl<T: Tool + ?Sized> Tool for Arc<T> {
    fn definition(&self) -> &ToolDefinition {
        (**self).definition()
    }
    fn invoke(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        (**self).invoke(args, ctx)
    }
    fn check_args(&self, args: &Value) -> Result<(), ToolError> {
        (**self).check_args(args)
    }
}

/// Something that adds tools to an agent: a single tool, or a toolkit (one tool a method).
///
/// Implemented for every [`Tool`]; `#[derive(Toolkit)]` implements it for toolkits.
pub trait IntoTools {
    /// Appends the tools to `out`. Fails for a toolkit whose selection names an unknown method.
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> crate::Result<()>;
}

impl<T: Tool> IntoTools for T {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> crate::Result<()> {
        out.push(Arc::new(self));
        Ok(())
    }
}

/// Why a tool call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// The arguments were not JSON or did not fit the tool's schema.
    InvalidArguments,
    /// The model called a tool the agent does not have.
    UnknownTool,
    /// The tool ran and returned an error.
    Failed,
    /// The tool panicked.
    Panicked,
    /// The host rejected the call.
    Rejected,
}

/// A failed tool call. Its message goes back to the model.
///
/// Like `anyhow::Error`, `ToolError` converts from every `std::error::Error`, so `?` works in a
/// tool body; for that it does not implement `std::error::Error` itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolError {
    kind: ToolErrorKind,
    message: String,
}

impl ToolError {
    /// A [`ToolErrorKind::Failed`] error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(ToolErrorKind::Failed, message)
    }

    /// An error of the given kind.
    pub fn with_kind(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        ToolError {
            kind,
            message: message.into(),
        }
    }

    /// Arguments that do not fit the tool.
    pub fn invalid_arguments(message: impl fmt::Display) -> Self {
        Self::with_kind(
            ToolErrorKind::InvalidArguments,
            format!("invalid arguments: {message}"),
        )
    }

    /// Why the call failed.
    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    /// The message the model sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    fn from(error: E) -> Self {
        ToolError::new(error.to_string())
    }
}

/// What the host may pass as a tool's result (`set_external_execution_result`): a string, a JSON
/// value, or a [`ToolResult`] such as the one a tool's `entrypoint` returns.
pub trait IntoToolResult {
    /// The result.
    fn into_tool_result(self) -> ToolResult;
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> ToolResult {
        Ok(self)
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> ToolResult {
        Ok(self.to_owned())
    }
}

impl IntoToolResult for Value {
    fn into_tool_result(self) -> ToolResult {
        Ok(match self {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }
}

impl IntoToolResult for ToolError {
    fn into_tool_result(self) -> ToolResult {
        Err(self)
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> ToolResult {
        self.map_err(Into::into)
            .and_then(IntoToolResult::into_tool_result)
    }
}

/// Runs a synchronous tool body on tokio's blocking pool, so it does not stall the runtime; a
/// panic becomes a [`ToolErrorKind::Panicked`] error. Outside a tokio runtime it runs inline.
pub async fn run_blocking<F>(f: F) -> ToolResult
where
    F: FnOnce() -> ToolResult + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => match handle.spawn_blocking(f).await {
            Ok(result) => result,
            Err(join) => Err(match join.try_into_panic() {
                Ok(panic) => panic_error(panic),
                Err(join) => ToolError::new(format!("the tool was cancelled: {join}")),
            }),
        },
        Err(_) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|panic| Err(panic_error(panic))),
    }
}

/// The tool error for a caught panic, with the panic's message when it has one.
pub fn panic_error(panic: Box<dyn std::any::Any + Send>) -> ToolError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    ToolError::with_kind(
        ToolErrorKind::Panicked,
        format!("the tool panicked: {message}"),
    )
}
