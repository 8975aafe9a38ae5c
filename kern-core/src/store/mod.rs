//! Run stores: where paused (and finished) runs live, so a run can be continued later, by
//! another agent, in another process.
//!
//! Every store implements [`RunStore`] and passes the same conformance suite (`conformance`,
//! behind the cargo feature of that name). [`MemoryStore`] keeps runs in this process;
//! `SqliteStore` (cargo feature `sqlite`, on by default) keeps them in a SQLite file that other
//! processes can open to continue them; `PostgresStore` (cargo feature `postgres`) keeps them in
//! a PostgreSQL database that many processes on many machines share.
//!
//! # Fleets
//!
//! Every store also serves a fleet of workers that share paused runs: [`RunStore::list_runs`]
//! pages through runs by status, user, session, tool and age; [`RunStore::delete`] and
//! [`RunStore::purge`] (with a [`Retention`] policy) keep the store from growing without bound;
//! [`RunStore::claim`] hands one claimable run to one worker, with a [`Lease`].
//!
//! A worker's loop: claim a run, mark each requirement it executes as started
//! ([`Requirement::mark_started`](crate::Requirement::mark_started)) and store that
//! ([`Agent::save_progress`](crate::Agent::save_progress)) before executing it, resolve, then
//! [`continue_run`](crate::Agent::continue_run) with the claimed requirements. A worker that
//! dies loses its lease when it expires; the next claim takes the run over at a new pause (the
//! old requirements are refused), with the requirements it had started and not resolved marked
//! [`interrupted`](crate::Requirement::interrupted) for the new worker to decide: no external
//! call is executed twice without the host deciding so.
//!
//! ```
//! use std::time::Duration;
//! use kern_core::store::{ClaimRequest, RunFilter};
//! use kern_core::{Agent, TestModel};
//! # use kern_core::{ExecutionMode, Tool, ToolContext, ToolDefinition, ToolResult};
//! # struct Shell(ToolDefinition);
//! # impl Tool for Shell {
//! #     fn definition(&self) -> &ToolDefinition { &self.0 }
//! #     fn invoke(&self, _: serde_json::Value, _: ToolContext)
//! #         -> futures::future::BoxFuture<'static, ToolResult> { Box::pin(async { unreachable!() }) }
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
//! // `shell` is a tool the host executes (external execution).
//! # let shell = Shell(ToolDefinition::new("shell", "Runs a command", serde_json::json!({"type": "object"}))
//! #     .with_mode(ExecutionMode::External));
//! let agent = Agent::builder().model(TestModel::new()).tool(shell).build()?;
//! agent.run("List the files").await?; // pauses on `shell`
//!
//! // A worker:
//! let claim = ClaimRequest::new("worker-1", Duration::from_secs(30))
//!     .filter(RunFilter::default().tool("shell"));
//! while let Some(claimed) = agent.store().claim(&claim).await? {
//!     let mut requirements = claimed.run.requirements;
//!     for requirement in &mut requirements {
//!         requirement.mark_started();
//!     }
//!     agent.save_progress(&claimed.run.run_id, &requirements).await?;
//!     for requirement in &mut requirements {
//!         requirement.set_external_execution_result("a.txt b.txt");
//!     }
//!     let done = agent.continue_run(&claimed.run.run_id, &requirements).await?;
//!     assert!(done.is_finished());
//! }
//! # Ok(()) }
//! ```

mod codec;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod fleet;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use fleet::{ClaimRequest, Lease, PageRequest, Retention, RunFilter, RunPage};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use std::time::SystemTime;

use futures::future::BoxFuture;

use crate::error::Result;
use crate::run::RunOutput;

/// A run as stored, with its version for optimistic concurrency and its times.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// The run.
    pub run: RunOutput,
    /// Its version: 1 when created, one more at every update.
    pub version: u64,
    /// When it was created, by the store's clock.
    pub created_at: SystemTime,
    /// When it last changed, by the store's clock.
    pub updated_at: SystemTime,
}

