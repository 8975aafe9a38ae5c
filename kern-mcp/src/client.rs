//! The client side: an MCP server's tools as kern tools ([`McpTools`]), each with the execution
//! mode the host chooses, over a child's stdio or streamable HTTP ([`McpClient`]).

use std::sync::Arc;

use futures::future::BoxFuture;
use kern_core::{
    ExecutionMode, IntoTools, Tool, ToolContext, ToolDefinition, ToolResult, with_modes,
};
use rmcp::ServiceExt;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::Value;

use crate::McpError;
use crate::elicitation::ElicitationHandler;
use crate::session::{ClientSide, McpSession, definition};

/// How to connect: the client's options (an [`ElicitationHandler`]), then
/// [`connect_stdio`](Self::connect_stdio) or [`connect_http`](Self::connect_http).
///
/// [`McpTools::connect_stdio`] and [`McpTools::connect_http`] connect with the defaults (no
/// elicitation handler: the client declares no elicitation capability).
///
/// ```no_run
/// # async fn demo() -> Result<(), kern_mcp::McpError> {
/// use kern_mcp::{ElicitationAnswer, McpClient};
///
/// let tools = McpClient::new()
///     .on_elicitation(|mut request: kern_mcp::Elicitation| async move {
///         request.set("name", "Ada");
///         request.accept()
///     })
///     .connect_http("http://127.0.0.1:3001/mcp")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Default, Clone)]
pub struct McpClient {
    elicitation: Option<Arc<dyn ElicitationHandler>>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("elicitation", &self.elicitation.is_some())
            .finish()
    }
}

impl McpClient {
    /// A client with no elicitation handler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers the server's elicitation requests with `handler` (and declares the elicitation
    /// capability). See [`crate::elicitation`] for why they are answered during the call rather
    /// than by pausing the run.
    pub fn on_elicitation(mut self, handler: impl ElicitationHandler) -> Self {
        self.elicitation = Some(Arc::new(handler));
        self
    }

    fn side(&self) -> ClientSide {
        let capabilities = match self.elicitation {
            Some(_) => ClientCapabilities::builder().enable_elicitation().build(),
            None => ClientCapabilities::default(),
        };
        ClientSide {
            config: ClientConfig::new(
                capabilities,
                Implementation::new("kern", env!("CARGO_PKG_VERSION")),
            ),
            elicitation: self.elicitation.clone(),
        }
    }

    /// Starts `command` and speaks MCP over its stdin and stdout (its stderr is inherited), then
    /// lists its tools. The process is stopped when the session's last user is dropped.
    pub async fn connect_stdio(
        &self,
        command: tokio::process::Command,
    ) -> Result<McpTools, McpError> {
        let server = command_line(&command);
        let transport = TokioChildProcess::builder(command)
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map(|(transport, _stderr)| transport)
            .map_err(|source| McpError::Spawn {
                command: server.clone(),
                source,
            })?;
        let service = self
            .side()
            .serve(transport)
            .await
            .map_err(|e| McpError::Connect {
                server: server.clone(),
                message: e.to_string(),
            })?;
        McpTools::list(McpSession::new(service, server)).await
    }

    /// Connects to the streamable HTTP endpoint at `url` (such as `http://127.0.0.1:3001/mcp`),
    /// then lists its tools.
    ///
    /// Plain HTTP: for `https` URLs, enable one of rmcp's TLS features (`reqwest`) in your own
    /// `Cargo.toml`.
    pub async fn connect_http(&self, url: impl Into<String>) -> Result<McpTools, McpError> {
        let url: String = url.into();
        let transport = StreamableHttpClientTransport::from_uri(url.clone());
        let service = self
            .side()
            .serve(transport)
            .await
            .map_err(|e| McpError::Connect {
                server: url.clone(),
                message: e.to_string(),
            })?;
        McpTools::list(McpSession::new(service, url)).await
    }
}

fn command_line(command: &tokio::process::Command) -> String {
    let command = command.as_std();
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The host's choice of mode by tool name ([`McpTools::with_modes`]).
type ModeOf = Box<dyn Fn(&str) -> ExecutionMode + Send + Sync>;

/// The tools of one MCP server, ready to add to an agent (`.tool(mcp_tools)`: it is
/// [`IntoTools`]), with the execution mode the host chose for each.
///
/// Every tool is [`Internal`](ExecutionMode::Internal) unless the host says otherwise: the agent
/// calls it on the server. A tool marked [`external`](Self::external) pauses the run and the host
/// sets its result (it may call the server itself, through [`session`](Self::session), once it
/// has checked the call); one marked [`requires_confirmation`](Self::requires_confirmation)
/// pauses until the host confirms, and `continue_run` then calls it on the server; one marked
/// [`requires_user_input`](Self::requires_user_input) pauses for the named arguments.
///
/// A name that is not one of the server's tools, or a user input field that is not in its input
/// schema, makes adding the tools (building the agent) fail with
/// [`Error::Config`](kern_core::Error::Config).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use kern_core::{Agent, ExecutionMode, TestModel};
/// use kern_mcp::McpTools;
///
/// let mut command = tokio::process::Command::new("npx");
/// command.args(["-y", "@modelcontextprotocol/server-filesystem", "/srv/data"]);
/// let tools = McpTools::connect_stdio(command)
///     .await?
///     // Reads run at once; every other tool waits for the host's confirmation.
///     .with_modes(|name| match name.starts_with("read") || name.starts_with("list") {
///         true => ExecutionMode::Internal,
///         false => ExecutionMode::RequiresConfirmation,
///     })
///     // …except moves, which the host does itself.
///     .external(["move_file"]);
/// let agent = Agent::builder().model(TestModel::new()).tool(tools).build()?;
/// # Ok(()) }
/// ```
pub struct McpTools {
    session: McpSession,
    tools: Vec<ToolDefinition>,
    mode_of: Option<ModeOf>,
    modes: Vec<(String, ExecutionMode)>,
    exclude: Vec<String>,
}

impl std::fmt::Debug for McpTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpTools")
            .field("session", &self.session)
            .field("tools", &self.names().collect::<Vec<_>>())
            .field("modes", &self.modes)
            .field("exclude", &self.exclude)
            .finish_non_exhaustive()
    }
}

