//! The agent: a model, tools and a store, and the loop that runs them, pausing on the tool calls
//! the host must handle.
//!
//! ```
//! use kern_core::{Agent, TestModel};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
//! let agent = Agent::builder().model(TestModel::new()).build()?;
//! let run = agent.run("Hello").await?;
//! assert!(run.is_finished());
//! # Ok(()) }
//! ```

mod engine;
mod event;
mod executor;
mod fleet;
pub(crate) mod id;
mod validate;

use std::fmt;
use std::sync::Arc;

pub use event::{RunEvent, RunStream};
pub use executor::ToolExecutor;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::requirement::Requirement;
use crate::run::RunOutput;
use crate::store::{MemoryStore, RunStore};
use crate::tool::{IntoTools, Tool};

/// The limit on model turns of a run when the builder sets none.
pub const DEFAULT_MAX_TURNS: u32 = 25;

/// An agent: a model, its tools, instructions and a run store.
///
/// Cloning is one reference count: clones share everything. An `Agent` is `Send + Sync`, and any
/// number of runs may go at once, on any tasks.
///
/// # Run, pause, continue
///
/// ```
/// # extern crate kern_core as kern;
/// # use kern_macros::tool;
/// use kern_core::{Agent, RunStatus, TestModel, ToolError};
///
/// /// Deploy a service.
/// ///
/// /// # Arguments
/// /// * `service` - The service to deploy
/// #[tool(external_execution)]
/// fn deploy(service: String) -> Result<String, ToolError> {
///     Ok(format!("{service} deployed"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
/// let agent = Agent::builder()
///     // Offline: TestModel calls the tool, then answers with its result.
///     .model(TestModel::new().with_args("deploy", serde_json::json!({"service": "api"})))
///     .tool(deploy)
///     .build()?;
///
/// let mut run = agent.run("Deploy the api").await?;
/// while run.is_paused() {
///     for req in run.active_requirements_mut() {
///         // The agent never runs an external tool: the host does, and sets the result.
///         let service = req.tool_execution.tool_args["service"].as_str().unwrap_or("?");
///         let result = format!("{service} deployed at v42");
///         req.set_external_execution_result(result);
///     }
///     run = agent.continue_run(&run.run_id, &run.requirements).await?;
/// }
/// assert_eq!(run.status, RunStatus::Completed);
/// assert!(run.content.unwrap().contains("api deployed at v42"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Agent {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) model: Box<dyn Model>,
    pub(crate) tools: Vec<Arc<dyn Tool>>,
    pub(crate) instructions: Option<String>,
    pub(crate) store: Box<dyn RunStore>,
    pub(crate) max_turns: u32,
    pub(crate) executor: Option<Arc<dyn ToolExecutor>>,
}

impl Inner {
    pub(crate) fn tool(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.definition().name == name)
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("model", &self.inner.model.name())
            .field(
                "tools",
                &self
                    .inner
                    .tools
                    .iter()
                    .map(|t| t.definition().name.as_ref())
                    .collect::<Vec<_>>(),
            )
            .field("max_turns", &self.inner.max_turns)
            .field("executor", &self.inner.executor.is_some())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// A builder; [`AgentBuilder::model`] is the one required setting.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// Starts a run and drives it until it completes, pauses (on a tool call the host must
    /// handle), or hits the turn limit. A paused run is in the store before this returns.
    ///
    /// Errors the model causes (unknown tools, bad arguments, failing or panicking tools) go back
    /// to the model and the run goes on. A failing model gives [`Error::Model`] (the run is
    /// stored as failed, with the results its tools had: [`retry_run`](Self::retry_run) takes it
    /// up again); a store that cannot keep the pause or the end gives [`Error::NotStored`], with
    /// the run.
    pub async fn run(&self, input: impl Into<RunInput>) -> Result<RunOutput> {
        engine::start(
            &self.inner,
            input.into(),
            self.inner.executor.as_deref(),
            None,
        )
        .await
    }

