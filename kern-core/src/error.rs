//! The error type of everything the host can get wrong or that can fail outside a tool.
//!
//! Errors a *model* causes (a call to an unknown tool, arguments that are not JSON, arguments
//! that do not fit the schema, a tool that fails or panics) are not [`Error`]s: they go back to
//! the model as tool error messages and the run goes on. An [`Error`] is what the *host* gets:
//! a mistake in what it asked for, a provider or store that failed.

use crate::model::ModelError;
use crate::run::{RunOutput, RunStatus};

/// `Result<T, kern::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call the host makes.
///
/// Each variant names what is wrong (the run, the tool call, the requirement), so the message
/// alone tells the host what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No run with this id is in the agent's store.
    #[error("run `{run_id}` not found")]
    RunNotFound {
        /// The id that was asked for.
        run_id: String,
    },

    /// `continue_run` was called on a run that is not paused.
    #[error("run `{run_id}` is not paused (its status is {status})")]
    RunNotPaused {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },

    /// `reopen_run` was called on a run that no unfinished continue holds (it is not stored
    /// with status `running`).
    #[error(
        "run `{run_id}` is not held by an unfinished continue (its status is {status}); only such a run can be reopened"
    )]
    RunNotClaimed {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },

    /// A requirement of the pause was not passed back to `continue_run`.
    #[error(
        "run `{run_id}`: the requirement for tool call `{tool_call_id}` (`{tool_name}`) was not passed back"
    )]
    MissingRequirement {
        /// The run.
        run_id: String,
        /// The tool call whose requirement is missing.
        tool_call_id: String,
        /// The tool it calls.
        tool_name: String,
    },

    /// A requirement passed back to `continue_run` is not part of the run's pause.
    #[error("run `{run_id}`: tool call `{tool_call_id}` is not part of its pause")]
    UnknownToolCall {
        /// The run.
        run_id: String,
        /// The id that is not part of the pause.
        tool_call_id: String,
    },

    /// A requirement passed back to `continue_run` belongs to another run, or to another
    /// (earlier) pause of this run: tool call ids repeat across runs and turns, so a requirement
    /// is bound to its run and pause, and only the current pause's ones are accepted.
    #[error(
        "run `{run_id}`: the requirement for tool call `{tool_call_id}` is not one of its current pause: {reason}"
    )]
    StaleRequirement {
        /// The run that was continued.
        run_id: String,
        /// The tool call the requirement names.
        tool_call_id: String,
        /// Which binding differs, in words.
        reason: String,
    },

    /// Arguments the host supplied (user input, or [`approve_with_args`]) do not fit the tool.
    /// Nothing changed: the pause stays and can be continued with other values.
    ///
    /// [`approve_with_args`]: crate::Requirement::approve_with_args
    #[error(
        "run `{run_id}`: the arguments given for tool call `{tool_call_id}` (`{tool_name}`) do not fit the tool: {message}"
    )]
    InvalidToolArgs {
        /// The run.
        run_id: String,
        /// The tool call.
        tool_call_id: String,
        /// The tool it calls.
        tool_name: String,
        /// What does not fit.
        message: String,
    },

    /// `retry_run` was called on a run that is not failed.
    #[error("run `{run_id}` has not failed (its status is {status}); only a failed run is retried")]
    RunNotFailed {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },

    /// The run reached a pause (or its end) but could not be stored there. The run is here, as
    /// it stands, so nothing is lost: its requirements, its results. The store keeps its last
    /// stored state (a claimed continue's progress, with the tool results stored so far), which
    /// [`Agent::reopen_run`](crate::Agent::reopen_run) recovers once the store works again.
    #[error("run `{}` could not be stored (status {}): {source}", run.run_id, run.status)]
    NotStored {
        /// The run, as it was to be stored.
        run: Box<RunOutput>,
        /// Why the store failed.
        #[source]
        source: Box<Error>,
    },

    /// The task working on a claimed run was stopped before it ended (its tokio runtime shut
    /// down). The run is stored as far as it got; [`Agent::reopen_run`](crate::Agent::reopen_run)
    /// recovers it.
    #[error(
        "the work on run `{run_id}` was aborted before it ended; it is stored as far as it got (reopen_run recovers it)"
    )]
    Aborted {
        /// The run.
        run_id: String,
    },

    /// The same requirement was passed back twice.
    #[error("run `{run_id}`: the requirement for tool call `{tool_call_id}` was passed back twice")]
    DuplicateRequirement {
        /// The run.
        run_id: String,
        /// The repeated tool call id.
        tool_call_id: String,
    },

    /// A requirement was passed back without what it needs (a result, a confirmation, user input).
    #[error(
        "run `{run_id}`: the requirement for tool call `{tool_call_id}` (`{tool_name}`) is not resolved: {needs}"
    )]
    UnresolvedRequirement {
        /// The run.
        run_id: String,
        /// The tool call.
        tool_call_id: String,
        /// The tool it calls.
        tool_name: String,
        /// What it still needs, in words ("an external execution result", "user input for `to`").
        needs: String,
    },

    /// A requirement was resolved in a way its kind does not allow (a confirmation given to an
    /// external execution, say).
    #[error(
        "run `{run_id}`: the requirement for tool call `{tool_call_id}` (`{tool_name}`) {problem}"
    )]
    InvalidResolution {
        /// The run.
        run_id: String,
        /// The tool call.
        tool_call_id: String,
        /// The tool it calls.
        tool_name: String,
        /// What is wrong, in words.
        problem: String,
    },

    /// The stored run changed since it was loaded: another continue of the same pause won (the
    /// call that got this error at its claim executed nothing), or the run was reopened while
    /// this continue worked on it (it stops at that write; what it stored before stays).
    #[error("run `{run_id}` was changed concurrently (expected version {expected}, found {found})")]
    Conflict {
        /// The run.
        run_id: String,
        /// The version the caller loaded.
        expected: u64,
        /// The version in the store (0 when the run is gone).
        found: u64,
    },

    /// A listing was asked for the page after a cursor that no store made
    /// ([`PageRequest::after`](crate::store::PageRequest::after) takes a
    /// [`RunPage::next`](crate::store::RunPage::next)).
    #[error("`{cursor}` is not a cursor of a run listing")]
    InvalidCursor {
        /// The cursor given.
        cursor: String,
    },

    /// The worker does not hold the run's lease (any more): the lease expired and another
    /// worker claimed the run, or the run was continued or never claimed by it.
    #[error("worker `{worker}` does not hold the lease of run `{run_id}`")]
    LeaseLost {
        /// The run.
        run_id: String,
        /// The worker that asked.
        worker: String,
    },

    /// A run with this id already exists in the store.
    #[error("run `{run_id}` already exists in the store")]
    RunExists {
        /// The run.
        run_id: String,
    },

    /// A stored run could not be read: its data is corrupt.
    #[error("stored run `{run_id}` is corrupt: {reason}")]
    CorruptRun {
        /// The run.
        run_id: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A stored run was written by a kern with a schema this one does not read.
    #[error(
        "stored run `{run_id}` has schema version {found}; this kern reads version {supported}"
    )]
    UnsupportedSchemaVersion {
        /// The run.
        run_id: String,
        /// The version found.
        found: u32,
        /// The version this kern reads and writes.
        supported: u32,
    },

    /// The store itself failed (I/O, database).
    #[error("store: {message}")]
    Store {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The model (provider) failed.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// The agent or a toolkit was configured wrongly (no model, two tools of one name, an unknown
    /// tool name in a toolkit's selection).
    #[error("configuration: {0}")]
    Config(String),
}

impl Error {
    /// A [`Error::Store`] from any error.
    pub fn store(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Store {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}
