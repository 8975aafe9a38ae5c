//! Hand-written tools for the examples: a name, a description, a JSON schema and a body.
//! (`#[tool]` generates the same from a plain function; these examples spell it out.)
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use kern::prelude::*;
use serde_json::Value;

type Body = dyn Fn(Value) -> BoxFuture<'static, ToolResult> + Send + Sync;

/// A tool made of a closure. Cloning shares it.
#[derive(Clone)]
pub struct FnTool {
    definition: Arc<ToolDefinition>,
    body: Arc<Body>,
}

impl FnTool {
    /// A synchronous tool (run on tokio's blocking pool).
    pub fn new(
        name: &'static str,
        description: &'static str,
        parameters: Value,
        body: impl Fn(Value) -> ToolResult + Send + Sync + 'static,
    ) -> Self {
        let body = Arc::new(body);
        FnTool::new_async(name, description, parameters, move |args| {
            let body = body.clone();
            async move {
                tokio::task::spawn_blocking(move || body(args))
                    .await
                    .unwrap_or_else(|e| Err(ToolError::new(e.to_string())))
            }
        })
    }

    /// An async tool.
    pub fn new_async<F, Fut>(
        name: &'static str,
        description: &'static str,
        parameters: Value,
        body: F,
    ) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        FnTool {
            definition: Arc::new(ToolDefinition::new(name, description, parameters)),
            body: Arc::new(move |args| body(args).boxed()),
        }
    }

    /// How the agent handles its calls.
    pub fn mode(mut self, mode: ExecutionMode) -> Self {
        Arc::make_mut(&mut self.definition).mode = mode;
        self
    }

    /// Runs the tool's body with these arguments: what the host calls for an external tool.
    pub async fn entrypoint(&self, args: &Value) -> ToolResult {
        (self.body)(args.clone()).await
    }
}

impl Tool for FnTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn invoke(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        (self.body)(args)
    }
}

/// The argument `name` as a string, or an "invalid arguments" error.
pub fn str_arg<'a>(args: &'a Value, name: &str) -> Result<&'a str, ToolError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::invalid_arguments(format_args!("`{name}` must be a string")))
}

/// Execute a shell command (`sh -c`), giving its standard output.
pub fn execute_shell_command() -> FnTool {
    FnTool::new(
        "execute_shell_command",
        "Execute a shell command.",
        serde_json::json!({
            "type": "object",
            "properties": {
                "command": { "type": "string", "description": "The shell command to execute" }
            },
            "required": ["command"]
        }),
        |args| {
            let command = str_arg(&args, "command")?;
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .output()?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        },
    )
    .mode(ExecutionMode::External)
}
