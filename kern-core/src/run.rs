//! A run: its status, its conversation, its tool executions and its requirements, as plain serde
//! data. A paused [`RunOutput`] serialized to JSON is all another process needs to continue it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::model::Usage;
use crate::requirement::{Requirement, RequirementKind, ToolExecution};
use crate::store::Lease;

/// A tool call of the batch the agent is working through, as stored while it works: what a
/// recovery ([`Agent::reopen_run`](crate::Agent::reopen_run)) needs to know so that no finished
/// call runs again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InFlightCall {
    /// The call has its result (it ran, the host gave it, or it failed before it could run).
    Finished {
        /// The call, with its result.
        execution: ToolExecution,
    },
    /// The call was started and its outcome is not stored yet: its tool body (or the executor)
    /// may have run, in part or whole.
    Started {
        /// The call, with the arguments it runs with.
        execution: ToolExecution,
        /// Whether an executor was asked (otherwise the agent runs the tool).
        by_executor: bool,
    },
    /// The call waits on the host.
    Waiting {
        /// What it waits for.
        requirement: Requirement,
    },
}

impl InFlightCall {
    /// The call.
    pub fn tool_execution(&self) -> &ToolExecution {
        match self {
            InFlightCall::Finished { execution } | InFlightCall::Started { execution, .. } => {
                execution
            }
            InFlightCall::Waiting { requirement } => &requirement.tool_execution,
        }
    }
}

/// The version of the [`RunOutput`] data layout this kern writes.
///
/// Version 2 added the pause token ([`RunOutput::pause_id`], and the run and pause every
/// [`Requirement`] is bound to) and the stored progress of a batch of tool calls
/// ([`RunOutput::in_flight`]). Runs of version 1 are still read (their new fields are empty); a
/// version-1 pause is continued with version-1 requirements, which name no run or pause.
///
/// Version 3 added the lease of a claimed run ([`RunOutput::lease`]) and the mark of a
/// requirement a worker started ([`Requirement::started`]); both are absent (none, not
/// started) in runs of versions 1 and 2, which are still read.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest layout version this kern reads.
pub const MIN_SCHEMA_VERSION: u32 = 1;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The agent is working on it (or a continue claimed it and is working on it).
    Running,
    /// Waiting for the host to resolve its requirements.
    Paused,
    /// The model gave its final answer (or a tool stopped the run).
    Completed,
    /// The run hit the agent's limit on model turns.
    TurnLimitReached,
    /// The model failed; [`Agent::retry_run`](crate::Agent::retry_run) tries its turn again
    /// (the tool results it has are kept).
    Failed,
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Completed => "completed",
            RunStatus::TurnLimitReached => "turn limit reached",
            RunStatus::Failed => "failed",
        })
    }
}

/// Counters of a run, summed over its turns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Model turns taken.
    pub turns: u32,
    /// Tool calls the model made.
    pub tool_calls: u32,
    /// Tokens, as the provider reported them.
    pub usage: Usage,
}

