//! Ready toolkits for [kern](https://docs.rs/kern) agents, each a struct made with
//! `#[derive(Toolkit)]` and added to an agent like a tool:
//!
//! | toolkit | tools | paused by default |
//! |---|---|---|
//! | [`ShellTools`] | `run_command`, `list_dir` | `run_command` (confirmation) |
//! | [`FileTools`] | `read_file`, `write_file`, `list_files`, `search_files` | `write_file` (confirmation) |
//! | [`HttpTools`] | `http_get`, `http_post` | `http_post` (confirmation) |
//!
//! Each has a constructor and setters for its limits (time, sizes), with defaults fit for a
//! model's context. The execution modes are the toolkits' (chosen with `#[toolkit(..)]`);
//! [`with_modes`] changes them when the host decides otherwise (a sandbox, an external runner).
//! Paths are confined to a root directory; everything a model can send gives at worst a tool
//! error, which the model sees. The tool names differ across the toolkits, so an
//! agent can have all three.
//!
//! ```no_run
//! use kern_core::{Agent, IntoToolkit, TestModel};
//! use kern_toolkit::{FileTools, HttpTools, ShellTools};
//!
//! # async fn demo() -> kern_core::Result<()> {
//! let agent = Agent::builder()
//!     .model(TestModel::new())
//!     .tool(ShellTools::new("/srv/project"))
//!     .tool(FileTools::new("/srv/project").into_toolkit().exclude(["write_file"]))
//!     .tool(HttpTools::new())
//!     .build()?;
//!
//! let mut run = agent.run("Build the project").await?;
//! while run.is_paused() {
//!     for req in run.active_requirements_mut() {
//!         // `run_command` and `http_post` wait for a yes or no.
//!         println!("{} {}", req.tool_execution.tool_name, req.tool_execution.tool_args);
//!         req.confirm();
//!     }
//!     run = agent.continue_run(&run.run_id, &run.requirements).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! The methods are public, so a host that resolves a call itself (say, an external call it
//! routes to a sandbox) can run the same code: `shell.run_command(command, None).await`; the
//! arguments of a call, typed, are the generated `*Args` structs
//! (`req.tool_execution.args::<ShellToolsRunCommandArgs>()`).
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod address;
mod contain;
mod file;
mod http;
mod root;
mod shell;

pub use file::{
    FileTools, FileToolsListFilesArgs, FileToolsReadFileArgs, FileToolsSearchFilesArgs,
    FileToolsWriteFileArgs,
};
pub use http::{HttpTools, HttpToolsHttpGetArgs, HttpToolsHttpPostArgs};
/// Changing these toolkits' default execution modes at run time (from kern-core, here too so
/// the toolkits and their override come from one place).
pub use kern_core::{WithModes, with_modes};
pub use shell::{ShellTools, ShellToolsListDirArgs, ShellToolsRunCommandArgs};
