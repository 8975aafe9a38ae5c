//! The server side: kern tools (a `#[tool]` fn, a toolkit, any [`IntoTools`]) served as an MCP
//! server ([`McpServer`]) over stdio or streamable HTTP.
//!
//! # Tools that pause are refused
//!
//! A tool marked `external_execution`, `requires_confirmation` or `requires_user_input` pauses a
//! kern run so that its host decides. MCP's `tools/call` has no such pause: the server must
//! answer the call. Serving such a tool would either run it without the decision its author
//! required (a confirmation tool, unconfirmed) or fail every call (an external one: this server
//! is not the host that runs it). So [`McpServer::new`] refuses them with
//! [`Error::Config`](kern_core::Error::Config), naming the tool. A host that knows the MCP client
//! asks its user before each call (as the reference clients do) says so explicitly, by serving
//! the tool with kern's [`with_modes`](kern_core::with_modes) set to
//! [`Internal`](kern_core::ExecutionMode::Internal): the decision is then visibly the host's.

use std::net::SocketAddr;
use std::sync::Arc;

use kern_core::{ExecutionMode, IntoTools, Tool, ToolContext};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use tokio_util::sync::CancellationToken;

use crate::McpError;

/// kern tools as an MCP server: `tools/list` gives their definitions, `tools/call` runs them
/// (a tool error is a result with `isError`, as MCP wants).
///
/// ```
/// use kern_core::ExecutionMode;
/// use kern_macros::tool;
/// use kern_mcp::McpServer;
///
/// /// Adds two numbers.
/// ///
/// /// # Arguments
/// /// * `a` - The first
/// /// * `b` - The second
/// #[tool(crate = "kern_core")]
/// fn add(a: i64, b: i64) -> String {
///     (a + b).to_string()
/// }
///
/// /// Deletes everything.
/// #[tool(crate = "kern_core", requires_confirmation)]
/// fn wipe() -> String {
///     "wiped".into()
/// }
///
/// let server = McpServer::new(add)?;
/// assert_eq!(server.tools().map(|t| t.definition().name.as_ref()).collect::<Vec<_>>(), ["add"]);
///
/// // A tool that pauses is refused: MCP cannot pause for the host...
/// assert!(McpServer::new(wipe).is_err());
/// // ...unless the host decides it runs without asking.
/// let server = McpServer::new(kern_core::with_modes(wipe, [("wipe", ExecutionMode::Internal)]))?;
/// # Ok::<(), kern_mcp::McpError>(())
/// ```
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<Vec<Arc<dyn Tool>>>,
    name: String,
    version: String,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.tools().map(|t| t.definition().name.clone()).collect();
        f.debug_struct("McpServer")
            .field("name", &self.name)
            .field("tools", &names)
            .finish()
    }
}

impl McpServer {
    /// A server of these tools, named `kern` to its clients. Fails with
    /// [`Error::Config`](kern_core::Error::Config) for a toolkit selection that names an unknown
    /// method, two tools of one name, or a tool whose mode pauses (see [the module
    /// docs](self)).
    pub fn new(tools: impl IntoTools) -> Result<Self, McpError> {
        McpServer {
            tools: Arc::new(Vec::new()),
            name: "kern".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
        .tool(tools)
    }

    /// Adds more tools (checked as in [`new`](Self::new)).
    pub fn tool(mut self, tools: impl IntoTools) -> Result<Self, McpError> {
        let mut added = Vec::new();
        tools.into_tools(&mut added)?;
        let all = Arc::make_mut(&mut self.tools);
        for tool in added {
            let definition = tool.definition();
            if definition.mode != ExecutionMode::Internal {
                return Err(kern_core::Error::Config(format!(
                    "the tool `{}` cannot be served over MCP: its mode ({:?}) pauses the run for \
                     the host, and an MCP call cannot pause (serve it with \
                     with_modes(.., Internal) if the MCP client's user decides)",
                    definition.name, definition.mode
                ))
                .into());
            }
            if all.iter().any(|t| t.definition().name == definition.name) {
                return Err(kern_core::Error::Config(format!(
                    "two tools are named `{}`",
                    definition.name
                ))
                .into());
            }
            all.push(tool);
        }
        Ok(self)
    }

    /// The name and version the server gives its clients (`serverInfo`).
    pub fn with_name(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.name = name.into();
        self.version = version.into();
        self
    }

    /// The served tools.
    pub fn tools(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.iter()
    }

    /// Serves one client over this process's stdin and stdout until the client closes them.
    /// (Nothing else may write to stdout meanwhile: log to stderr.)
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        self.serve_io(rmcp::transport::stdio_pipes()).await
    }