    /// Continues a paused run with its requirements resolved (see
    /// [`Requirement::set_external_execution_result`], [`Requirement::confirm`],
    /// [`Requirement::approve_with_args`], [`Requirement::reject`],
    /// [`Requirement::set_user_input`]).
    ///
    /// The requirements are taken by reference (`&run.requirements`; a `Vec` or a slice): a
    /// refused continue leaves them with the host, to fix and pass again.
    ///
    /// Everything is checked before anything changes: the run exists and is paused; every
    /// requirement is bound to this run and this pause ([`Error::StaleRequirement`] for one of
    /// another run or an earlier pause, even with the same tool call id); none is missing or
    /// passed twice; each is resolved in a way its kind allows, with the call's `tool_args`
    /// unchanged; user input and the arguments of `approve_with_args` fit the tool
    /// ([`Error::InvalidToolArgs`]). A failed check is a typed [`Error`] and leaves the stored run
    /// as it was. Then the pause is claimed in the store (a second or racing continue of the same
    /// pause gets [`Error::Conflict`]), the resolutions are applied and the loop goes on; it may
    /// pause again.
    ///
    /// # What is guaranteed
    ///
    /// - **Claimed once.** A pause is claimed by exactly one continue (a compare-and-set in the
    ///   store), also when processes race; only the claiming continue runs the pause's calls.
    /// - **Stored as it happens.** Before any tool of a batch starts, the store holds where every
    ///   call of the batch stands (started, finished, waiting); each result is stored as it comes
    ///   while others still run, and the settled batch is stored before the next model turn.
    /// - **A finished call never runs again.** Recovery ([`reopen_run`](Self::reopen_run)) reuses
    ///   every stored result. Calls whose results the host gave, rejections, and calls whose
    ///   result is stored are exactly-once.
    /// - **At most once, and surfaced.** A call that was started and whose result is not stored
    ///   (the process was killed inside the tool body, or before its result was written) may have
    ///   run in part or whole; it is never run again on its own: recovery hands it to the host as
    ///   a requirement with [`Requirement::interrupted`] set, to confirm (run again), reject or,
    ///   for an external call, answer with its result.
    /// - **Not stranded by a dropped future.** On a tokio runtime, the claimed work runs on a
    ///   task of its own: when the future of this call is dropped (a timeout, a client that went
    ///   away), the work goes on to the next pause or the end and stores the run there. Outside a
    ///   tokio runtime it runs in the caller's future, and a dropped future leaves the run
    ///   claimed, for [`reopen_run`](Self::reopen_run); so does a runtime that shuts down
    ///   before the work ends (as a crash would).
    /// - **Nothing lost on a failed write.** A pause or end that cannot be stored gives
    ///   [`Error::NotStored`], which carries the run.
    /// - **A failed model turn can be retried.** The run is stored as failed with the tool
    ///   results it has; [`retry_run`](Self::retry_run) asks the model again, no tool runs again.
    pub async fn continue_run(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
    ) -> Result<RunOutput> {
        engine::resume(
            Arc::clone(&self.inner),
            run_id,
            requirements.as_ref(),
            self.inner.executor.clone(),
            None,
        )
        .await
    }

    /// [`continue_run`](Self::continue_run) with an executor that resolves the external calls of
    /// the rest of the run (in place of the agent's own executor, if it has one). An external
    /// requirement passed back unresolved is offered to it too; the run pauses again only for
    /// what it declines.
    ///
    /// ```
    /// # extern crate kern_core as kern;
    /// # use kern_macros::tool;
    /// use kern_core::{Agent, TestModel, ToolError, ToolExecution};
    ///
    /// /// The time where the host is.
    /// #[tool(external_execution)]
    /// fn local_time() -> Result<String, ToolError> {
    ///     unreachable!("the host runs it")
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
    /// let agent = Agent::builder().model(TestModel::new()).tool(local_time).build()?;
    /// let run = agent.run("What time is it?").await?;
    /// assert!(run.is_paused());
    ///
    /// // Passed back unresolved, the call goes to the executor, and so do later ones.
    /// let executor = |call: &ToolExecution| {
    ///     let ours = call.tool_name == "local_time";
    ///     async move { ours.then(|| Ok("12:00".to_owned())) }
    /// };
    /// let run = agent.continue_run_with(&run.run_id, &run.requirements, executor).await?;
    /// assert!(run.is_finished());
    /// assert!(run.content.unwrap().contains("12:00"));
    /// # Ok(()) }
    /// ```
    pub async fn continue_run_with(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
        executor: impl ToolExecutor,
    ) -> Result<RunOutput> {
        let executor: Arc<dyn ToolExecutor> = Arc::new(executor);
        engine::resume(
            Arc::clone(&self.inner),
            run_id,
            requirements.as_ref(),
            Some(executor),
            None,
        )
        .await
    }