impl McpTools {
    /// Starts `command` and connects over its stdio ([`McpClient::connect_stdio`], no
    /// elicitation handler).
    pub async fn connect_stdio(command: tokio::process::Command) -> Result<Self, McpError> {
        McpClient::new().connect_stdio(command).await
    }

    /// Connects to a streamable HTTP endpoint ([`McpClient::connect_http`], no elicitation
    /// handler).
    pub async fn connect_http(url: impl Into<String>) -> Result<Self, McpError> {
        McpClient::new().connect_http(url).await
    }

    /// The tools of a connected session (`tools/list`).
    pub async fn list(session: McpSession) -> Result<Self, McpError> {
        let tools = session.list_tools().await?.iter().map(definition).collect();
        Ok(McpTools {
            session,
            tools,
            mode_of: None,
            modes: Vec::new(),
            exclude: Vec::new(),
        })
    }

    /// The connection the tools call through.
    pub fn session(&self) -> &McpSession {
        &self.session
    }

    /// The names of the server's tools, in its order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.name.as_ref())
    }

    /// The server's tools as kern definitions (with the modes as the host's choices stand, and
    /// without the excluded ones).
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .iter()
            .filter(|t| !self.exclude.iter().any(|e| *e == t.name))
            .map(|t| t.clone().with_mode(self.mode(&t.name)))
            .collect()
    }

    fn mode(&self, name: &str) -> ExecutionMode {
        self.modes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, mode)| mode.clone())
            .or_else(|| self.mode_of.as_ref().map(|f| f(name)))
            .unwrap_or_default()
    }

    /// Chooses the mode of every tool by its name. Modes given by name
    /// ([`external`](Self::external), …) take precedence, whichever comes first.
    pub fn with_modes(
        mut self,
        mode_of: impl Fn(&str) -> ExecutionMode + Send + Sync + 'static,
    ) -> Self {
        self.mode_of = Some(Box::new(mode_of));
        self
    }

    /// Sets the mode of one tool.
    pub fn with_mode(mut self, tool: impl Into<String>, mode: ExecutionMode) -> Self {
        self.modes.push((tool.into(), mode));
        self
    }

    fn with_mode_all<I, S>(mut self, tools: I, mode: ExecutionMode) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.modes
            .extend(tools.into_iter().map(|t| (t.into(), mode.clone())));
        self
    }

    /// These tools pause the run; the host sets their results.
    pub fn external<I, S>(self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_mode_all(tools, ExecutionMode::External)
    }

    /// These tools pause the run until the host confirms; the agent then calls them on the
    /// server.
    pub fn requires_confirmation<I, S>(self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_mode_all(tools, ExecutionMode::RequiresConfirmation)
    }

    /// This tool pauses the run until the host supplies these arguments (properties of its
    /// input schema); the agent then calls it on the server with them.
    pub fn requires_user_input<I, S>(self, tool: impl Into<String>, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let fields = fields.into_iter().map(Into::into).collect();
        self.with_mode(tool, ExecutionMode::RequiresUserInput { fields })
    }

    /// Leaves these tools out (a name that is not one of the server's is an error when the
    /// tools are added).
    pub fn exclude<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude.extend(tools.into_iter().map(Into::into));
        self
    }
}

impl IntoTools for McpTools {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> kern_core::Result<()> {
        let known = |name: &str| self.tools.iter().any(|t| t.name == name);
        if let Some(name) = self.exclude.iter().find(|n| !known(n)) {
            return Err(kern_core::Error::Config(format!(
                "the MCP server {} has no tool `{name}` to exclude (its tools: {})",
                self.session.server(),
                self.names().collect::<Vec<_>>().join(", ")
            )));
        }
        // Named modes are checked (unknown tools, user input fields not in the schema) and
        // applied by kern's own `with_modes`; the name-based choice gives every other tool's.
        let plain = McpToolSet {
            tools: self
                .tools
                .iter()
                .filter(|t| !self.exclude.iter().any(|e| *e == t.name))
                .map(|t| {
                    let mode = self
                        .mode_of
                        .as_ref()
                        .map(|f| f(&t.name))
                        .unwrap_or_default();
                    McpTool {
                        definition: t.clone().with_mode(mode),
                        session: self.session.clone(),
                    }
                })
                .collect(),
        };
        with_modes(plain, self.modes).into_tools(out)
    }
}

/// The tools of a server before the named modes are applied.
struct McpToolSet {
    tools: Vec<McpTool>,
}

impl IntoTools for McpToolSet {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> kern_core::Result<()> {
        out.extend(self.tools.into_iter().map(|t| Arc::new(t) as Arc<dyn Tool>));
        Ok(())
    }
}

/// One tool of an MCP server: a call goes through the session (`tools/call`).
struct McpTool {
    definition: ToolDefinition,
    session: McpSession,
}

impl Tool for McpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn invoke(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        let session = self.session.clone();
        let name = self.definition.name.to_string();
        Box::pin(async move { session.call(&name, args).await })
    }
}
