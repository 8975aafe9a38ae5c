//! The loop: model turn → tool calls split by execution mode → internal ones run concurrently,
//! the others become requirements → pause (stored) or go on; and the continue of a pause.

use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt};
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value};

use super::event::{EventSender, RunEvent};
use super::executor::ToolExecutor;
use super::validate::{missing_required, supplied_args, validate};
use super::{Inner, RunInput};
use crate::error::{Error, Result};
use crate::message::{Message, ToolCall};
use crate::model::{ModelError, ModelEvent, ModelRequest, ModelResponse};
use crate::requirement::{
    Confirmation, Requirement, RequirementKind, ToolExecution, UserInputField,
};
use crate::run::{InFlightCall, Metrics, RunOutput, RunStatus, SCHEMA_VERSION};
use crate::store::StoredRun;
use crate::tool::{
    ExecutionMode, Tool, ToolContext, ToolDefinition, ToolError, ToolErrorKind, ToolResult,
    panic_error,
};

/// Starts a run and drives it.
pub(crate) async fn start(
    inner: &Inner,
    input: RunInput,
    executor: Option<&dyn ToolExecutor>,
    events: Option<&EventSender>,
) -> Result<RunOutput> {
    let (session_id, history) = match input.session_id {
        Some(session_id) => {
            let runs = inner.store.session_runs(&session_id).await?;
            (session_id, history_of(runs, None))
        }
        None => (super::id::new_session_id(), Vec::new()),
    };
    let run = RunOutput {
        schema_version: SCHEMA_VERSION,
        run_id: super::id::new_run_id(),
        session_id,
        user_id: input.user_id,
        status: RunStatus::Running,
        content: None,
        messages: vec![Message::user(input.text)],
        tool_executions: Vec::new(),
        requirements: Vec::new(),
        pause_id: String::new(),
        in_flight: Vec::new(),
        metrics: Metrics::default(),
        error: None,
        lease: None,
    };
    let engine = Engine::new(inner, executor, events, history, run, None);
    engine.emit_started();
    engine.drive().await
}

/// What the host's answer to one requirement asks the agent to do.
enum Action {
    /// The call has its result (external execution, rejection).
    Done(ToolExecution),
    /// Run the tool with these (stored, possibly completed or host-approved) arguments.
    Run(ToolExecution),
    /// Offer the call to the executor; pause again for it if declined.
    Offer(Requirement),
}

/// Runs claimed work so that dropping the caller's future does not abandon it: on a tokio
/// runtime the work is a task of its own, which goes on to its end (and stores the run there)
/// whether or not anybody waits for it. Outside a tokio runtime it runs in place.
async fn detached<F>(run_id: String, work: F) -> Result<RunOutput>
where
    F: Future<Output = Result<RunOutput>> + Send + 'static,
{
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return work.await;
    };
    match handle.spawn(work).await {
        Ok(result) => result,
        Err(join) => match join.try_into_panic() {
            // A panic of the agent's own code (tools' panics are caught): the caller's.
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Aborted { run_id }),
        },
    }
}

/// Continues a paused run: load, validate everything, then (detached from the caller) claim the
/// pause, apply, loop.
pub(crate) async fn resume(
    inner: Arc<Inner>,
    run_id: &str,
    requirements: &[Requirement],
    executor: Option<Arc<dyn ToolExecutor>>,
    events: Option<EventSender>,
) -> Result<RunOutput> {
    let StoredRun { run, version, .. } = inner.store.load(run_id).await?;
    let actions: Vec<Action> = validate(&inner, &run, requirements, executor.is_some())?
        .into_iter()
        .map(|(stored, passed)| plan(stored, passed))
        .collect();
    let id = run.run_id.clone();
    detached(id, async move {
        let runs = inner.store.session_runs(&run.session_id).await?;
        let history = history_of(runs, Some(&run.run_id));
        let mut engine = Engine::new(
            &inner,
            executor.as_deref(),
            events.as_ref(),
            history,
            run,
            Some(version),
        );
        engine.run.status = RunStatus::Running;
        engine.run.requirements.clear();
        engine.emit_continued();
        let mut batch = Batch::default();
        for action in actions {
            match action {
                Action::Done(execution) => {
                    engine.emit_completed(&execution);
                    batch.slots.push(Slot::Done(execution));
                }
                Action::Run(call) => match inner.tool(&call.tool_name) {
                    Some(tool) => batch.slots.push(Slot::Run(Arc::clone(tool), call)),
                    None => {
                        let error = unknown_tool(&inner, &call.tool_name);
                        let failed = engine.failed(call, error);
                        batch.slots.push(Slot::Done(failed));
                    }
                },
                Action::Offer(requirement) if engine.executor.is_some() => {
                    batch.slots.push(Slot::Offer(requirement));
                }
                Action::Offer(requirement) => batch.slots.push(Slot::Pending(requirement)),
            }
        }
        // The first store write of `settle` claims the pause: only one continue gets past
        // this compare-and-set, and no tool starts before it.
        engine.settle_and_go(batch, true).await
    })
    .await
}

