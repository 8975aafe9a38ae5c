//! [`MemoryStore`]: runs kept in this process, the default store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt};

use super::{RunStore, StoredRun, codec};
use crate::error::{Error, Result};
use crate::run::RunOutput;

/// Runs kept in memory, in this process. Cheap to clone; clones share the runs.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    runs: HashMap<String, Entry>,
    /// Per session, its runs' ids by creation number: oldest first.
    sessions: Index,
    /// Per user, their runs' ids by creation number: oldest first.
    users: Index,
    /// The creation number of the next run.
    next_created: u64,
}

/// Run ids grouped by a key (a session id, a user id), by creation number.
type Index = HashMap<String, BTreeMap<u64, String>>;

/// Moves a run's place in `index` from key `old` to key `new` (either may be none).
fn regroup(index: &mut Index, created: u64, run_id: &str, old: Option<&str>, new: Option<&str>) {
    if old == new {
        return;
    }
    if let Some(old) = old
        && let Some(runs) = index.get_mut(old)
    {
        runs.remove(&created);
        if runs.is_empty() {
            index.remove(old);
        }
    }
    if let Some(new) = new {
        index
            .entry(new.to_owned())
            .or_default()
            .insert(created, run_id.to_owned());
    }
}

#[derive(Debug)]
struct Entry {
    stored: StoredRun,
    created: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written run (a run is replaced
        // whole, after its clone is made), so a poisoned lock is safe to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RunStore for MemoryStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>> {
        let found = self.lock().runs.get(run_id).map(|e| e.stored.clone());
        let result = match found {
            Some(StoredRun { run, version }) => {
                codec::check_schema_version(run_id, run.schema_version).map(|()| StoredRun {
                    run: codec::upgrade(run),
                    version,
                })
            }
            None => Err(Error::RunNotFound {
                run_id: run_id.to_owned(),
            }),
        };
        futures::future::ready(result).boxed()
    }

    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>> {
        let mut inner = self.lock();
        let result = if inner.runs.contains_key(&run.run_id) {
            Err(Error::RunExists {
                run_id: run.run_id.clone(),
            })
        } else {
            let created = inner.next_created;
            inner.next_created += 1;
            inner.runs.insert(
                run.run_id.clone(),
                Entry {
                    stored: StoredRun {
                        run: run.clone(),
                        version: 1,
                    },
                    created,
                },
            );
            regroup(
                &mut inner.sessions,
                created,
                &run.run_id,
                None,
                Some(&run.session_id),
            );
            regroup(
                &mut inner.users,
                created,
                &run.run_id,
                None,
                run.user_id.as_deref(),
            );
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
        let inner = &mut *inner;
        let result = match inner.runs.get_mut(&run.run_id) {
            Some(entry) if entry.stored.version == expected_version => {
                // Everything that can fail (allocate) first, so a panic changes nothing.
                let new_run = run.clone();
                let old = &entry.stored.run;
                regroup(
                    &mut inner.sessions,
                    entry.created,
                    &run.run_id,
                    Some(&old.session_id),
                    Some(&run.session_id),
                );
                regroup(
                    &mut inner.users,
                    entry.created,
                    &run.run_id,
                    old.user_id.as_deref(),
                    run.user_id.as_deref(),
                );
                entry.stored.run = new_run;
                entry.stored.version += 1;
                Ok(entry.stored.version)
            }
            found => Err(Error::Conflict {
                run_id: run.run_id.clone(),
                expected: expected_version,
                found: found.map_or(0, |e| e.stored.version),
            }),
        };
        futures::future::ready(result).boxed()
    }

    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        let inner = self.lock();
        futures::future::ready(inner.grouped(&inner.sessions, session_id)).boxed()
    }

    fn user_runs<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        let inner = self.lock();
        futures::future::ready(inner.grouped(&inner.users, user_id)).boxed()
    }
}

impl Inner {
    /// The runs filed under `key` in `index`, oldest first.
    fn grouped(&self, index: &Index, key: &str) -> Result<Vec<RunOutput>> {
        index
            .get(key)
            .into_iter()
            .flat_map(|runs| runs.values())
            .filter_map(|id| self.runs.get(id))
            .map(|Entry { stored, .. }| {
                codec::check_schema_version(&stored.run.run_id, stored.run.schema_version)
                    .map(|()| codec::upgrade(stored.run.clone()))
            })
            .collect()
    }
}
