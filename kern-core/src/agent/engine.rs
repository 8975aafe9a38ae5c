//! The loop: model turn → tool calls split by execution mode → internal ones run concurrently,
//! the others become requirements → pause (stored) or go on; and the continue of a pause.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt, join_all};
use serde_json::{Map, Value};

use super::event::{EventSender, RunEvent};
use super::executor::ToolExecutor;
use super::validate::validate;
use super::{Inner, RunInput};
use crate::error::{Error, Result};
use crate::message::{Message, ToolCall};
use crate::model::{ModelError, ModelEvent, ModelRequest, ModelResponse};
use crate::requirement::{
    Confirmation, Requirement, RequirementKind, ToolExecution, UserInputField,
};
use crate::run::{Metrics, RunOutput, RunStatus, SCHEMA_VERSION};
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
        None => (super::id::new_id("session"), Vec::new()),
    };
    let run = RunOutput {
        schema_version: SCHEMA_VERSION,
        run_id: super::id::new_id("run"),
        session_id,
        user_id: input.user_id,
        status: RunStatus::Running,
        content: None,
        messages: vec![Message::user(input.text)],
        tool_executions: Vec::new(),
        requirements: Vec::new(),
        metrics: Metrics::default(),
        error: None,
    };
    let engine = Engine {
        inner,
        executor,
        events,
        history,
        run,
        version: None,
    };
    engine.emit_started();
    engine.drive().await
}

/// What the host's answer to one requirement asks the agent to do.
enum Action {
    /// The call has its result (external execution, rejection).
    Done(ToolExecution),
    /// Run the tool with these (stored, possibly completed) arguments.
    Run(ToolExecution),
    /// Offer the call to the executor; pause again for it if declined.
    Offer(Requirement),
}

/// Continues a paused run: load, validate everything, claim the pause, apply, loop.
pub(crate) async fn resume(
    inner: &Inner,
    run_id: &str,
    requirements: Vec<Requirement>,
    executor: Option<&dyn ToolExecutor>,
    events: Option<&EventSender>,
) -> Result<RunOutput> {
    let StoredRun { mut run, version } = inner.store.load(run_id).await?;
    let actions: Vec<Action> = validate(&run, &requirements, executor.is_some())?
        .into_iter()
        .map(|(stored, passed)| plan(stored, passed))
        .collect();
    drop(requirements);

    // Claim the pause: only one continue gets past this compare-and-set.
    run.status = RunStatus::Running;
    let version = inner.store.update(&run, version).await?;

    let runs = inner.store.session_runs(&run.session_id).await?;
    let history = history_of(runs, Some(&run.run_id));
    let engine = Engine {
        inner,
        executor,
        events,
        history,
        run,
        version: Some(version),
    };
    engine.emit_started();
    let mut batch = Batch::default();
    for action in actions {
        match action {
            Action::Done(execution) => {
                engine.emit_completed(&execution);
                batch.done(execution);
            }
            Action::Run(call) => match inner.tool(&call.tool_name) {
                Some(tool) => {
                    let job = engine.execute(tool, call).map(Some).boxed();
                    batch.job(job, None);
                }
                None => {
                    let error = unknown_tool(inner, &call.tool_name);
                    batch.done(engine.failed(
                        call.tool_call_id,
                        call.tool_name,
                        call.tool_args,
                        error,
                    ));
                }
            },
            Action::Offer(requirement) => match executor {
                Some(executor) => {
                    let job = engine.offer(executor, &requirement);
                    batch.job(job, Some(requirement));
                }
                None => batch.pending(requirement),
            },
        }
    }
    engine.settle_and_go(batch).await
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
            _ => Action::Run(call.clone()),
        },
        RequirementKind::UserInput { .. } => {
            let mut call = call.clone();
            if !call.tool_args.is_object() {
                call.tool_args = Value::Object(Map::new());
            }
            if let Value::Object(args) = &mut call.tool_args {
                for field in passed.user_input_fields() {
                    if let Some(value) = &field.value {
                        args.insert(field.name.clone(), value.clone());
                    }
                }
            }
            Action::Run(call)
        }
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
}

/// The tool calls of one turn (or of one continue), in call order.
#[derive(Default)]
struct Batch {
    slots: Vec<Slot>,
    jobs: Vec<BoxFuture<'static, Option<ToolExecution>>>,
}

enum Slot {
    /// Finished already (an error the model caused, an external result, a rejection).
    Done(ToolExecution),
    /// A job; `Some(requirement)` for an executor offer, to pause with when declined.
    Job(usize, Option<Requirement>),
    /// Pauses the run.
    Pending(Requirement),
}

impl Batch {
    fn done(&mut self, execution: ToolExecution) {
        self.slots.push(Slot::Done(execution));
    }
    fn job(
        &mut self,
        job: BoxFuture<'static, Option<ToolExecution>>,
        declined: Option<Requirement>,
    ) {
        self.slots.push(Slot::Job(self.jobs.len(), declined));
        self.jobs.push(job);
    }
    fn pending(&mut self, requirement: Requirement) {
        self.slots.push(Slot::Pending(requirement));
    }
}

/// What comes after the calls of a batch are settled.
enum Next {
    Continue,
    Pause(Vec<Requirement>),
    Stop,
}