/// Takes up a failed run again: its model turn is tried anew, with the tool results the run has
/// (no tool runs again).
pub(crate) async fn retry(
    inner: Arc<Inner>,
    run_id: &str,
    executor: Option<Arc<dyn ToolExecutor>>,
    events: Option<EventSender>,
) -> Result<RunOutput> {
    let StoredRun {
        mut run, version, ..
    } = inner.store.load(run_id).await?;
    if run.status != RunStatus::Failed {
        return Err(Error::RunNotFailed {
            run_id: run.run_id,
            status: run.status,
        });
    }
    let id = run.run_id.clone();
    detached(id, async move {
        let runs = inner.store.session_runs(&run.session_id).await?;
        let history = history_of(runs, Some(&run.run_id));
        run.status = RunStatus::Running;
        run.error = None;
        let mut engine = Engine::new(
            &inner,
            executor.as_deref(),
            events.as_ref(),
            history,
            run,
            Some(version),
        );
        // The claim: a second retry of the same failure gets `Conflict`.
        engine.save().await?;
        tracing::debug!(run_id = %engine.run.run_id, "failed run retried");
        engine.drive().await
    })
    .await
}

/// Puts a claimed run (stored `running`: the continue that claimed it died, or was abandoned)
/// back to paused, at a new pause: the calls its batch finished are recorded, the ones it started
/// become interrupted requirements for the host to decide, the ones that waited on the host wait
/// again. A run whose batch was done (it died in a model turn) pauses with no requirements: a
/// continue with none takes it on.
pub(crate) async fn reopen(inner: &Inner, run_id: &str) -> Result<RunOutput> {
    let StoredRun {
        mut run, version, ..
    } = inner.store.load(run_id).await?;
    if run.status != RunStatus::Running {
        return Err(Error::RunNotClaimed {
            run_id: run.run_id,
            status: run.status,
        });
    }
    run.reopen();
    let requirements = std::mem::take(&mut run.requirements);
    bind(&mut run, requirements);
    inner.store.update(&run, version).await?;
    tracing::warn!(
        run_id = %run.run_id,
        interrupted = run.requirements.iter().filter(|r| r.interrupted).count(),
        "claimed run reopened: its pause can be continued again"
    );
    Ok(run)
}

/// Makes these the run's requirements, at a new pause: each is bound to the run and the pause.
/// A pause (or an end) releases the run: its lease goes.
fn bind(run: &mut RunOutput, requirements: Vec<Requirement>) {
    run.bind(requirements, super::id::new_pause_id());
    run.lease = None;
}

