//! [`MemoryStore`]: runs kept in this process, the default store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt};

use super::{RunStore, StoredRun};
use crate::error::{Error, Result};
use crate::run::RunOutput;

/// Runs kept in memory, in this process. Cheap to clone; clones share the runs.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    runs: HashMap<String, StoredRun>,
    sessions: HashMap<String, Vec<String>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written run (every write is one
        // insert), so a poisoned lock is safe to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RunStore for MemoryStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>> {
        let found = self.lock().runs.get(run_id).cloned();
        futures::future::ready(found.ok_or_else(|| Error::RunNotFound {
            run_id: run_id.to_owned(),
        }))
        .boxed()
    }

    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>> {
        let mut inner = self.lock();
        let result = if inner.runs.contains_key(&run.run_id) {
            Err(Error::RunExists {
                run_id: run.run_id.clone(),
            })
        } else {
            inner.runs.insert(
                run.run_id.clone(),
                StoredRun {
                    run: run.clone(),
                    version: 1,
                },
            );
            inner
                .sessions
                .entry(run.session_id.clone())
                .or_default()
                .push(run.run_id.clone());
            Ok(1)
        };
        futures::future::ready(result).boxed()
    }

    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<u64>> {
        let mut inner = self.lock();
        let result = match inner.runs.get_mut(&run.run_id) {
            Some(stored) if stored.version == expected_version => {
                stored.run = run.clone();
                stored.version += 1;
                Ok(stored.version)
            }
            found => Err(Error::Conflict {
                run_id: run.run_id.clone(),
                expected: expected_version,
                found: found.map_or(0, |s| s.version),
            }),
        };
        futures::future::ready(result).boxed()
    }

    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        let inner = self.lock();
        let runs = inner
            .sessions
            .get(session_id)
            .into_iter()
            .flatten()
            .filter_map(|id| inner.runs.get(id).map(|s| s.run.clone()))
            .collect();
        futures::future::ready(Ok(runs)).boxed()
    }
}
