//! Run stores: where paused (and finished) runs live, so a run can be continued later, by
//! another agent, in another process.
//!
//! Every store implements [`RunStore`] and passes the same conformance suite (`conformance`,
//! behind the cargo feature of that name). [`MemoryStore`] keeps runs in this process;
//! `SqliteStore` (cargo feature `sqlite`, on by default) keeps them in a SQLite file that other
//! processes can open to continue them; `PostgresStore` (cargo feature `postgres`) keeps them in
//! a PostgreSQL database that many processes on many machines share.

mod codec;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use futures::future::BoxFuture;

use crate::error::Result;
use crate::run::RunOutput;

/// A run as stored, with its version for optimistic concurrency.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// The run.
    pub run: RunOutput,
    /// Its version: 1 when created, one more at every update.
    pub version: u64,
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
}
