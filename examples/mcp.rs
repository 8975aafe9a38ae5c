//! MCP both ways: this program serves a kern toolkit as an MCP server (over stdio, as a child
//! process of itself), connects to it as an MCP client, and gives its tools to an agent. The
//! host marks the server's `delete_file` as needing confirmation, so the run pauses on it; once
//! confirmed, `continue_run` calls it on the server.
//!
//! `cargo run --example mcp` (no network: the server is this program; `TestModel` plays the
//! model)

use kern::mcp::{McpServer, McpTools};
use kern::prelude::*;
use serde_json::json;

/// Files in a scratch directory, served over MCP.
#[derive(Toolkit)]
struct Scratch {
    dir: std::path::PathBuf,
}

#[toolkit_methods]
impl Scratch {
    /// Lists the files.
    fn list_files(&self) -> Result<String, ToolError> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names.join(", "))
    }

    /// Deletes a file.
    ///
    /// # Arguments
    /// * `name` - The file's name
    fn delete_file(&self, name: String) -> Result<String, ToolError> {
        if name.contains('/') {
            return Err(ToolError::new("a name, not a path"));
        }
        std::fs::remove_file(self.dir.join(&name))?;
        Ok(format!("deleted {name}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("serve") {
        // The child: an MCP server on stdin/stdout (logs go to stderr).
        let dir = args.next().ok_or("serve DIR")?;
        eprintln!("server: serving {dir} over stdio");
        McpServer::new(Scratch { dir: dir.into() })?
            .serve_stdio()
            .await?;
        return Ok(());
    }

    let dir = std::env::temp_dir().join(format!("kern-mcp-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("draft.txt"), "old")?;
    std::fs::write(dir.join("notes.txt"), "keep")?;

    let mut server = tokio::process::Command::new(std::env::current_exe()?);
    server.arg("serve").arg(&dir);
    let tools = McpTools::connect_stdio(server)
        .await?
        .requires_confirmation(["delete_file"]);
    println!(
        "client: the server's tools: {}",
        tools.names().collect::<Vec<_>>().join(", ")
    );

    let agent = Agent::builder()
        .model(
            TestModel::calling(["list_files", "delete_file"])
                .with_args("delete_file", json!({ "name": "draft.txt" })),
        )
        .tool(tools)
        .build()?;
    let mut run = agent.run("Tidy up the scratch directory").await?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!(
                "paused: `{}` with {} — confirm?",
                call.tool_name, call.tool_args
            );
            println!("host: yes");
            req.confirm();
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    for execution in &run.tool_executions {
        println!(
            "ran on the MCP server: `{}` -> {}",
            execution.tool_name,
            execution.result.as_deref().unwrap_or_default()
        );
    }
    println!("{}:\n{}", run.status, run.content.unwrap_or_default());
    let left: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    println!("left in the directory: {}", left.join(", "));
    std::fs::remove_dir_all(&dir)?;
    if run.status != RunStatus::Completed || left != ["notes.txt"] {
        return Err("the run did not delete draft.txt as confirmed".into());
    }
    Ok(())
}
