//! MCP for kern, both ways, on the official Rust SDK (`rmcp`).
//!
//! - **Client** ([`McpTools`]): connect to an MCP server (a child process over stdio, or
//!   streamable HTTP), list its tools and add them to an agent like any other tools. The host
//!   chooses each tool's [`ExecutionMode`](kern_core::ExecutionMode): an MCP tool marked
//!   external, confirmation or user input pauses the run, and `continue_run` calls it on the
//!   server (confirmation, user input) or takes the host's result (external). A server's
//!   elicitation requests are answered by the host's [`ElicitationHandler`] (see
//!   [`elicitation`] for why they are not pauses).
//! - **Server** ([`McpServer`]): serve kern tools — a `#[tool]` fn, a `#[derive(Toolkit)]`
//!   toolkit, any [`IntoTools`](kern_core::IntoTools) — over stdio or streamable HTTP. Tools that
//!   pause are refused (see [`server`]).
//!
//! The facade re-exports this crate as `kern::mcp` with the `mcp` feature.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kern_core::{Agent, TestModel};
//! use kern_mcp::McpTools;
//!
//! let mut everything = tokio::process::Command::new("npx");
//! everything.args(["-y", "@modelcontextprotocol/server-everything"]);
//! let tools = McpTools::connect_stdio(everything)
//!     .await?
//!     .requires_confirmation(["get-sum"])
//!     .external(["echo"]);
//! let agent = Agent::builder().model(TestModel::new()).tool(tools).build()?;
//! let run = agent.run("Add 2 and 3").await?;
//! assert!(run.is_paused());
//! # Ok(()) }
//! ```

pub mod client;
pub mod elicitation;
mod error;
pub mod server;
mod session;

pub use client::{McpClient, McpTools};
pub use elicitation::{Elicitation, ElicitationAnswer, ElicitationHandler};
pub use error::McpError;
pub use server::{McpHttpServer, McpServer};
pub use session::{McpSession, definition, tool_result};

/// The MCP SDK kern-mcp is built on, for the types of its API ([`rmcp::model::Tool`], …).
pub use rmcp;
