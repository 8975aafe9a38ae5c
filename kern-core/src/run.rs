//! A run: its status, its conversation, its tool executions and its requirements, as plain serde
//! data. A paused [`RunOutput`] serialized to JSON is all another process needs to continue it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::model::Usage;
use crate::requirement::{Requirement, ToolExecution};

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
pub const SCHEMA_VERSION: u32 = 2;

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
}