fn plan(stored: &Requirement, passed: &Requirement) -> Action {
    let call = &stored.tool_execution;
    match &stored.kind {
        RequirementKind::ExternalExecution => match &passed.tool_execution.result {
            Some(result) => Action::Done(ToolExecution {
                result: Some(result.clone()),
                is_error: passed.tool_execution.is_error,
                ..call.clone()
            }),
            None => Action::Offer(stored.clone()),
        },
        RequirementKind::Confirmation => match &passed.confirmation {
            Some(Confirmation::Rejected { note }) => {
                let mut message = format!(
                    "The user rejected this call of `{}`; it was not run.",
                    call.tool_name
                );
                if let Some(note) = note.as_deref().filter(|n| !n.is_empty()) {
                    message.push_str(" Note: ");
                    message.push_str(note);
                }
                let error = ToolError::with_kind(ToolErrorKind::Rejected, message);
                Action::Done(execution(call.clone(), Err(error)))
            }
            Some(Confirmation::ConfirmedWithArgs { tool_args }) => Action::Run(ToolExecution {
                tool_args: tool_args.clone(),
                model_args: Some(
                    call.model_args
                        .clone()
                        .unwrap_or_else(|| call.tool_args.clone()),
                ),
                ..call.clone()
            }),
            _ => Action::Run(call.clone()),
        },
        RequirementKind::UserInput { .. } => Action::Run(ToolExecution {
            tool_args: supplied_args(stored, passed).unwrap_or_else(|| call.tool_args.clone()),
            ..call.clone()
        }),
    }
}

/// The messages of a session's earlier runs that ended cleanly (a paused or failed run's
/// messages may end with unanswered tool calls, which providers refuse).
fn history_of(runs: Vec<RunOutput>, until: Option<&str>) -> Vec<Message> {
    runs.into_iter()
        .take_while(|r| Some(r.run_id.as_str()) != until)
        .filter(|r| matches!(r.status, RunStatus::Completed | RunStatus::TurnLimitReached))
        .flat_map(|r| r.messages)
        .collect()
}

struct Engine<'a> {
    inner: &'a Inner,
    executor: Option<&'a dyn ToolExecutor>,
    events: Option<&'a EventSender>,
    history: Vec<Message>,
    run: RunOutput,
    /// The stored version; `None` until the run is first stored.
    version: Option<u64>,
    /// The ids of every tool call the conversation has (its history's too): a new call gets an
    /// id none of them has.
    call_ids: HashSet<String>,
}

/// The tool calls of one turn (or of one continue), in call order.
#[derive(Default)]
struct Batch {
    slots: Vec<Slot>,
}

enum Slot {
    /// Finished already (an error the model caused, an external result, a rejection).
    Done(ToolExecution),
    /// The agent runs the tool.
    Run(Arc<dyn Tool>, ToolExecution),
    /// Offered to the executor; pauses the run for the requirement when declined.
    Offer(Requirement),
    /// Pauses the run.
    Pending(Requirement),
}

impl Slot {
    fn is_job(&self) -> bool {
        matches!(self, Slot::Run(..) | Slot::Offer(_))
    }

    /// The slot as stored while its batch is worked through.
    fn in_flight(&self) -> InFlightCall {
        match self {
            Slot::Done(execution) => InFlightCall::Finished {
                execution: execution.clone(),
            },
            Slot::Run(_, call) => InFlightCall::Started {
                execution: call.clone(),
                by_executor: false,
            },
            Slot::Offer(requirement) => InFlightCall::Started {
                execution: requirement.tool_execution.clone(),
                by_executor: true,
            },
            Slot::Pending(requirement) => InFlightCall::Waiting {
                requirement: requirement.clone(),
            },
        }
    }
}

/// Where a slot of a batch stands while its jobs run.
enum Outcome {
    Done(ToolExecution),
    Pending(Requirement),
    /// A job not finished yet; the requirement of an executor's offer, to pause with if declined.
    Running(Option<Requirement>),
}

/// What comes after the calls of a batch are settled.
enum Next {
    Continue,
    Pause(Vec<Requirement>),
    Stop,
}

impl<'a> Engine<'a> {
    fn new(
        inner: &'a Inner,
        executor: Option<&'a dyn ToolExecutor>,
        events: Option<&'a EventSender>,
        history: Vec<Message>,
        run: RunOutput,
        version: Option<u64>,
    ) -> Self {
        let call_ids = history
            .iter()
            .chain(&run.messages)
            .flat_map(|m| match m {
                Message::Assistant { tool_calls, .. } => tool_calls.as_slice(),
                _ => &[],
            })
            .map(|c| c.id.clone())
            .collect();
        Engine {
            inner,
            executor,
            events,
            history,
            run,
            version,
            call_ids,
        }
    }

    fn emit(&self, event: RunEvent) {
        if let Some(events) = self.events {
            // A closed channel means the stream was dropped; the run goes on regardless.
            let _ = events.unbounded_send(Ok(event));
        }
    }

