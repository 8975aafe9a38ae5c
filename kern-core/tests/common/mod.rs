//! Hand-written tools for the loop's tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::{BoxFuture, FutureExt};
use kern_core::{ExecutionMode, Tool, ToolContext, ToolDefinition, ToolResult};
use serde_json::{Value, json};

type Body = dyn Fn(Value, ToolContext) -> BoxFuture<'static, ToolResult> + Send + Sync;

/// A tool made of a closure, counting its calls.
#[derive(Clone)]
pub struct TestTool {
    def: ToolDefinition,
    body: Arc<Body>,
    calls: Arc<AtomicUsize>,
}

impl TestTool {
    /// A synchronous tool (its body runs on the blocking pool).
    pub fn new(
        name: &'static str,
        parameters: Value,
        body: impl Fn(Value) -> ToolResult + Send + Sync + 'static,
    ) -> Self {
        let body = Arc::new(body);
        TestTool::with_body(name, parameters, move |args, _ctx| {
            let body = body.clone();
            kern_core::__private::run_blocking(move || body(args)).boxed()
        })
    }

    /// An async tool.
    pub fn new_async<F, Fut>(name: &'static str, parameters: Value, body: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        TestTool::with_body(name, parameters, move |args, _ctx| body(args).boxed())
    }

    /// A tool with full control of `invoke`.
    pub fn with_body(
        name: &'static str,
        parameters: Value,
        body: impl Fn(Value, ToolContext) -> BoxFuture<'static, ToolResult> + Send + Sync + 'static,
    ) -> Self {
        TestTool {
            def: ToolDefinition::new(name, format!("The {name} tool."), parameters),
            body: Arc::new(body),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn mode(mut self, mode: ExecutionMode) -> Self {
        self.def.mode = mode;
        self
    }

    pub fn external(self) -> Self {
        self.mode(ExecutionMode::External)
    }

    pub fn confirm(self) -> Self {
        self.mode(ExecutionMode::RequiresConfirmation)
    }

    pub fn user_input(self, fields: &[&str]) -> Self {
        self.mode(ExecutionMode::RequiresUserInput {
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        })
    }

    pub fn stop_after(mut self) -> Self {
        self.def.stop_after_tool_call = true;
        self
    }

    pub fn show_result(mut self) -> Self {
        self.def.show_result = true;
        self
    }

    /// How many times the agent invoked the tool.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.calls.clone()
    }
}

impl Tool for TestTool {
    fn definition(&self) -> &ToolDefinition {
        &self.def
    }

    fn invoke(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (self.body)(args, ctx)
    }
}

pub fn calls(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

/// `{ command: string }`, required.
pub fn command_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "command": { "type": "string", "description": "The shell command" } },
        "required": ["command"]
    })
}

/// `{ a: integer, b: integer }`, both required.
pub fn add_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "a": { "type": "integer" }, "b": { "type": "integer" } },
        "required": ["a", "b"]
    })
}

/// An internal tool adding `a` and `b`, checking its arguments like generated code does.
pub fn add_tool() -> TestTool {
    TestTool::new("add", add_schema(), |args| {
        #[derive(serde::Deserialize)]
        struct Args {
            a: i64,
            b: i64,
        }
        let args: Args =
            serde_json::from_value(args).map_err(kern_core::ToolError::invalid_arguments)?;
        Ok((args.a + args.b).to_string())
    })
}

/// An external shell tool (the agent must never run it).
pub fn shell_tool() -> TestTool {
    TestTool::new("shell", command_schema(), |_| {
        panic!("an external tool must not be run by the agent")
    })
    .external()
}

/// The stored run, as JSON, and its version.
pub async fn stored_json(agent: &kern_core::Agent, run_id: &str) -> (String, u64) {
    let stored = agent.store().load(run_id).await.expect("stored run");
    (serde_json::to_string(&stored.run).unwrap(), stored.version)
}

/// Every event of a run's stream, in order; an error fails the test.
pub async fn stream_events(stream: kern_core::RunStream) -> Vec<kern_core::RunEvent> {
    use futures::StreamExt;
    stream.map(|event| event.unwrap()).collect().await
}

/// The content deltas of a run's events, piece by piece.
pub fn content_deltas(events: &[kern_core::RunEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            kern_core::RunEvent::ContentDelta(delta) => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

/// The pause a run's stream ended with (a copy, to resolve).
pub fn ended_paused(events: &[kern_core::RunEvent]) -> kern_core::RunOutput {
    match events.last() {
        Some(kern_core::RunEvent::Paused(paused)) => (**paused).clone(),
        _ => panic!("the stream ends with the pause: {events:?}"),
    }
}

/// The run a run's stream completed.
pub fn ended_completed(events: &[kern_core::RunEvent]) -> &kern_core::RunOutput {
    match events.last() {
        Some(kern_core::RunEvent::Completed(done)) => done,
        _ => panic!("the stream ends with the completion: {events:?}"),
    }
}

/// The content deltas of a model's streamed turn, piece by piece.
pub fn turn_deltas(events: &[Result<kern_core::ModelEvent, kern_core::ModelError>]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            Ok(kern_core::ModelEvent::ContentDelta(delta)) => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

/// The turn a model's stream completed with.
pub fn completed_turn(
    events: &[Result<kern_core::ModelEvent, kern_core::ModelError>],
) -> &kern_core::ModelResponse {
    match events.last() {
        Some(Ok(kern_core::ModelEvent::Completed(turn))) => turn,
        other => panic!("the stream ends with the turn: {other:?} in {events:?}"),
    }
}
