//! [`McpSession`]: a live connection to an MCP server, and the mapping of MCP tools and results
//! to kern's ([`definition`], [`tool_result`]).

use std::sync::Arc;

use kern_core::{ToolDefinition, ToolError, ToolErrorKind, ToolResult};
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, ContentBlock};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, RoleClient};
use serde_json::Value;

use crate::McpError;
use crate::elicitation::{self, ElicitationHandler};

/// This client's side of the protocol: what it declares, and its answer to elicitations.
pub(crate) struct ClientSide {
    pub(crate) config: ClientConfig,
    pub(crate) elicitation: Option<Arc<dyn ElicitationHandler>>,
}

impl ClientHandler for ClientSide {
    fn get_info(&self) -> ClientConfig {
        self.config.clone()
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        Ok(match &self.elicitation {
            Some(handler) => elicitation::answer(handler, &request).await,
            None => rmcp::model::ElicitResult::new(rmcp::model::ElicitationAction::Decline),
        })
    }
}

/// A connection to one MCP server, shared by its tools (and by the host, which may call them
/// itself, e.g. to run an external call it has checked). Cheap to clone; the connection closes
/// (and a stdio server's process is stopped) when the last clone is dropped.
#[derive(Clone)]
pub struct McpSession {
    service: Arc<RunningService<RoleClient, ClientSide>>,
    server: Arc<str>,
}

impl std::fmt::Debug for McpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSession")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl McpSession {
    pub(crate) fn new(service: RunningService<RoleClient, ClientSide>, server: String) -> Self {
        McpSession {
            service: Arc::new(service),
            server: server.into(),
        }
    }

    /// The server, as it was named when connecting (its command line or its URL).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The server's tools (`tools/list`, every page).
    pub async fn list_tools(&self) -> Result<Vec<rmcp::model::Tool>, McpError> {
        self.service
            .list_all_tools()
            .await
            .map_err(|e| McpError::Request {
                server: self.server.to_string(),
                method: "tools/list",
                message: e.to_string(),
            })
    }

    /// Calls a tool of the server (`tools/call`) with JSON-object arguments; its result as
    /// [`tool_result`] makes it.
    ///
    /// Arguments that are not an object give [`ToolErrorKind::InvalidArguments`]; a broken
    /// connection or a protocol error gives a [`ToolErrorKind::Failed`] naming the server.
    pub async fn call(&self, tool: &str, args: Value) -> ToolResult {
        let arguments = match args {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            other => {
                return Err(ToolError::invalid_arguments(format!(
                    "the arguments of `{tool}` must be a JSON object, not {other}"
                )));
            }
        };
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        match self.service.call_tool(params).await {
            Ok(result) => tool_result(result),
            Err(e) => Err(ToolError::new(format!(
                "the MCP server {} failed to run `{tool}`: {e}",
                self.server
            ))),
        }
    }
}

/// The kern definition of an MCP tool: its name, its description (else its title, else empty)
/// and its input schema; internal until the host chooses another mode.
///
/// ```
/// use serde_json::json;
///
/// let tool: rmcp::model::Tool = serde_json::from_value(json!({
///     "name": "echo",
///     "description": "Echoes back the input",
///     "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}},
///                     "required": ["message"]}
/// }))?;
/// let definition = kern_mcp::definition(&tool);
/// assert_eq!(definition.name, "echo");
/// assert_eq!(definition.description, "Echoes back the input");
/// assert_eq!(definition.parameters["required"], json!(["message"]));
/// assert_eq!(definition.mode, kern_core::ExecutionMode::Internal);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn definition(tool: &rmcp::model::Tool) -> ToolDefinition {
    let description = tool
        .description
        .as_deref()
        .or(tool.title.as_deref())
        .unwrap_or_default()
        .to_owned();
    ToolDefinition::new(
        tool.name.to_string(),
        description,
        Value::Object((*tool.input_schema).clone()),
    )
}

/// The kern result of an MCP tool call: the text of its content blocks, one a line (a block
/// that is not text, such as an image, as its JSON); the structured content's JSON when there
/// is no content. A result the server marked `isError` is a [`ToolErrorKind::Failed`] error with
/// that text, which the model sees as a tool error.
///
/// ```
/// use serde_json::json;
///
/// let ok: rmcp::model::CallToolResult = serde_json::from_value(json!({
///     "content": [{"type": "text", "text": "Echo: hi"}]
/// }))?;
/// assert_eq!(kern_mcp::tool_result(ok).unwrap(), "Echo: hi");
///
/// let failed: rmcp::model::CallToolResult = serde_json::from_value(json!({
///     "content": [{"type": "text", "text": "no such file"}], "isError": true
/// }))?;
/// assert_eq!(kern_mcp::tool_result(failed).unwrap_err().message(), "no such file");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn tool_result(result: CallToolResult) -> ToolResult {
    let mut text: Vec<String> = result
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text(t) => t.text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        })
        .collect();
    if text.is_empty()
        && let Some(structured) = &result.structured_content
    {
        text.push(structured.to_string());
    }
    let text = text.join("\n");
    if result.is_error == Some(true) {
        Err(ToolError::with_kind(ToolErrorKind::Failed, text))
    } else {
        Ok(text)
    }
}