    fn emit_started(&self) {
        if self.events.is_some() {
            self.emit(RunEvent::RunStarted {
                run_id: self.run.run_id.clone(),
                session_id: self.run.session_id.clone(),
            });
        }
    }

    /// The first event of a continue: the run goes on from its pause.
    fn emit_continued(&self) {
        if self.events.is_some() {
            self.emit(RunEvent::RunContinued {
                run_id: self.run.run_id.clone(),
                session_id: self.run.session_id.clone(),
                pause_id: self.run.pause_id.clone(),
            });
        }
    }

    fn emit_call_started(&self, call: &ToolExecution) {
        if self.events.is_some() {
            self.emit(RunEvent::ToolCallStarted {
                tool_call_id: call.tool_call_id.clone(),
                tool_name: call.tool_name.clone(),
                tool_args: call.tool_args.clone(),
            });
        }
    }

    fn emit_completed(&self, execution: &ToolExecution) {
        if self.events.is_some() {
            self.emit(RunEvent::ToolCallCompleted(execution.clone()));
        }
    }

    /// Model turns until the run completes, pauses, fails or hits the turn limit.
    async fn drive(mut self) -> Result<RunOutput> {
        loop {
            if self.run.metrics.turns >= self.inner.max_turns {
                self.run.status = RunStatus::TurnLimitReached;
                return self.finish(false).await;
            }
            let response = match self.model_turn().await {
                Ok(response) => response,
                Err(error) => return self.fail(error).await,
            };
            let ModelResponse {
                content,
                mut tool_calls,
                usage,
            } = response;
            self.run.metrics.turns += 1;
            self.run.metrics.usage += usage;
            unique_call_ids(&mut tool_calls, self.run.metrics.turns, &mut self.call_ids);
            let content = content.filter(|c| !c.is_empty());
            if content.is_some() {
                self.run.content.clone_from(&content);
            }
            let calls = tool_calls.clone();
            self.run
                .messages
                .push(Message::assistant(content, tool_calls));
            if calls.is_empty() {
                self.run.status = RunStatus::Completed;
                return self.finish(false).await;
            }
            let count = u32::try_from(calls.len()).unwrap_or(u32::MAX);
            self.run.metrics.tool_calls = self.run.metrics.tool_calls.saturating_add(count);
            let mut batch = Batch::default();
            for call in calls {
                self.prepare(call, &mut batch);
            }
            match self.settle(batch, false).await? {
                Next::Continue => {}
                Next::Pause(pending) => return self.pause(pending).await,
                Next::Stop => {
                    self.run.status = RunStatus::Completed;
                    return self.finish(true).await;
                }
            }
        }
    }

    /// Settles a continue's batch (its first write claims the pause), then goes on as the
    /// result says.
    async fn settle_and_go(mut self, batch: Batch, claim: bool) -> Result<RunOutput> {
        match self.settle(batch, claim).await? {
            Next::Continue => self.drive().await,
            Next::Pause(pending) => self.pause(pending).await,
            Next::Stop => {
                self.run.status = RunStatus::Completed;
                self.finish(true).await
            }
        }
    }

    async fn model_turn(&self) -> Result<ModelResponse, ModelError> {
        let tools: Vec<&ToolDefinition> = self.inner.tools.iter().map(|t| t.definition()).collect();
        let joined;
        let messages: &[Message] = if self.history.is_empty() {
            &self.run.messages
        } else {
            joined = [self.history.as_slice(), self.run.messages.as_slice()].concat();
            &joined
        };
        let request = ModelRequest {
            instructions: self.inner.instructions.as_deref(),
            messages,
            tools: &tools,
        };
        let model = &self.inner.model;
        if self.events.is_none() {
            return model.invoke(request).await;
        }
        let mut stream = model.invoke_stream(request);
        while let Some(event) = stream.next().await {
            match event? {
                ModelEvent::ContentDelta(delta) => self.emit(RunEvent::ContentDelta(delta)),
                ModelEvent::Completed(response) => return Ok(response),
            }
        }
        Err(ModelError::InvalidResponse {
            provider: model.name().to_owned(),
            message: "the stream ended before the turn was complete".to_owned(),
        })
    }