/// Where runs are kept.
///
/// Writes are atomic: a run is either written whole or not at all. `update` is a compare-and-set
/// on the version, which is what makes a continue of a pause happen at most once.
pub trait RunStore: Send + Sync + 'static {
    /// Loads a run. [`Error::RunNotFound`](crate::Error::RunNotFound) when there is none;
    /// [`Error::CorruptRun`](crate::Error::CorruptRun) or
    /// [`Error::UnsupportedSchemaVersion`](crate::Error::UnsupportedSchemaVersion) when its data
    /// cannot be read.
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>>;

    /// Stores a new run at version 1. [`Error::RunExists`](crate::Error::RunExists) when its id is
    /// taken.
    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>>;

    /// Replaces a run if its stored version is still `expected_version`, and returns the new
    /// version; otherwise [`Error::Conflict`](crate::Error::Conflict) and nothing changes.
    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<u64>>;

    /// The runs of a session, oldest first.
    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>>;

    /// The runs of a user (the runs whose `user_id` is `user_id`, of every session), oldest
    /// first.
    fn user_runs<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>>;

    /// The runs that match `filter`, in creation order (oldest first), one page at a time: pass
    /// [`RunPage::next`] back as [`PageRequest::after`] for the next page. A run created while
    /// a listing pages through comes on a later page, none is given twice.
    /// [`Error::InvalidCursor`](crate::Error::InvalidCursor) for a cursor no store made.
    fn list_runs<'a>(
        &'a self,
        filter: &'a RunFilter,
        page: &'a PageRequest,
    ) -> BoxFuture<'a, Result<RunPage>>;

    /// Deletes a run: `Ok(true)` when it was there, `Ok(false)` when there was none.
    fn delete<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Deletes the runs `policy` lets go ([`Retention`]; never a running run, which a continue
    /// owns) and returns how many.
    fn purge<'a>(&'a self, policy: &'a Retention) -> BoxFuture<'a, Result<u64>>;

    /// Claims one run for a worker: the oldest that passes `request.filter` and is paused with
    /// no lease or an expired one, or running with an expired lease (its worker died inside the
    /// continue; it is reopened as by [`Agent::reopen_run`](crate::Agent::reopen_run)).
    ///
    /// The run is stored with `lease = {worker, now + request.lease}` and **a new pause**: a
    /// fresh [`pause_id`](RunOutput::pause_id), every requirement bound to it, so requirements
    /// handed out before (to an earlier claimer) are
    /// [`Error::StaleRequirement`](crate::Error::StaleRequirement) in a continue. A requirement
    /// an earlier claimer [started](crate::Requirement::mark_started) and did not resolve comes
    /// back [`interrupted`](crate::Requirement::interrupted); one it resolved stays resolved.
    /// The version goes up by one. `Ok(None)` when nothing is claimable.
    ///
    /// Atomic across processes: of many claims at once, each run goes to exactly one.
    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> BoxFuture<'a, Result<Option<StoredRun>>>;
}

/// A boxed store is a store: for a host that picks its store at run time.
///
/// ```
/// use kern_core::{Agent, MemoryStore, RunStore, TestModel};
///
/// # fn main() -> kern_core::Result<()> {
/// let store: Box<dyn RunStore> = Box::new(MemoryStore::new());
/// let agent = Agent::builder().model(TestModel::new()).store(store).build()?;
/// # let _ = agent;
/// # Ok(()) }
/// ```
impl RunStore for Box<dyn RunStore> {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>> {
        (**self).load(run_id)
    }
    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>> {
        (**self).create(run)
    }
    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<u64>> {
        (**self).update(run, expected_version)
    }
    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        (**self).session_runs(session_id)
    }
    fn user_runs<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        (**self).user_runs(user_id)
    }
    fn list_runs<'a>(
        &'a self,
        filter: &'a RunFilter,
        page: &'a PageRequest,
    ) -> BoxFuture<'a, Result<RunPage>> {
        (**self).list_runs(filter, page)
    }
    fn delete<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<bool>> {
        (**self).delete(run_id)
    }
    fn purge<'a>(&'a self, policy: &'a Retention) -> BoxFuture<'a, Result<u64>> {
        (**self).purge(policy)
    }
    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> BoxFuture<'a, Result<Option<StoredRun>>> {
        (**self).claim(request)
    }
}