    /// Takes up a run whose model failed ([`RunStatus::Failed`](crate::RunStatus::Failed)): the
    /// failed model turn is tried again, with every tool result the run has; no tool runs again.
    /// It goes on like a continue (it may pause, fail again or complete), with the same
    /// guarantees.
    ///
    /// [`Error::RunNotFound`] for an unknown run, [`Error::RunNotFailed`] for a run that has not
    /// failed (it is left as it is), [`Error::Conflict`] when another retry took it first.
    pub async fn retry_run(&self, run_id: &str) -> Result<RunOutput> {
        engine::retry(
            Arc::clone(&self.inner),
            run_id,
            self.inner.executor.clone(),
            None,
        )
        .await
    }

    /// Recovers a run that a continue (or a retry) claimed and never finished: the process that
    /// worked on it died, or its work was stopped (the run is stored with status `running`; see
    /// [`continue_run`](Self::continue_run)). The run is paused again, at a new pause (the
    /// requirements of earlier pauses are refused from now on), built from what the store holds:
    ///
    /// - calls whose results are stored are recorded and never run again;
    /// - calls that were started and whose outcome is unknown become requirements with
    ///   [`Requirement::interrupted`] set: a confirmation for a call the agent runs, an external
    ///   execution for one an executor took; the host decides whether to run them again;
    /// - calls that waited on the host wait again;
    /// - a run that was in a model turn (its tools all settled) pauses with no requirements:
    ///   continuing it with none asks the model again.
    ///
    /// Only the host knows that the other process is gone; if it is still working, its next
    /// store write fails with [`Error::Conflict`] and it stops.
    ///
    /// [`Error::RunNotFound`] for an unknown run, [`Error::RunNotClaimed`] for a run that is not
    /// claimed (it is then left as it is), [`Error::Conflict`] when the run changed meanwhile.
    pub async fn reopen_run(&self, run_id: &str) -> Result<RunOutput> {
        engine::reopen(&self.inner, run_id).await
    }

    /// [`run`](Self::run), as a stream of [`RunEvent`]s ending with
    /// [`RunEvent::Paused`] or [`RunEvent::Completed`] (or an error). The model is asked through
    /// [`Model::invoke_stream`], so content arrives in pieces.
    pub fn run_stream(&self, input: impl Into<RunInput>) -> RunStream {
        let agent = self.clone();
        let input = input.into();
        RunStream::new(move |events| async move {
            let executor = agent.inner.executor.clone();
            engine::start(&agent.inner, input, executor.as_deref(), Some(&events)).await
        })
    }

    /// [`continue_run`](Self::continue_run), as a stream of [`RunEvent`]s, with the same checks
    /// and guarantees: once the pause is claimed, dropping the stream does not stop the work (on
    /// a tokio runtime), it goes on and is stored; the events are then not delivered.
    pub fn continue_run_stream(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
    ) -> RunStream {
        let inner = Arc::clone(&self.inner);
        let run_id = run_id.to_owned();
        let requirements = requirements.as_ref().to_vec();
        RunStream::new(move |events| async move {
            let executor = inner.executor.clone();
            engine::resume(inner, &run_id, &requirements, executor, Some(events)).await
        })
    }

    /// The agent's run store.
    pub fn store(&self) -> &dyn RunStore {
        &*self.inner.store
    }

    /// The agent's tools, in the order they were added.
    pub fn tools(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.inner.tools.iter()
    }
}

/// Builds an [`Agent`].
#[derive(Default)]
#[must_use]
pub struct AgentBuilder {
    model: Option<Box<dyn Model>>,
    tools: Vec<Arc<dyn Tool>>,
    error: Option<Error>,
    instructions: Option<String>,
    store: Option<Box<dyn RunStore>>,
    max_turns: Option<u32>,
    executor: Option<Arc<dyn ToolExecutor>>,
}

