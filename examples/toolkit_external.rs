//! A toolkit with one external method: `ShellTools` gives the agent `list_dir` (external: the
//! host lists the directory, say inside a sandbox) and `get_env` (internal: the agent runs it).
//!
//! `cargo run --example toolkit_external`

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::{FnTool, str_arg};
use kern::prelude::*;
use serde_json::json;

/// Shell tools confined to a root directory.
struct ShellTools {
    root: PathBuf,
}

impl ShellTools {
    /// Lists the contents of a directory under the root.
    fn list_dir(root: &std::path::Path, directory: &str) -> ToolResult {
        let mut names: Vec<String> = std::fs::read_dir(root.join(directory))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names.join("\n"))
    }
}

/// One tool a method; `list_dir` is external.
impl IntoTools for ShellTools {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> kern::Result<()> {
        let root = self.root.clone();
        out.push(Arc::new(
            FnTool::new(
                "list_dir",
                "Lists the contents of a directory.",
                json!({
                    "type": "object",
                    "properties": { "directory": { "type": "string", "description": "The directory, relative to the root" } },
                    "required": ["directory"]
                }),
                move |args| ShellTools::list_dir(&root, str_arg(&args, "directory")?),
            )
            .mode(ExecutionMode::External),
        ));
        out.push(Arc::new(FnTool::new(
            "get_env",
            "Gets an environment variable.",
            json!({
                "type": "object",
                "properties": { "var_name": { "type": "string", "description": "The variable" } },
                "required": ["var_name"]
            }),
            |args| Ok(std::env::var(str_arg(&args, "var_name")?).unwrap_or_default()),
        )));
        Ok(())
    }
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let agent = Agent::builder()
        .model(
            TestModel::new()
                .with_args("list_dir", json!({ "directory": "examples" }))
                .with_args("get_env", json!({ "var_name": "CARGO_PKG_NAME" })),
        )
        .tool(ShellTools { root: root.clone() })
        .build()?;

    let mut run = agent.run("What is in my examples directory?").await?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            // The host handles the external method, its own way.
            let directory = call.tool_args["directory"]
                .as_str()
                .unwrap_or(".")
                .to_owned();
            req.set_external_execution_result(ShellTools::list_dir(&root, &directory));
        }
        run = agent.continue_run(&run.run_id, run.requirements).await?;
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
