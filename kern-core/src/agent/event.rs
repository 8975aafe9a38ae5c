//! Streaming a run: [`RunEvent`]s and the [`RunStream`] that yields them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use serde_json::Value;

use crate::error::Result;
use crate::requirement::ToolExecution;
use crate::run::RunOutput;

/// One event of a streamed run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RunEvent {
    /// A new run started: the first event of a [`run_stream`](super::Agent::run_stream).
    RunStarted {
        /// The run.
        run_id: String,
        /// Its session.
        session_id: String,
    },
    /// A paused run went on: the first event of a
    /// [`continue_run_stream`](super::Agent::continue_run_stream). It is the run that paused,
    /// not a new one.
    RunContinued {
        /// The run.
        run_id: String,
        /// Its session.
        session_id: String,
        /// The pause this continue answers ([`RunOutput::pause_id`]).
        pause_id: String,
    },
    /// A piece of the model's text.
    ContentDelta(String),
    /// The agent started a tool call, or offered an external one to the executor (a declined
    /// offer gets no [`RunEvent::ToolCallCompleted`]: it is among the pause's requirements).
    ToolCallStarted {
        /// The id the model gave the call.
        tool_call_id: String,
        /// The tool.
        tool_name: String,
        /// The arguments.
        tool_args: Value,
    },
    /// A tool call finished (or failed: see [`ToolExecution::is_error`]).
    ToolCallCompleted(ToolExecution),
    /// The run paused; its requirements are in the run. It is stored; continue it with
    /// [`Agent::continue_run_stream`](super::Agent::continue_run_stream) or
    /// [`Agent::continue_run`](super::Agent::continue_run). Always the last event.
    Paused(Box<RunOutput>),
    /// The run ended (completed, or stopped by the turn limit: see its status). Always the last
    /// event.
    Completed(Box<RunOutput>),
}

pub(crate) type EventSender = mpsc::UnboundedSender<Result<RunEvent>>;

/// A stream of [`RunEvent`]s (items are `kern::Result<RunEvent>`; an error is the last item).
///
/// A [`run_stream`](super::Agent::run_stream) makes progress only while the stream is polled;
/// dropping it drops the run where it stands (a pause already reported is stored). The claimed
/// work of a [`continue_run_stream`](super::Agent::continue_run_stream) or a retry, on a tokio
/// runtime, goes on when the stream is dropped, and is stored at its next pause or end.
///
/// ```
/// # extern crate kern_core as kern;
/// # use kern_macros::tool;
/// use futures::StreamExt;
/// use kern_core::{Agent, RunEvent, TestModel, ToolError};
///
/// /// Run a query on the host's database.
/// #[tool(external_execution)]
/// fn query(sql: String) -> Result<String, ToolError> {
///     unreachable!("the host runs it")
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
/// let agent = Agent::builder().model(TestModel::new()).tool(query).build()?;
///
/// let mut events = agent.run_stream("How many users?");
/// let mut paused = None;
/// while let Some(event) = events.next().await {
///     match event? {
///         RunEvent::ContentDelta(text) => print!("{text}"),
///         RunEvent::Paused(run) => paused = Some(*run),
///         _ => {}
///     }
/// }
/// let mut run = paused.expect("the model called the external tool");
/// run.requirements[0].set_external_execution_result("42");
///
/// let mut events = agent.continue_run_stream(&run.run_id, &run.requirements);
/// let mut answer = None;
/// while let Some(event) = events.next().await {
///     if let RunEvent::Completed(run) = event? {
///         answer = run.content;
///     }
/// }
/// assert!(answer.unwrap().contains("42"));
/// # Ok(()) }
/// ```
#[must_use = "a run stream does nothing unless polled"]
pub struct RunStream {
    driver: Option<BoxFuture<'static, ()>>,
    events: mpsc::UnboundedReceiver<Result<RunEvent>>,
}

impl std::fmt::Debug for RunStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStream")
            .field("running", &self.driver.is_some())
            .finish_non_exhaustive()
    }
}

impl RunStream {
    /// A stream driven by the future `make` builds; the future reports through the sender and
    /// gives the run (or the error) that ends the stream.
    pub(crate) fn new<F, Fut>(make: F) -> RunStream
    where
        F: FnOnce(EventSender) -> Fut,
        Fut: Future<Output = Result<RunOutput>> + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded();
        let run = make(tx.clone());
        let driver = async move {
            let last = match run.await {
                Ok(run) if run.is_paused() => Ok(RunEvent::Paused(Box::new(run))),
                Ok(run) => Ok(RunEvent::Completed(Box::new(run))),
                Err(error) => Err(error),
            };
            // The receiver is gone only when the stream was dropped: nobody to tell.
            let _ = tx.unbounded_send(last);
        }
        .boxed();
        RunStream {
            driver: Some(driver),
            events: rx,
        }
    }
}

impl Stream for RunStream {
    type Item = Result<RunEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(driver) = self.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            // Its senders are dropped with it: the receiver ends after the last event.
            self.driver = None;
        }
        self.events.poll_next_unpin(cx)
    }
}
