//! Mixed tools in one turn: the model calls an internal tool and an external one at once. The
//! internal one runs right away and its result is kept while the external one pauses the run.
//!
//! `cargo run --example mixed_tools`

mod common;

use kern::prelude::*;
use serde_json::json;

#[tokio::main]
async fn main() -> kern::Result<()> {
    let word_count = common::FnTool::new(
        "word_count",
        "Counts the words of a text.",
        json!({
            "type": "object",
            "properties": { "text": { "type": "string", "description": "The text" } },
            "required": ["text"]
        }),
        |args| {
            Ok(common::str_arg(&args, "text")?
                .split_whitespace()
                .count()
                .to_string())
        },
    );
    let execute_shell_command = common::execute_shell_command();

    let agent = Agent::builder()
        .model(
            TestModel::new()
                .with_args("word_count", json!({ "text": "the host keeps control" }))
                .with_args("execute_shell_command", json!({ "command": "uname -s" })),
        )
        .tool(word_count)
        .tool(execute_shell_command.clone())
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
    for req in run.active_requirements_mut() {
        let call = &req.tool_execution;
        println!("paused: `{}` with {}", call.tool_name, call.tool_args);
        let out = execute_shell_command.entrypoint(&call.tool_args).await;
        req.set_external_execution_result(out);
    }
    let run = agent.continue_run(&run.run_id, run.requirements).await?;
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
