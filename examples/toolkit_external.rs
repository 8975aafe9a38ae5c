//! A toolkit with one external method: `ShellTools` gives the agent `list_dir` (external: the
//! host lists the directory, say inside a sandbox) and `get_env` (internal: the agent runs it).
//! The run pauses only for `list_dir`.
//!
//! `cargo run --example toolkit_external`

use std::path::PathBuf;

use kern::prelude::*;
use serde_json::json;

/// Shell tools confined to a root directory.
#[derive(Toolkit, Clone)]
#[toolkit(external = [list_dir])]
struct ShellTools {
    root: PathBuf,
}

#[toolkit_methods]
impl ShellTools {
    /// Lists the contents of a directory.
    ///
    /// # Arguments
    /// * `directory` - The directory, relative to the root
    async fn list_dir(&self, directory: String) -> Result<String, ToolError> {
        // The confined listing of kern-toolkit: `..`, absolute paths and symbolic links out of
        // the root are refused.
        kern::toolkits::FileTools::new(&self.root).list_files(Some(directory))
    }

    /// Gets an environment variable.
    ///
    /// # Arguments
    /// * `var_name` - The variable's name
    fn get_env(&self, var_name: String) -> String {
        std::env::var(&var_name).unwrap_or_default()
    }
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let shell = ShellTools {
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let agent = Agent::builder()
        .model(kern::model::from_env_or(
            TestModel::new()
                .with_args("list_dir", json!({ "directory": "examples" }))
                .with_args("get_env", json!({ "var_name": "CARGO_PKG_NAME" })),
        )?)
        .tool(shell.clone())
        .build()?;

    let mut run = agent.run("What is in my examples directory?").await?;
    // `get_env` already ran inside the agent; only `list_dir` waits for the host.
    for done in &run.tool_executions {
        println!(
            "ran inside the agent: `{}` -> {:?}",
            done.tool_name,
            done.result.as_deref().unwrap_or_default()
        );
    }
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            assert!(req.is_external_tool_execution() && call.tool_name == "list_dir");
            // The host handles the external method, its own way: here with the toolkit's own
            // method, on typed arguments.
            let result = match call.args::<ShellToolsListDirArgs>() {
                Ok(args) => shell.list_dir(args.directory).await,
                Err(e) => Err(e),
            };
            req.set_external_execution_result(result);
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
