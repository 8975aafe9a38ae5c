//! What the kern-mcp tests share: the third-party MCP software scripts/mcp.sh installs (named by
//! environment variables; a test without it says why and passes over), and a kern toolkit to
//! serve.

#![allow(dead_code)] // each test file uses a part

use kern_core::{Agent, RunOutput, TestModel, ToolError};
use kern_macros::{Toolkit, toolkit_methods};
use kern_mcp::McpTools;

/// The command in `var` (words split on spaces), or `None` after saying why the test passes
/// over.
pub fn command_from_env(var: &str) -> Option<Vec<String>> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => {
            Some(value.split_whitespace().map(str::to_owned).collect())
        }
        _ => {
            eprintln!(
                "skipped: {var} is not set (run `eval \"$(scripts/mcp.sh)\"` to install the npm \
                 MCP software; CI always sets it)"
            );
            None
        }
    }
}

/// A tokio command for these words.
pub fn command(words: &[String]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(&words[0]);
    command.args(&words[1..]);
    command
}

/// The everything reference server over stdio, when installed.
pub fn everything() -> Option<tokio::process::Command> {
    command_from_env("KERN_TEST_MCP_EVERYTHING").map(|words| command(&words))
}

/// An agent whose TestModel calls `tool` with `args`, with these MCP tools.
pub fn agent_calling(tools: McpTools, tool: &str, args: serde_json::Value) -> Agent {
    Agent::builder()
        .model(TestModel::calling([tool]).with_args(tool, args))
        .tool(tools)
        .build()
        .expect("the agent builds")
}

/// The result of the run's only tool execution.
pub fn only_result(run: &RunOutput) -> (&str, bool) {
    assert_eq!(run.tool_executions.len(), 1, "{:?}", run.tool_executions);
    let execution = &run.tool_executions[0];
    (
        execution.result.as_deref().expect("the call has a result"),
        execution.is_error,
    )
}

/// Arithmetic tools kern serves in the tests.
#[derive(Toolkit)]
#[toolkit(crate = "kern_core")]
pub struct Calculator {
    /// Added to every sum, so a test sees which side computed it.
    pub offset: i64,
}

#[toolkit_methods(crate = "kern_core")]
impl Calculator {
    /// Adds two integers.
    ///
    /// # Arguments
    /// * `a` - The first
    /// * `b` - The second
    fn add(&self, a: i64, b: i64) -> String {
        (a + b + self.offset).to_string()
    }

    /// Divides `a` by `b`.
    ///
    /// # Arguments
    /// * `a` - The dividend
    /// * `b` - The divisor, not zero
    fn divide(&self, a: i64, b: i64) -> Result<String, ToolError> {
        if b == 0 {
            return Err(ToolError::new("division by zero"));
        }
        Ok((a / b).to_string())
    }
}
