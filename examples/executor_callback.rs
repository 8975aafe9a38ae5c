//! An executor callback: the agent hands every external call to it and the run pauses only for
//! the calls it declines. Here it runs read-only commands from an allow-list and declines the
//! rest, which the host then refuses by hand.
//!
//! `cargo run --example executor_callback`

use kern::prelude::*;
use kern::{ModelResponse, ToolCall};

const ALLOWED: &[&str] = &["pwd", "whoami", "date +%Y"];

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
    // Called for every external call of every run of the agent; `None` declines (the run pauses
    // for it). The future must own what it uses, so the arguments are cloned into it.
    let executor = |call: &ToolExecution| {
        let args = call.tool_args.clone();
        async move {
            let command = args["command"].as_str().unwrap_or_default();
            if !ALLOWED.contains(&command) {
                println!("executor: declined `{command}`");
                return None;
            }
            println!("executor: running `{command}`");
            Some(execute_shell_command.entrypoint(&args).await)
        }
    };

    let model = FunctionModel::script([
        ModelResponse::calls([
            ToolCall::new("c1", "execute_shell_command", r#"{"command":"date +%Y"}"#),
            ToolCall::new(
                "c2",
                "execute_shell_command",
                r#"{"command":"rm -rf ./target"}"#,
            ),
        ]),
        ModelResponse::calls([ToolCall::new(
            "c3",
            "execute_shell_command",
            r#"{"command":"whoami"}"#,
        )]),
        ModelResponse::text(
            "Done: I checked the year and who you are, and did not delete anything.",
        ),
    ]);
    let agent = Agent::builder()
        .model(kern::model::from_env_or(model)?)
        .tool(execute_shell_command)
        .executor(executor)
        .build()?;

    let mut run = agent
        .run("Check the year, clean up, and tell me who I am")
        .await?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            let call = &req.tool_execution;
            println!("paused: `{}` with {}", call.tool_name, call.tool_args);
            req.set_external_execution_result(Err::<String, _>(ToolError::new(
                "the host refused to run this command",
            )));
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    for done in &run.tool_executions {
        let result = done.result.as_deref().unwrap_or_default().trim();
        println!(
            "{} {} -> {}{result}",
            done.tool_name,
            done.tool_args,
            if done.is_error { "error: " } else { "" }
        );
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
