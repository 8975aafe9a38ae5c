//! Mixed tools in one turn: the model calls an internal tool and an external one at once. The
//! internal one runs right away and its result is kept while the external one pauses the run.
//!
//! `cargo run --example mixed_tools`

use kern::prelude::*;
use serde_json::json;

/// Counts the words of a text.
///
/// # Arguments
/// * `text` - The text
#[tool]
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

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
        .model(kern::model::from_env_or(
            TestModel::new()
                .with_args("word_count", json!({ "text": "the host keeps control" }))
                .with_args("execute_shell_command", json!({ "command": "uname -s" })),
        )?)
        .tool(word_count)
        .tool(execute_shell_command)
        .build()?;

    let mut run = agent.run("Count the words and tell me my OS").await?;
    println!("status: {}", run.status);
    for done in &run.tool_executions {
        println!(
            "already ran: `{}` -> {:?}",
            done.tool_name,
            done.result.as_deref().unwrap_or_default()
        );
    }
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            let out = execute_shell_command.entrypoint(&call.tool_args).await;
            req.set_external_execution_result(out);
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
