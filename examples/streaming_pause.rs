//! Streaming with a pause: `run_stream` yields events as the run goes; it ends with the pause,
//! and `continue_run_stream` streams the rest.
//!
//! `cargo run --example streaming_pause`

use std::io::Write;

use futures::StreamExt;
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
        .model(kern::model::from_env_or(
            TestModel::new()
                .with_args(
                    "execute_shell_command",
                    json!({ "command": "echo streamed" }),
                )
                .with_answer("Here is what your shell said:"),
        )?)
        .tool(execute_shell_command)
        .build()?;

    let mut stream = agent.run_stream("Say something through the shell");
    let mut paused = None;
    while let Some(event) = stream.next().await {
        match event? {
            RunEvent::Paused(run) => paused = Some(*run),
            other => print_event(&other),
        }
    }
    let Some(mut run) = paused else {
        println!("\nthe model answered without calling the tool");
        return Ok(());
    };
    for req in run.active_requirements_mut() {
        let call = &req.tool_execution;
        println!("paused: `{}` with {}", call.tool_name, call.tool_args);
        let out = execute_shell_command.entrypoint(&call.tool_args).await;
        let command = call.tool_args["command"].as_str().unwrap_or_default();
        match &out {
            Ok(text) => println!("host ran `{command}`: {:?}", text.trim_end()),
            Err(error) => println!("host ran `{command}`, which failed: {error}"),
        }
        req.set_external_execution_result(out);
    }

    let mut stream = agent.continue_run_stream(&run.run_id, &run.requirements);
    while let Some(event) = stream.next().await {
        match event? {
            RunEvent::Completed(run) => {
                println!(
                    "\nresumed, {}:\n{}",
                    run.status,
                    run.content.unwrap_or_default()
                );
            }
            other => print_event(&other),
        }
    }
    Ok(())
}

fn print_event(event: &RunEvent) {
    match event {
        RunEvent::RunStarted { run_id, .. } => println!("[started run {run_id}]"),
        RunEvent::RunContinued {
            run_id, pause_id, ..
        } => println!("[run {run_id} continues from pause {pause_id}]"),
        RunEvent::ContentDelta(delta) => {
            print!("{delta}");
            let _ = std::io::stdout().flush();
        }
        RunEvent::ToolCallStarted {
            tool_name,
            tool_args,
            ..
        } => println!("[tool {tool_name} {tool_args}]"),
        RunEvent::ToolCallCompleted(done) => {
            println!("[tool {} done: {:?}]", done.tool_name, done.result)
        }
        other => println!("[{other:?}]"),
    }
}
