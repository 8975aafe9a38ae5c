//! External execution from a program without async: the blocking facade
//! (`kern::blocking::Agent`, in the style of `reqwest::blocking`).
//!
//! `cargo run --example external_execution_sync`

mod common;

use kern::prelude::*;
use serde_json::json;

fn main() -> kern::Result<()> {
    let execute_shell_command = common::execute_shell_command();

    let agent = Agent::builder()
        .model(
            TestModel::new().with_args("execute_shell_command", json!({ "command": "echo hello" })),
        )
        .tool(execute_shell_command)
        .build_blocking()?;

    let mut run = agent.run("Say hello through the shell")?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            // The host runs the command its own way: here, synchronously.
            let command = call.tool_args["command"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .output();
            match out {
                Ok(out) => req.set_external_execution_result(
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                ),
                Err(e) => req.set_external_execution_result(Err::<String, _>(ToolError::from(e))),
            }
        }
        run = agent.continue_run(&run.run_id, run.requirements)?;
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
