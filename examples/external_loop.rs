//! Several external tools, handled in a loop until the run completes: the model calls
//! `execute_shell_command`, then — having seen the result — `read_file` and the shell again; each
//! turn pauses and the host resolves every requirement before continuing.
//!
//! `cargo run --example external_loop` (a `FunctionModel` plays the LLM's turns)

use kern::prelude::*;
use kern::{ModelResponse, ToolCall};

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

/// Reads the first lines of a text file.
///
/// # Arguments
/// * `path` - The file
/// * `lines` - How many lines (3 when not given)
#[tool(external_execution)]
fn read_file(path: String, lines: Option<usize>) -> Result<String, ToolError> {
    let text = std::fs::read_to_string(&path)?;
    Ok(text
        .lines()
        .take(lines.unwrap_or(3))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    // The model's turns: look around, then read a file, then answer with what it learnt.
    let model = FunctionModel::new(|request| {
        Ok(match FunctionModel::turn_of_run(request) {
            0 => ModelResponse::calls([ToolCall::new(
                "c1",
                "execute_shell_command",
                r#"{"command":"ls Cargo.toml"}"#,
            )]),
            1 => ModelResponse::calls([
                ToolCall::new("c2", "read_file", r#"{"path":"Cargo.toml","lines":2}"#),
                ToolCall::new(
                    "c3",
                    "execute_shell_command",
                    r#"{"command":"wc -l < Cargo.toml"}"#,
                ),
            ]),
            _ => {
                let results: Vec<String> = request
                    .messages
                    .iter()
                    .filter_map(|m| match m {
                        Message::Tool {
                            tool_name, content, ..
                        } => Some(format!("{tool_name}: {}", content.trim())),
                        _ => None,
                    })
                    .collect();
                ModelResponse::text(format!("I looked around:\n{}", results.join("\n")))
            }
        })
    });

    let agent = Agent::builder()
        .model(kern::model::from_env_or(model)?)
        .tool(execute_shell_command)
        .tool(read_file)
        .build()?;

    let mut run = agent.run("Tell me about my Cargo.toml").await?;
    let mut pauses = 0;
    while run.is_paused() {
        pauses += 1;
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!(
                "pause {pauses}: `{}` with {}",
                call.tool_name, call.tool_args
            );
            let out = match call.tool_name.as_str() {
                execute_shell_command::NAME => {
                    execute_shell_command.entrypoint(&call.tool_args).await
                }
                read_file::NAME => read_file.entrypoint(&call.tool_args).await,
                other => Err(ToolError::new(format!("this host does not run `{other}`"))),
            };
            req.set_external_execution_result(out);
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    println!(
        "resumed after {pauses} pauses, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
