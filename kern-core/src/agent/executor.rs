//! [`ToolExecutor`]: resolves external tool calls for the host, so the run need not pause.

use std::future::Future;

use futures::future::BoxFuture;

use crate::requirement::ToolExecution;
use crate::tool::ToolResult;

/// Resolves external tool calls automatically (see
/// [`AgentBuilder::executor`](super::AgentBuilder::executor) and
/// [`Agent::continue_run_with`](super::Agent::continue_run_with)).
///
/// For each external call the agent asks the executor; `Some(result)` is the call's result (an
/// `Err` goes to the model as a tool error), `None` declines it and the run pauses for it as
/// usual. The calls of one turn are offered concurrently. A panicking executor counts as a
/// panicking tool.
///
/// Every `Fn(&ToolExecution) -> impl Future<Output = Option<ToolResult>>` closure is an executor;
/// the future must not borrow the execution (clone what it needs):
///
/// ```
/// use kern_core::{ToolExecution, ToolExecutor};
///
/// fn takes(_: impl ToolExecutor) {}
/// takes(|call: &ToolExecution| {
///     let handled = call.tool_name == "get_time";
///     async move { handled.then(|| Ok("12:00".to_owned())) }
/// });
/// ```
pub trait ToolExecutor: Send + Sync + 'static {
    /// Executes the call, or declines it with `None`.
    fn execute(&self, execution: &ToolExecution) -> BoxFuture<'static, Option<ToolResult>>;
}

impl<F, Fut> ToolExecutor for F
where
    F: Fn(&ToolExecution) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<ToolResult>> + Send + 'static,
{
    fn execute(&self, execution: &ToolExecution) -> BoxFuture<'static, Option<ToolResult>> {
        Box::pin(self(execution))
    }
}
