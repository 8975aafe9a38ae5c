//! kern: LLM agents whose tools stay under the host program's control.
//!
//! A plain Rust function becomes a tool with `#[tool]`; tools the host must handle (marked
//! `external_execution`, `requires_confirmation` or `requires_user_input`) pause the run and come
//! back to the host as requirements, and the host continues the run when it has resolved them.
//!
//! Start with [`prelude`].
//!
//! # The loop: run, pause, continue
//!
//! A run goes until the model calls a tool the host must handle; then it pauses, and is in the
//! store. The host resolves each requirement (runs the tool, confirms, rejects, fills input) and
//! continues the run, here or in another process that shares the store.
//!
//! ```
//! use kern::prelude::*;
//!
//! /// Deploy a service.
//! ///
//! /// # Arguments
//! /// * `service` - The service to deploy
//! #[tool(external_execution)]
//! fn deploy(service: String) -> Result<String, ToolError> {
//!     Ok(format!("{service} deployed"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> kern::Result<()> {
//! let agent = Agent::builder()
//!     // Offline: TestModel calls the tool, then answers with its result.
//!     .model(TestModel::new().with_args("deploy", serde_json::json!({"service": "api"})))
//!     .tool(deploy)
//!     .build()?;
//!
//! let mut run = agent.run("Deploy the api").await?;
//! assert!(run.is_paused());
//! for req in run.active_requirements_mut() {
//!     // The host runs the tool itself (a job queue, another service, a person...).
//!     assert_eq!(req.tool_execution.tool_name, "deploy");
//!     req.set_external_execution_result("api deployed at v42");
//! }
//! // Requirements are bound to this run and this pause: a stale or foreign one is refused.
//! let run = agent.continue_run(&run.run_id, &run.requirements).await?;
//! assert_eq!(run.status, RunStatus::Completed);
//! assert!(run.content.unwrap().contains("api deployed at v42"));
//! # Ok(()) }
//! ```
//!
//! # A tool
//!
//! ```
//! use kern::prelude::*;
//!
//! /// Get the weather of a city.
//! ///
//! /// # Arguments
//! /// * `city` - The city
//! /// * `days` - How many days ahead, at most 7
//! #[tool]
//! fn get_weather(city: &str, days: Option<u8>) -> Result<String, ToolError> {
//!     Ok(format!("sunny in {city} for {} days", days.unwrap_or(1)))
//! }
//!
//! // The function's name is the tool: a value with its definition...
//! let definition = get_weather.definition();
//! assert_eq!(definition.name, "get_weather");
//! assert_eq!(definition.description, "Get the weather of a city.");
//! assert_eq!(definition.parameters["required"], serde_json::json!(["city"]));
//! assert_eq!(definition.mode, ExecutionMode::Internal);
//!
//! // ...an entrypoint taking the model's JSON arguments...
//! let args = serde_json::json!({"city": "Oslo", "days": 2});
//! let result = futures::executor::block_on(get_weather.entrypoint(&args));
//! assert_eq!(result.unwrap(), "sunny in Oslo for 2 days");
//!
//! // ...and the typed function itself.
//! assert_eq!(get_weather::call("Rome", None).unwrap(), "sunny in Rome for 1 days");
//! ```
//!
//! A tool the host must run itself pauses the run instead:
//!
//! ```
//! use kern::prelude::*;
//!
//! /// Execute a shell command.
//! ///
//! /// # Arguments
//! /// * `command` - The shell command to execute
//! #[tool(external_execution)]
//! fn execute_shell_command(command: String) -> Result<String, ToolError> {
//!     let out = std::process::Command::new("sh").arg("-c").arg(&command).output()?;
//!     Ok(String::from_utf8_lossy(&out.stdout).into_owned())
//! }
//!
//! assert_eq!(execute_shell_command.definition().mode, ExecutionMode::External);
//! ```
//!
//! # A toolkit
//!
//! ```
//! use kern::prelude::*;
//!
//! #[derive(Toolkit)]
//! #[toolkit(external = [list_dir])]
//! struct ShellTools {
//!     root: String,
//! }
//!
//! #[toolkit_methods]
//! impl ShellTools {
//!     /// Lists the contents of a directory.
//!     async fn list_dir(&self, directory: String) -> Result<String, ToolError> {
//!         Ok(format!("{}/{directory}: ...", self.root))
//!     }
//!
//!     /// Gets an environment variable.
//!     fn get_env(&self, var_name: String) -> String {
//!         std::env::var(&var_name).unwrap_or_default()
//!     }
//! }
//!
//! let mut tools = Vec::new();
//! ShellTools { root: "/srv".into() }.into_tools(&mut tools)?;
//! assert_eq!(tools[0].definition().mode, ExecutionMode::External);
//! assert_eq!(tools[1].definition().mode, ExecutionMode::Internal);
//!
//! // A selection; an unknown name is a configuration error.
//! let mut some = Vec::new();
//! ShellTools { root: "/srv".into() }.into_toolkit().include(["get_env"]).into_tools(&mut some)?;
//! assert_eq!(some.len(), 1);
//! let unknown = ShellTools { root: "/srv".into() }.into_toolkit().exclude(["rm"]).into_tools(&mut some);
//! assert!(matches!(unknown, Err(kern::Error::Config(_))));
//! # Ok::<(), kern::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use kern_core::*;
pub use kern_macros::{Toolkit, tool, toolkit_methods};

/// schemars, as kern uses it: derive `JsonSchema` for your own argument types with
/// `#[derive(kern::schemars::JsonSchema)]` and `#[schemars(crate = "kern::schemars")]`.
pub use kern_core::__private::schemars;
/// serde, as kern uses it: a crate that depends only on kern derives `Deserialize` for its own
/// argument types with `#[derive(kern::serde::Deserialize)]` and `#[serde(crate = "kern::serde")]`.
pub use kern_core::__private::serde;
/// serde_json, as kern uses it (tool arguments are `kern::serde_json::Value`s).
pub use kern_core::__private::serde_json;
/// MCP both ways (the `kern-mcp` crate, `mcp` feature): an MCP server's tools as kern tools with
/// the host's execution modes ([`McpTools`](mcp::McpTools)), and kern tools served over MCP
/// ([`McpServer`](mcp::McpServer)).
#[cfg(feature = "mcp")]
pub use kern_mcp as mcp;
/// Ready toolkits: [`ShellTools`](toolkits::ShellTools), [`FileTools`](toolkits::FileTools),
/// [`HttpTools`](toolkits::HttpTools) (the `kern-toolkit` crate).
#[cfg(feature = "toolkits")]
pub use kern_toolkit as toolkits;

/// What a kern program needs in scope.
pub mod prelude {
    #[cfg(feature = "postgres")]
    pub use kern_core::PostgresStore;
    #[cfg(feature = "sqlite")]
    pub use kern_core::SqliteStore;
    pub use kern_core::{
        Agent, ExecutionMode, FunctionModel, IntoToolkit, IntoTools, Message, Model, Requirement,
        RunEvent, RunInput, RunOutput, RunStatus, RunStore, TestModel, Tool, ToolContext,
        ToolDefinition, ToolError, ToolExecution, ToolExecutor, ToolResult,
    };
    #[cfg(feature = "providers")]
    pub use kern_core::{Anthropic, OpenAiChat, OpenAiResponses};
    pub use kern_macros::{Toolkit, tool, toolkit_methods};
}

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