impl Engine<'_> {
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
            unique_call_ids(&mut tool_calls, self.run.metrics.turns);
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
            match self.settle(batch).await {
                Next::Continue => {}
                Next::Pause(pending) => return self.pause(pending).await,
                Next::Stop => {
                    self.run.status = RunStatus::Completed;
                    return self.finish(true).await;
                }
            }
        }
    }

    /// Settles a continue's batch, then goes on as the result says.
    async fn settle_and_go(mut self, batch: Batch) -> Result<RunOutput> {
        match self.settle(batch).await {
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
            batch.done(self.failed(id, name, Value::String(arguments), error));
            return;
        };
        let args = match parse_args(&arguments) {
            Ok(args) => args,
            Err(error) => {
                batch.done(self.failed(id, name, Value::String(arguments), error));
                return;
            }
        };
        let definition = tool.definition();
        let call = ToolExecution {
            tool_call_id: id,
            tool_name: name,
            tool_args: args,
            result: None,
            is_error: false,
        };
        let Some(kind) = requirement_kind(definition) else {
            let job = self.execute(tool, call).map(Some).boxed();
            batch.job(job, None);
            return;
        };
        let checked = check_required(definition, &call.tool_args).and_then(|()| match kind {
            // The user supplies some arguments still: the call is checked when it runs.
            RequirementKind::UserInput { .. } => Ok(()),
            _ => tool.check_args(&call.tool_args),
        });
        if let Err(error) = checked {
            let ToolExecution {
                tool_call_id,
                tool_name,
                tool_args,
                ..
            } = call;
            batch.done(self.failed(tool_call_id, tool_name, tool_args, error));
            return;
        }
        let requirement = Requirement::new(kind, call);
        match self.executor {
            Some(executor) if requirement.is_external_tool_execution() => {
                let job = self.offer(executor, &requirement);
                batch.job(job, Some(requirement));
            }
            _ => batch.pending(requirement),
        }
    }

    /// A call that failed before it could run; reported to the model.
    fn failed(&self, id: String, name: String, args: Value, error: ToolError) -> ToolExecution {
        let call = ToolExecution {
            tool_call_id: id,
            tool_name: name,
            tool_args: args,
            result: None,
            is_error: false,
        };
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
    async fn settle(&mut self, batch: Batch) -> Next {
        let Batch { slots, jobs } = batch;
        let mut results: Vec<Option<ToolExecution>> = join_all(jobs).await;
        let mut pending = Vec::new();
        let mut stop = false;
        for slot in slots {
            match slot {
                Slot::Done(execution) => stop |= self.record(execution),
                Slot::Job(index, declined) => match results.get_mut(index).and_then(Option::take) {
                    Some(execution) => stop |= self.record(execution),
                    None => pending.extend(declined),
                },
                Slot::Pending(requirement) => pending.push(requirement),
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
        self.run.messages.push(Message::Tool {
            tool_call_id: execution.tool_call_id.clone(),
            tool_name: execution.tool_name.clone(),
            content: execution.result.clone().unwrap_or_default(),
            is_error: execution.is_error,
        });
        let stop = !execution.is_error
            && self
                .inner
                .tool(&execution.tool_name)
                .is_some_and(|t| t.definition().stop_after_tool_call);
        self.run.tool_executions.push(execution);
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

    /// Stores the pause, then hands it to the host.
    async fn pause(mut self, pending: Vec<Requirement>) -> Result<RunOutput> {
        self.run.status = RunStatus::Paused;
        self.run.requirements = pending;
        self.save().await?;
        tracing::debug!(
            run_id = %self.run.run_id,
            requirements = self.run.requirements.len(),
            "run paused"
        );
        Ok(self.run)
    }

    /// Stores the ended run. Its content: when a tool stopped it, the results of its
    /// `show_result` tools (or the model's text when there are none); otherwise the model's last
    /// text, after the results of `show_result` tools.
    async fn finish(mut self, stopped: bool) -> Result<RunOutput> {
        self.run.requirements.clear();
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
        self.save().await?;
        tracing::debug!(run_id = %self.run.run_id, status = %self.run.status, "run ended");
        Ok(self.run)
    }

    /// Stores the run as failed and gives the model's error.
    async fn fail(mut self, error: ModelError) -> Result<RunOutput> {
        self.run.status = RunStatus::Failed;
        self.run.error = Some(error.to_string());
        self.run.requirements.clear();
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
    let Some(required) = definition
        .parameters
        .get("required")
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    let user_fields: &[String] = match &definition.mode {
        ExecutionMode::RequiresUserInput { fields } if fields.is_empty() => return Ok(()),
        ExecutionMode::RequiresUserInput { fields } => fields,
        _ => &[],
    };
    let missing: Vec<&str> = required
        .iter()
        .filter_map(Value::as_str)
        .filter(|name| !user_fields.iter().any(|f| f == name))
        .filter(|name| args.get(name).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ToolError::invalid_arguments(format_args!(
            "missing required argument `{}`",
            missing.join("`, `")
        )))
    }
}

/// Gives calls of one turn distinct, non-empty ids (requirements are matched by id).
fn unique_call_ids(calls: &mut [ToolCall], turn: u32) {
    for i in 0..calls.len() {
        let (before, rest) = calls.split_at_mut(i);
        let call = &mut rest[0];
        if call.id.is_empty() || before.iter().any(|c| c.id == call.id) {
            let mut n = i;
            loop {
                let id = format!("call_{turn}_{n}");
                if !before.iter().any(|c| c.id == id) {
                    call.id = id;
                    break;
                }
                n += 1;
            }
        }
    }
}