    /// Serves one client over a pair of streams (a socket, a pipe, an in-memory duplex) until
    /// the client closes them.
    pub async fn serve_io<R, W>(self, (read, write): (R, W)) -> Result<(), McpError>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let running = ServiceExt::serve(self, (read, write))
            .await
            .map_err(|e| McpError::Serve(std::io::Error::other(e.to_string())))?;
        running
            .waiting()
            .await
            .map_err(|e| McpError::Serve(std::io::Error::other(e)))?;
        Ok(())
    }

    /// Serves streamable HTTP at `/mcp` on `listener` (bind it to loopback unless the tools are
    /// meant for the network), in a background task, until [`McpHttpServer::shutdown`].
    ///
    /// Requests whose `Host` is not `localhost`, `127.0.0.1` or `::1` are refused (rmcp's
    /// DNS-rebinding guard).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// /// Says hello.
    /// #[kern_macros::tool(crate = "kern_core")]
    /// fn hello() -> String { "hello".into() }
    ///
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let http = kern_mcp::McpServer::new(hello)?.serve_http(listener)?;
    /// let tools = kern_mcp::McpTools::connect_http(http.url()).await?;
    /// assert_eq!(tools.names().collect::<Vec<_>>(), ["hello"]);
    /// http.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn serve_http(self, listener: tokio::net::TcpListener) -> Result<McpHttpServer, McpError> {
        let addr = listener.local_addr().map_err(McpError::Serve)?;
        let cancel = CancellationToken::new();
        let mut config = StreamableHttpServerConfig::default();
        config.cancellation_token = cancel.child_token();
        let service = StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let router = axum::Router::new().nest_service("/mcp", service);
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled_owned().await })
                .await
        });
        Ok(McpHttpServer { addr, cancel, task })
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        id: String,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let Some(tool) = self
            .tools
            .iter()
            .find(|t| t.definition().name == request.name)
        else {
            return Err(rmcp::ErrorData::invalid_params(
                format!("there is no tool `{}`", request.name),
                None,
            ));
        };
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let ctx = ToolContext {
            tool_call_id: id,
            ..ToolContext::default()
        };
        let result = match tool.check_args(&args) {
            Ok(()) => tool.invoke(args, ctx).await,
            Err(e) => Err(e),
        };
        Ok(match result {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.message())]),
        })
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(self.name.clone(), self.version.clone()))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, rmcp::ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.tools.iter().map(|t| mcp_tool(t.as_ref())).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, rmcp::ErrorData> {
        let id = format!("mcp-{}", context.id);
        self.call(request, id).await.map(CallToolResponse::Complete)
    }
}

/// The MCP definition of a kern tool.
fn mcp_tool(tool: &dyn Tool) -> rmcp::model::Tool {
    let definition = tool.definition();
    let schema = match &definition.parameters {
        serde_json::Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    rmcp::model::Tool::new(
        definition.name.clone(),
        definition.description.clone(),
        Arc::new(schema),
    )
}

/// A running streamable HTTP server ([`McpServer::serve_http`]).
#[derive(Debug)]
pub struct McpHttpServer {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl McpHttpServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint's URL (`http://ADDR/mcp`).
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Stops accepting, closes the sessions and waits for the server to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}