    /// Sorts one tool call of the model into the batch: an error the model caused, a job, or a
    /// requirement.
    fn prepare(&self, call: ToolCall, batch: &mut Batch) {
        let ToolCall {
            id,
            name,
            arguments,
        } = call;
        let Some(tool) = self.inner.tool(&name) else {
            let error = unknown_tool(self.inner, &name);
            let call = ToolExecution::new(id, name, Value::String(arguments));
            batch.slots.push(Slot::Done(self.failed(call, error)));
            return;
        };
        let args = match parse_args(&arguments) {
            Ok(args) => args,
            Err(error) => {
                let call = ToolExecution::new(id, name, Value::String(arguments));
                batch.slots.push(Slot::Done(self.failed(call, error)));
                return;
            }
        };
        let definition = tool.definition();
        let call = ToolExecution::new(id, name, args);
        let Some(kind) = requirement_kind(definition) else {
            batch.slots.push(Slot::Run(Arc::clone(tool), call));
            return;
        };
        let checked = check_required(definition, &call.tool_args).and_then(|()| match kind {
            // The user supplies some arguments still: the call is checked when it runs.
            RequirementKind::UserInput { .. } => Ok(()),
            _ => tool.check_args(&call.tool_args),
        });
        if let Err(error) = checked {
            batch.slots.push(Slot::Done(self.failed(call, error)));
            return;
        }
        let requirement = Requirement::new(kind, call);
        if self.executor.is_some() && requirement.is_external_tool_execution() {
            batch.slots.push(Slot::Offer(requirement));
        } else {
            batch.slots.push(Slot::Pending(requirement));
        }
    }

    /// A call that failed before it could run; reported to the model.
    fn failed(&self, call: ToolExecution, error: ToolError) -> ToolExecution {
        self.emit_call_started(&call);
        let execution = execution(call, Err(error));
        self.emit_completed(&execution);
        execution
    }

    fn context(&self, tool_call_id: &str) -> ToolContext {
        ToolContext {
            run_id: self.run.run_id.clone(),
            session_id: self.run.session_id.clone(),
            user_id: self.run.user_id.clone(),
            tool_call_id: tool_call_id.to_owned(),
        }
    }

