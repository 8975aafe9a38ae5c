//! What the cross-process tests share (included with `#[path]` by `cross_process.rs` and
//! `postgres_cross_process.rs`): the confirmed `deploy` tool that logs every execution to a
//! file, and waiting for the child processes that play the other workers.

use std::io::Write;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use kern_core::{ExecutionMode, Tool, ToolContext, ToolDefinition, ToolResult};
use serde_json::{Value, json};

/// `deploy` appends one line per execution here: `<run id> <pid>`.
pub const DEPLOY_LOG: &str = "deploy.log";
/// When this file exists, `deploy` writes `deploy.started` and then takes 60 s.
pub const SLOW: &str = "slow";

/// A tool made of a definition and an async body.
pub struct FnTool {
    pub definition: ToolDefinition,
    pub body: Box<dyn Fn(Value, ToolContext) -> BoxFuture<'static, ToolResult> + Send + Sync>,
}

impl Tool for FnTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }
    fn invoke(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        (self.body)(args, ctx)
    }
}

/// `deploy`, run by the agent once the host confirms it. Logs every execution.
pub fn deploy(dir: &Path) -> FnTool {
    let mut definition = ToolDefinition::new(
        "deploy",
        "Deploys to a target.",
        json!({
            "type": "object",
            "properties": { "target": { "type": "string" } },
            "required": ["target"]
        }),
    );
    definition.mode = ExecutionMode::RequiresConfirmation;
    let dir = dir.to_owned();
    FnTool {
        definition,
        body: Box::new(move |args, ctx| {
            let dir = dir.clone();
            async move {
                let mut log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(DEPLOY_LOG))?;
                writeln!(log, "{} {}", ctx.run_id, std::process::id())?;
                log.sync_all()?;
                if dir.join(SLOW).exists() {
                    std::fs::write(dir.join("deploy.started"), ctx.run_id.as_bytes())?;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                Ok(format!(
                    "deployed to {}",
                    args["target"].as_str().unwrap_or("?")
                ))
            }
            .boxed()
        }),
    }
}

/// Lines of the deploy log naming `run_id`: how many times `deploy` ran for it, in every process.
pub fn deployments(dir: &Path, run_id: &str) -> usize {
    std::fs::read_to_string(dir.join(DEPLOY_LOG))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.split(' ').next() == Some(run_id))
        .count()
}

/// Waits for a child to exit successfully.
pub fn finish(mut child: Child) {
    let status = child.wait().unwrap();
    assert!(status.success(), "child process failed: {status}");
}

/// Waits (up to 60 s) for `path` to exist.
pub fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
