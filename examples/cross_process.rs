//! The classic cross-process scenario: one process starts a run, which pauses on a tool the host
//! must execute, and exits; another process, later, executes the tool and continues the run by
//! its id. The run waits in between in a SQLite file.
//!
//! ```text
//! cargo run --example cross_process -- pause            # prints the run id and the pending calls
//! cargo run --example cross_process -- resume <run_id>  # executes the tool, continues, prints the answer
//! cargo run --example cross_process                     # both steps, as two child processes
//! ```
//!
//! The file is `kern-cross-process.db` in the system's temp directory (`$KERN_EXAMPLE_DB` to
//! choose another). The model is an offline `FunctionModel`, so no API key is needed.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use kern::prelude::*;
use kern::{ModelResponse, ToolCall};

// External: the agent never runs it; the host does, in `resume`.
/// Lists the entries of a directory: their names, sorted, one per line.
///
/// # Arguments
/// * `path` - The directory to list
#[tool(external_execution)]
fn list_directory(path: PathBuf) -> Result<String, ToolError> {
    let mut names = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names.join("\n"))
}

/// Turn 1 lists the current directory; turn 2 sums up what the tool returned.
fn model() -> FunctionModel {
    FunctionModel::new(|request| {
        if FunctionModel::turn_of_run(request) == 0 {
            return Ok(ModelResponse::calls([ToolCall::new(
                "call_1",
                "list_directory",
                r#"{"path":"."}"#,
            )]));
        }
        let listing = request
            .messages
            .iter()
            .rev()
            .find_map(|m| match m {
                Message::Tool { content, .. } => Some(content.as_str()),
                _ => None,
            })
            .unwrap_or_default();
        let names: Vec<&str> = listing.lines().collect();
        Ok(ModelResponse::text(format!(
            "You have {} entries in your current directory: {}.",
            names.len(),
            names.join(", ")
        )))
    })
}

fn database() -> PathBuf {
    std::env::var_os("KERN_EXAMPLE_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("kern-cross-process.db"))
}

async fn agent() -> kern::Result<Agent> {
    Agent::builder()
        .model(kern::model::from_env_or(model())?)
        .tool(list_directory)
        .store(SqliteStore::open(database()).await?)
        .build()
}

/// Step 1: start the run; it pauses on `list_directory`, which is stored with it.
async fn pause() -> kern::Result<()> {
    let run = agent()
        .await?
        .run("What files do I have in my current directory?")
        .await?;
    println!("run_id: {}", run.run_id);
    for req in run.active_requirements() {
        println!(
            "pending: {} {} (call {})",
            req.tool_execution.tool_name,
            req.tool_execution.tool_args,
            req.tool_execution.tool_call_id
        );
    }
    Ok(())
}

/// Step 2, in another process: load the pause, execute the calls, continue.
async fn resume(run_id: &str) -> kern::Result<()> {
    let agent = agent().await?;
    let mut run = agent.store().load(run_id).await?.run;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            if req.is_external_tool_execution() {
                let result = list_directory
                    .entrypoint(&req.tool_execution.tool_args)
                    .await;
                req.set_external_execution_result(result);
            }
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    println!("answer: {}", run.content.unwrap_or_default());
    Ok(())
}

/// No arguments: `pause` and `resume` as two child processes of this program.
fn both() -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let paused = Command::new(&me)
        .arg("pause")
        .output()
        .map_err(|e| format!("start `pause`: {e}"))?;
    let stdout = String::from_utf8_lossy(&paused.stdout);
    print!("$ cross_process pause\n{stdout}");
    if !paused.status.success() {
        return Err(format!(
            "`pause` failed: {}",
            String::from_utf8_lossy(&paused.stderr)
        ));
    }
    let run_id = stdout
        .lines()
        .find_map(|line| line.strip_prefix("run_id: "))
        .ok_or("`pause` printed no run id")?;
    println!("$ cross_process resume {run_id}");
    let resumed = Command::new(&me)
        .args(["resume", run_id])
        .status()
        .map_err(|e| format!("start `resume`: {e}"))?;
    if resumed.success() {
        Ok(())
    } else {
        Err(format!("`resume` failed: {resumed}"))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["pause"] => block_on(pause()),
        ["resume", run_id] => block_on(resume(run_id)),
        [] => both(),
        _ => Err("usage: cross_process [pause | resume <run_id>]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn block_on(step: impl Future<Output = kern::Result<()>>) -> Result<(), String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(step)
        .map_err(|e| e.to_string())
}
