//! External execution: the agent never runs `execute_shell_command` itself. When the model calls
//! it, the run pauses; the host runs the command, sets the result and continues the run.
//!
//! `cargo run --example external_execution` (offline: `TestModel` stands in for an LLM).

use kern::prelude::*;
use serde_json::json;

/// Execute a shell command.
///
/// # Arguments
/// * `command` - The shell command to execute
#[tool(external_execution)]
fn execute_shell_command(command: String) -> Result<String, ToolError> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let agent = Agent::builder()
        // Offline, TestModel calls the tool, then answers with its result; KERN_MODEL picks a
        // real model instead (`KERN_MODEL=openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`).
        .model(kern::model::from_env_or(TestModel::new().with_args(
            "execute_shell_command",
            json!({ "command": "ls" }),
        ))?)
        .tool(execute_shell_command)
        .build()?;

    let mut run = agent
        .run("What files do I have in my current directory?")
        .await?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            if req.is_external_tool_execution() {
                let call = &req.tool_execution;
                println!(
                    "paused: the model called `{}` with {}",
                    call.tool_name, call.tool_args
                );
                // The host runs it: here through the tool's own entrypoint.
                let out = execute_shell_command.entrypoint(&call.tool_args).await;
                let command = call.tool_args["command"].as_str().unwrap_or_default();
                match &out {
                    Ok(text) => println!(
                        "host ran `{command}`: {} lines of output, set as the call's result",
                        text.lines().count()
                    ),
                    Err(error) => println!("host ran `{command}`, which failed: {error}"),
                }
                req.set_external_execution_result(out);
            }
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
