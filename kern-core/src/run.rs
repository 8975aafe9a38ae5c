//! A run: its status, its conversation, its tool executions and its requirements, as plain serde
//! data. A paused [`RunOutput`] serialized to JSON is all another process needs to continue it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::model::Usage;
use crate::requirement::{Requirement, ToolExecution};

/// The version of the [`RunOutput`] data layout this kern reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

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
    /// The model failed; the run cannot go on.
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
