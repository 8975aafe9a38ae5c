//! A hand-written tool (a name, a description, a JSON schema and a closure), used by the
//! `toolkit_external` example until it moves to `#[derive(Toolkit)]`. Every other example uses
//! `#[tool]`, which generates all of this from a plain function.
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
