//! [`McpError`]: why connecting to, or serving, MCP failed.

use std::io;

/// Why an MCP connection or server could not be set up.
///
/// A failed tool *call* is not an `McpError`: it becomes a [`ToolError`](kern_core::ToolError)
/// the model sees, like any tool's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server's process could not be started.
    #[error("could not start the MCP server `{command}`: {source}")]
    Spawn {
        /// The program that was to be run.
        command: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The MCP handshake (`initialize`) failed.
    #[error("could not connect to the MCP server {server}: {message}")]
    Connect {
        /// The server (its command or its URL).
        server: String,
        /// What went wrong.
        message: String,
    },
    /// A request to a connected server failed (the connection broke, or the server answered
    /// with a protocol error).
    #[error("the MCP server {server} failed to answer `{method}`: {message}")]
    Request {
        /// The server (its command or its URL).
        server: String,
        /// The MCP method (`tools/list`, …).
        method: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The tools or the modes chosen for them do not fit (an unknown tool name, a tool that
    /// cannot be served).
    #[error(transparent)]
    Config(#[from] kern_core::Error),
    /// Serving failed (the listener, or the transport).
    #[error("the MCP server failed: {0}")]
    Serve(#[source] io::Error),
}