/// A run, as the host sees it and as the store keeps it.
///
/// A paused run is plain data: it serializes to JSON and back unchanged, and any agent with the
/// same tools and store (here a second agent standing for another process) continues it.
///
/// ```
/// # extern crate kern_core as kern;
/// # use kern_macros::tool;
/// use kern_core::{Agent, MemoryStore, RunOutput, TestModel, ToolError};
///
/// /// Ask a person to approve the release.
/// #[tool(requires_confirmation)]
/// fn release() -> Result<String, ToolError> {
///     Ok("released".into())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
/// let store = MemoryStore::new();
/// let agent = |store: MemoryStore| {
///     Agent::builder().model(TestModel::new()).tool(release).store(store).build()
/// };
///
/// let paused = agent(store.clone())?.run("Ship it").await?;
/// assert!(paused.is_paused());
/// let json = serde_json::to_string(&paused).unwrap();
///
/// // Elsewhere, later: the run read back, its one requirement confirmed.
/// let mut run: RunOutput = serde_json::from_str(&json).unwrap();
/// assert_eq!(run, paused);
/// run.requirements[0].confirm();
/// let done = agent(store)?.continue_run(&run.run_id, &run.requirements).await?;
/// assert!(done.is_finished());
/// assert_eq!(done.tool_executions[0].result.as_deref(), Some("released"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The run's id.
    pub run_id: String,
    /// The session the run belongs to; later runs of a session see its messages as history.
    pub session_id: String,
    /// The user, if the host named one.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Where the run stands.
    pub status: RunStatus,
    /// The final answer (or the last text the model gave).
    #[serde(default)]
    pub content: Option<String>,
    /// The run's own messages, from its input on (session history not included).
    pub messages: Vec<Message>,
    /// Every tool call of the run that has a result, in the order they finished.
    #[serde(default)]
    pub tool_executions: Vec<ToolExecution>,
    /// What the run waits on while paused (empty otherwise).
    #[serde(default)]
    pub requirements: Vec<Requirement>,
    /// The token of the run's latest pause: a new one at every pause. Each of the pause's
    /// requirements carries it, and a continue refuses requirements of another pause. Empty
    /// for a run that never paused (and for a pause stored by a kern of layout version 1).
    #[serde(default)]
    pub pause_id: String,
    /// While the agent works through a batch of tool calls of a stored run, where each call
    /// stands: stored when the calls start and as they finish, so a recovery reuses the
    /// results and never runs a finished call again. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_flight: Vec<InFlightCall>,
    /// Counters.
    #[serde(default)]
    pub metrics: Metrics,
    /// Why the run failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that claimed the run ([`RunStore::claim`](crate::RunStore::claim)) and until
    /// when, while it resolves and continues it; cleared at the next pause or the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

impl RunOutput {
    /// Whether the run waits on the host.
    pub fn is_paused(&self) -> bool {
        self.status == RunStatus::Paused
    }

    /// Whether the run is over (completed, failed or stopped by the turn limit).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            RunStatus::Completed | RunStatus::TurnLimitReached | RunStatus::Failed
        )
    }

    /// The requirements not yet resolved.
    pub fn active_requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(|r| !r.is_resolved())
    }

    /// The requirements not yet resolved, to resolve them in place.
    pub fn active_requirements_mut(&mut self) -> impl Iterator<Item = &mut Requirement> {
        self.requirements.iter_mut().filter(|r| !r.is_resolved())
    }

    /// Adds a finished call to the run's conversation and executions.
    pub(crate) fn record_execution(&mut self, execution: ToolExecution) {
        self.messages.push(Message::Tool {
            tool_call_id: execution.tool_call_id.clone(),
            tool_name: execution.tool_name.clone(),
            content: execution.result.clone().unwrap_or_default(),
            is_error: execution.is_error,
        });
        self.tool_executions.push(execution);
    }

    /// Makes these the run's requirements, at the pause `pause_id`: each is bound to the run
    /// and the pause.
    pub(crate) fn bind(&mut self, mut requirements: Vec<Requirement>, pause_id: String) {
        self.pause_id = pause_id;
        for requirement in &mut requirements {
            requirement.run_id.clone_from(&self.run_id);
            requirement.pause_id.clone_from(&self.pause_id);
        }
        self.requirements = requirements;
    }

    /// Turns a claimed run (stored `running`) back into a paused one, without binding its
    /// requirements yet: the calls its batch finished are recorded, the ones it started become
    /// interrupted requirements, the ones that waited on the host wait again.
    pub(crate) fn reopen(&mut self) {
        // A run claimed by a kern of layout version 1 keeps its pause's requirements here.
        let mut requirements = std::mem::take(&mut self.requirements);
        for call in std::mem::take(&mut self.in_flight) {
            match call {
                InFlightCall::Finished { execution } => self.record_execution(execution),
                InFlightCall::Started {
                    mut execution,
                    by_executor,
                } => {
                    execution.result = None;
                    execution.is_error = false;
                    let kind = if by_executor {
                        RequirementKind::ExternalExecution
                    } else {
                        RequirementKind::Confirmation
                    };
                    let mut requirement = Requirement::new(kind, execution);
                    requirement.interrupted = true;
                    requirements.push(requirement);
                }
                InFlightCall::Waiting { requirement } => requirements.push(requirement),
            }
        }
        self.status = RunStatus::Paused;
        self.requirements = requirements;
    }
}