    /// Runs a tool; its panics (while making the future or polling it) become tool errors.
    fn execute(
        &self,
        tool: &Arc<dyn Tool>,
        call: ToolExecution,
    ) -> BoxFuture<'static, ToolExecution> {
        self.emit_call_started(&call);
        let ctx = self.context(&call.tool_call_id);
        let args = call.tool_args.clone();
        let invoked = std::panic::catch_unwind(AssertUnwindSafe(|| tool.invoke(args, ctx)));
        let events = self.events.cloned();
        async move {
            let result = match invoked {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| Err(panic_error(panic))),
                Err(panic) => Err(panic_error(panic)),
            };
            let execution = execution(call, result);
            if let Some(events) = events {
                let _ = events.unbounded_send(Ok(RunEvent::ToolCallCompleted(execution.clone())));
            }
            execution
        }
        .boxed()
    }

    /// Offers an external call to the executor; `None` when it declines.
    fn offer(
        &self,
        executor: &dyn ToolExecutor,
        requirement: &Requirement,
    ) -> BoxFuture<'static, Option<ToolExecution>> {
        let call = requirement.tool_execution.clone();
        self.emit_call_started(&call);
        let offered = std::panic::catch_unwind(AssertUnwindSafe(|| executor.execute(&call)));
        let events = self.events.cloned();
        async move {
            let result = match offered {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| Some(Err(panic_error(panic)))),
                Err(panic) => Some(Err(panic_error(panic))),
            }?;
            let execution = execution(call, result);
            if let Some(events) = events {
                let _ = events.unbounded_send(Ok(RunEvent::ToolCallCompleted(execution.clone())));
            }
            Some(execution)
        }
        .boxed()
    }

    /// Runs the batch's jobs concurrently, records every result in call order, and says what
    /// comes next. Results of a turn are kept when a sibling call pauses the run.
    ///
    /// Once the run is stored, the batch's progress is stored with it: where every call stands
    /// before any job starts (with `claim`, this write claims the pause), each result as it
    /// comes while other jobs still run, and the settled batch before the next model turn. A
    /// batch without jobs is recorded at once (and, with `claim`, stored in the claiming write).
    async fn settle(&mut self, batch: Batch, claim: bool) -> Result<Next> {
        let Batch { slots } = batch;
        let stored = self.version.is_some();
        if !slots.iter().any(Slot::is_job) {
            let outcomes = slots.into_iter().map(|slot| match slot {
                Slot::Done(execution) => Outcome::Done(execution),
                Slot::Pending(requirement) | Slot::Offer(requirement) => {
                    Outcome::Pending(requirement)
                }
                Slot::Run(_, call) => Outcome::Done(call),
            });
            let next = self.conclude(outcomes.collect());
            if claim {
                self.save().await?;
            }
            return Ok(next);
        }
        if stored {
            self.run.in_flight = slots.iter().map(Slot::in_flight).collect();
            self.save().await?;
        }
        let mut outcomes = Vec::with_capacity(slots.len());
        let mut jobs = FuturesUnordered::new();
        for (index, slot) in slots.into_iter().enumerate() {
            outcomes.push(match slot {
                Slot::Done(execution) => Outcome::Done(execution),
                Slot::Pending(requirement) => Outcome::Pending(requirement),
                Slot::Run(tool, call) => {
                    jobs.push(
                        self.execute(&tool, call)
                            .map(move |e| (index, Some(e)))
                            .boxed(),
                    );
                    Outcome::Running(None)
                }
                Slot::Offer(requirement) => match self.executor {
                    Some(executor) => {
                        let job = self.offer(executor, &requirement);
                        jobs.push(job.map(move |e| (index, e)).boxed());
                        Outcome::Running(Some(requirement))
                    }
                    None => Outcome::Pending(requirement),
                },
            });
        }
        while let Some((index, result)) = jobs.next().await {
            let Some(outcome) = outcomes.get_mut(index) else {
                continue;
            };
            let offered = match std::mem::replace(outcome, Outcome::Running(None)) {
                Outcome::Running(offered) => offered,
                other => {
                    *outcome = other;
                    continue;
                }
            };
            let (settled, stored_as) = match (result, offered) {
                (Some(execution), _) => (
                    Outcome::Done(execution.clone()),
                    InFlightCall::Finished { execution },
                ),
                (None, Some(requirement)) => (
                    Outcome::Pending(requirement.clone()),
                    InFlightCall::Waiting { requirement },
                ),
                // Only an offer can be declined; nothing to record otherwise.
                (None, None) => continue,
            };
            *outcome = settled;
            if stored && !jobs.is_empty() {
                if let Some(slot) = self.run.in_flight.get_mut(index) {
                    *slot = stored_as;
                }
                self.save().await?;
            }
        }
        self.run.in_flight.clear();
        let next = self.conclude(outcomes);
        if stored && matches!(next, Next::Continue) {
            self.save().await?;
        }
        Ok(next)
    }

    /// Records the settled calls of a batch in call order; what comes next.
    fn conclude(&mut self, outcomes: Vec<Outcome>) -> Next {
        let mut pending = Vec::new();
        let mut stop = false;
        for outcome in outcomes {
            match outcome {
                Outcome::Done(execution) => stop |= self.record(execution),
                Outcome::Pending(requirement) => pending.push(requirement),
                Outcome::Running(offered) => pending.extend(offered),
            }
        }
        if !pending.is_empty() {
            Next::Pause(pending)
        } else if stop {
            Next::Stop
        } else {
            Next::Continue
        }
    }

    /// Adds a finished call to the conversation; `true` when its tool stops the run.
    fn record(&mut self, execution: ToolExecution) -> bool {
        let stop = !execution.is_error
            && self
                .inner
                .tool(&execution.tool_name)
                .is_some_and(|t| t.definition().stop_after_tool_call);
        self.run.record_execution(execution);
        stop
    }

    async fn save(&mut self) -> Result<()> {
        let store = &self.inner.store;
        self.version = Some(match self.version {
            None => store.create(&self.run).await?,
            Some(version) => store.update(&self.run, version).await?,
        });
        Ok(())
    }

    /// Stores the run where it stands and hands it to the host; a failed write gives the run
    /// too ([`Error::NotStored`]).
    async fn store_and_hand_over(mut self) -> Result<RunOutput> {
        match self.save().await {
            Ok(()) => Ok(self.run),
            Err(source) => Err(Error::NotStored {
                run: Box::new(self.run),
                source: Box::new(source),
            }),
        }
    }

    /// Stores the pause (bound to a new pause token), then hands it to the host.
    async fn pause(mut self, pending: Vec<Requirement>) -> Result<RunOutput> {
        self.run.status = RunStatus::Paused;
        bind(&mut self.run, pending);
        tracing::debug!(
            run_id = %self.run.run_id,
            requirements = self.run.requirements.len(),
            "run paused"
        );
        self.store_and_hand_over().await
    }

    /// Stores the ended run. Its content: when a tool stopped it, the results of its
    /// `show_result` tools (or the model's text when there are none); otherwise the model's last
    /// text, after the results of `show_result` tools.
    async fn finish(mut self, stopped: bool) -> Result<RunOutput> {
        self.run.requirements.clear();
        self.run.lease = None;
        let shown: Vec<&str> = self
            .run
            .tool_executions
            .iter()
            .filter(|e| {
                !e.is_error
                    && self
                        .inner
                        .tool(&e.tool_name)
                        .is_some_and(|t| t.definition().show_result)
            })
            .filter_map(|e| e.result.as_deref())
            .collect();
        if !shown.is_empty() {
            let mut content = shown.join("\n");
            if !stopped && let Some(text) = &self.run.content {
                content.push_str("\n\n");
                content.push_str(text);
            }
            self.run.content = Some(content);
        }
        tracing::debug!(run_id = %self.run.run_id, status = %self.run.status, "run ended");
        self.store_and_hand_over().await
    }

    /// Stores the run as failed and gives the model's error.
    async fn fail(mut self, error: ModelError) -> Result<RunOutput> {
        self.run.status = RunStatus::Failed;
        self.run.error = Some(error.to_string());
        self.run.requirements.clear();
        self.run.lease = None;
        if let Err(store_error) = self.save().await {
            tracing::warn!(
                run_id = %self.run.run_id,
                error = %store_error,
                "could not store the failed run"
            );
        }
        Err(Error::Model(error))
    }
}