impl fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("model", &self.model.as_ref().map(|m| m.name().to_owned()))
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    /// The model (required).
    pub fn model(mut self, model: impl Model) -> Self {
        self.model = Some(Box::new(model));
        self
    }

    /// Adds a tool, or every tool of a toolkit.
    pub fn tool(mut self, tools: impl IntoTools) -> Self {
        if let Err(error) = tools.into_tools(&mut self.tools) {
            self.error.get_or_insert(error);
        }
        self
    }

    /// Instructions for the model (its system prompt).
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Where runs are kept ([`MemoryStore`] by default). Agents that share a store can continue
    /// each other's runs.
    pub fn store(mut self, store: impl RunStore) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// The most model turns a run may take ([`DEFAULT_MAX_TURNS`] by default); a run that needs
    /// more ends with [`RunStatus::TurnLimitReached`](crate::RunStatus::TurnLimitReached).
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.max_turns = Some(max_turns);
        self
    }

    /// An executor that resolves the external tool calls of every run automatically: a run pauses
    /// only for the calls it declines (and for confirmations and user input).
    pub fn executor(mut self, executor: impl ToolExecutor) -> Self {
        self.executor = Some(Arc::new(executor));
        self
    }

    /// The agent. [`Error::Config`] when there is no model, two tools share a name, a tool's name
    /// is not `^[a-zA-Z0-9_-]{1,64}$`, or a toolkit could not add its tools.
    pub fn build(self) -> Result<Agent> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let model = self
            .model
            .ok_or_else(|| Error::Config("the agent has no model: call `.model(..)`".into()))?;
        for (i, tool) in self.tools.iter().enumerate() {
            let name = &tool.definition().name;
            if name.is_empty()
                || name.len() > 64
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(Error::Config(format!(
                    "tool name `{name}` is not valid: it must match ^[a-zA-Z0-9_-]{{1,64}}$"
                )));
            }
            if self.tools[..i].iter().any(|t| t.definition().name == *name) {
                return Err(Error::Config(format!("two tools are named `{name}`")));
            }
            // A strict tool whose schema strict mode cannot express would be refused by the
            // provider (or mishandled): refused here, naming the parameter.
            if tool.definition().strict
                && let Some(problem) =
                    crate::schema::strict_violations(&tool.definition().parameters).first()
            {
                return Err(Error::Config(format!(
                    "tool `{name}` is strict, but {problem}; remove `strict` or change the type"
                )));
            }
        }
        Ok(Agent {
            inner: Arc::new(Inner {
                model,
                tools: self.tools,
                instructions: self.instructions,
                store: self.store.unwrap_or_else(|| Box::new(MemoryStore::new())),
                max_turns: self.max_turns.unwrap_or(DEFAULT_MAX_TURNS),
                executor: self.executor,
            }),
        })
    }

    /// The agent, behind the blocking facade ([`crate::blocking::Agent`]).
    pub fn build_blocking(self) -> Result<crate::blocking::Agent> {
        crate::blocking::Agent::new(self.build()?)
    }
}

/// What a run starts from: the user's text, and optionally the session and user it belongs to.
///
/// `&str` and `String` convert into it; runs of one session see the earlier runs' messages as
/// history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RunInput {
    /// The user's message.
    pub text: String,
    /// The session; a fresh one when `None`.
    pub session_id: Option<String>,
    /// The user.
    pub user_id: Option<String>,
}

impl RunInput {
    /// An input with this text, in a fresh session.
    pub fn new(text: impl Into<String>) -> Self {
        RunInput {
            text: text.into(),
            session_id: None,
            user_id: None,
        }
    }

    /// Puts the run in this session: it sees the messages of the session's earlier runs that
    /// completed or hit the turn limit (a paused or failed run may end with unanswered tool
    /// calls, which providers refuse).
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Names the user.
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        RunInput::new(text)
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        RunInput::new(text)
    }
}

impl From<&String> for RunInput {
    fn from(text: &String) -> Self {
        RunInput::new(text.as_str())
    }
}
