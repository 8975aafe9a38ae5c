//! External execution from a program without async: the blocking facade
//! (`kern::blocking::Agent`, in the style of `reqwest::blocking`). The host runs the external
//! tool through its typed function, `execute_shell_command::call`, with the arguments
//! deserialized into the tool's generated args type.
//!
//! `cargo run --example external_execution_sync`

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

fn main() -> kern::Result<()> {
    let agent = Agent::builder()
        .model(kern::model::from_env_or(TestModel::new().with_args(
            "execute_shell_command",
            json!({ "command": "echo hello" }),
        ))?)
        .tool(execute_shell_command)
        .build_blocking()?;

    let mut run = agent.run("Say hello through the shell")?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            // Typed arguments (the tool's generated args type), then the typed function, called
            // synchronously. Arguments that do not fit go back to the model as a tool error.
            let out = call
                .args::<ExecuteShellCommandArgs>()
                .and_then(|args| execute_shell_command::call(args.command));
            req.set_external_execution_result(out);
        }
        run = agent.continue_run(&run.run_id, &run.requirements)?;
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