fn execution(call: ToolExecution, result: ToolResult) -> ToolExecution {
    let (content, is_error) = match result {
        Ok(content) => (content, false),
        Err(error) => (error.message().to_owned(), true),
    };
    ToolExecution {
        result: Some(content),
        is_error,
        ..call
    }
}

fn unknown_tool(inner: &Inner, name: &str) -> ToolError {
    let names: Vec<&str> = inner
        .tools
        .iter()
        .map(|t| t.definition().name.as_ref())
        .collect();
    let available = if names.is_empty() {
        "there are no tools".to_owned()
    } else {
        format!("the tools are `{}`", names.join("`, `"))
    };
    ToolError::with_kind(
        ToolErrorKind::UnknownTool,
        format!("unknown tool `{name}`; {available}"),
    )
}

/// The arguments as a JSON object; empty text counts as no arguments.
fn parse_args(raw: &str) -> Result<Value, ToolError> {
    if raw.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(args @ Value::Object(_)) => Ok(args),
        Ok(other) => Err(ToolError::invalid_arguments(format_args!(
            "expected a JSON object, got {}",
            json_type(&other)
        ))),
        Err(error) => Err(ToolError::invalid_arguments(format_args!(
            "not valid JSON ({error})"
        ))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The requirement a call of this tool becomes; `None` for an internal tool.
fn requirement_kind(definition: &ToolDefinition) -> Option<RequirementKind> {
    Some(match &definition.mode {
        ExecutionMode::Internal => return None,
        ExecutionMode::External => RequirementKind::ExternalExecution,
        ExecutionMode::RequiresConfirmation => RequirementKind::Confirmation,
        ExecutionMode::RequiresUserInput { fields } => {
            let properties = definition
                .parameters
                .get("properties")
                .and_then(Value::as_object);
            let names: Vec<String> = if fields.is_empty() {
                properties
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default()
            } else {
                fields.clone()
            };
            RequirementKind::UserInput {
                fields: names
                    .into_iter()
                    .map(|name| UserInputField {
                        description: properties
                            .and_then(|p| p.get(&name))
                            .and_then(|p| p.get("description"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        name,
                        value: None,
                    })
                    .collect(),
            }
        }
    })
}

/// The required arguments of a paused call must be there (the ones the user will supply aside):
/// the host gets arguments it can use, and the model hears about a missing one at once.
fn check_required(definition: &ToolDefinition, args: &Value) -> Result<(), ToolError> {
    match &definition.mode {
        ExecutionMode::RequiresUserInput { fields } if fields.is_empty() => Ok(()),
        ExecutionMode::RequiresUserInput { fields } => missing_required(definition, args, fields),
        _ => missing_required(definition, args, &[]),
    }
}

/// Gives the calls of a turn ids that are non-empty and unique within the conversation (`seen`
/// holds its ids so far, and gets these): requirements are matched by id. The model's ids are
/// kept where they are new; a call whose id is empty or taken becomes `call_<turn>_<index>`, or,
/// if that is taken too, the next free `call_<turn>_<n>` past the turn's calls. Linear in the
/// calls and the ids seen.
fn unique_call_ids(calls: &mut [ToolCall], turn: u32, seen: &mut HashSet<String>) {
    let kept: Vec<bool> = calls
        .iter()
        .map(|call| !call.id.is_empty() && seen.insert(call.id.clone()))
        .collect();
    let mut next = calls.len();
    for (index, call) in calls.iter_mut().enumerate() {
        if kept[index] {
            continue;
        }
        let mut id = format!("call_{turn}_{index}");
        while seen.contains(&id) {
            id = format!("call_{turn}_{next}");
            next += 1;
        }
        seen.insert(id.clone());
        call.id = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(calls: &[ToolCall]) -> Vec<&str> {
        calls.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn repeated_and_empty_ids_are_replaced_and_the_rest_kept() {
        let mut seen = HashSet::new();
        let mut calls = vec![
            ToolCall::new("a", "t", "{}"),
            ToolCall::new("", "t", "{}"),
            ToolCall::new("a", "t", "{}"),
        ];
        unique_call_ids(&mut calls, 1, &mut seen);
        assert_eq!(ids(&calls), ["a", "call_1_1", "call_1_2"]);
        // A later turn reusing ids of an earlier one gets fresh ones too.
        let mut later = vec![
            ToolCall::new("a", "t", "{}"),
            ToolCall::new("call_1_1", "t", "{}"),
        ];
        unique_call_ids(&mut later, 2, &mut seen);
        assert_eq!(ids(&later), ["call_2_0", "call_2_1"]);
    }

    #[test]
    fn a_replacement_skips_ids_the_model_took() {
        let mut seen = HashSet::new();
        let mut calls = vec![
            ToolCall::new("call_1_1", "t", "{}"),
            ToolCall::new("call_1_1", "t", "{}"),
            ToolCall::new("call_1_3", "t", "{}"),
        ];
        unique_call_ids(&mut calls, 1, &mut seen);
        let got = ids(&calls);
        assert_eq!(got[0], "call_1_1");
        assert_eq!(got[2], "call_1_3");
        assert!(!["call_1_1", "call_1_3"].contains(&got[1]), "{got:?}");
    }

    #[test]
    fn thirty_thousand_calls_of_one_id_get_distinct_ids() {
        let mut seen = HashSet::new();
        let mut calls: Vec<ToolCall> = (0..30_000)
            .map(|i| {
                // Every call repeats one id, and some take the names replacements would get.
                let id = if i % 7 == 0 {
                    format!("call_1_{}", i + 1)
                } else {
                    "x".to_owned()
                };
                ToolCall::new(id, "t", "{}")
            })
            .collect();
        unique_call_ids(&mut calls, 1, &mut seen);
        let distinct: HashSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(distinct.len(), calls.len());
        assert!(calls.iter().all(|c| !c.id.is_empty()));
        assert_eq!(seen.len(), calls.len());
    }
}
