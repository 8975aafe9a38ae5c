//! [`MemoryStore`]: runs kept in this process, the default store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use futures::future::{BoxFuture, FutureExt};

use super::fleet::{self, ClaimRequest, PageRequest, Retention, RunFilter, RunPage};
use super::{RunStore, StoredRun, codec};
use crate::error::{Error, Result};
use crate::run::RunOutput;

/// How many writes a [`MemoryStore::with_retention`] store makes between two purges.
const PURGE_EVERY: u32 = 256;

/// Runs kept in memory, in this process. Cheap to clone; clones share the runs.
///
/// It keeps every run until it is deleted; a long-lived process gives it a [`Retention`]
/// policy ([`with_retention`](Self::with_retention)) so finished runs go after a while.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    runs: HashMap<String, Entry>,
    /// Every run's id by creation number: the order of listings and claims.
    order: BTreeMap<u64, String>,
    /// Per session, its runs' ids by creation number: oldest first.
    sessions: Index,
    /// Per user, their runs' ids by creation number: oldest first.
    users: Index,
    /// The creation number of the next run.
    next_created: u64,
    /// The policy applied as the store goes, if any.
    retention: Option<Retention>,
    /// Writes since the last purge of `retention`.
    writes_since_purge: u32,
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

    /// An empty store that applies `policy` as it goes: every 256 writes, the runs the policy
    /// lets go are deleted (as [`RunStore::purge`] does), so a long-lived process does not grow
    /// without bound.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kern_core::MemoryStore;
    /// use kern_core::store::Retention;
    ///
    /// let store = MemoryStore::with_retention(Retention::finished_for(Duration::from_secs(3600)));
    /// # let _ = store;
    /// ```
    pub fn with_retention(policy: Retention) -> Self {
        let store = Self::default();
        store.lock().retention = Some(policy);
        store
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
            Some(stored) => upgraded(stored),
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
            let created = inner.next_created + 1;
            inner.next_created = created;
            let now = SystemTime::now();
            inner.runs.insert(
                run.run_id.clone(),
                Entry {
                    stored: StoredRun {
                        run: run.clone(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                    created,
                },
            );
            inner.order.insert(created, run.run_id.clone());
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
            inner.wrote();
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
                entry.stored.updated_at = SystemTime::now();
                let version = entry.stored.version;
                inner.wrote();
                Ok(version)
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

    fn list_runs<'a>(
        &'a self,
        filter: &'a RunFilter,
        page: &'a PageRequest,
    ) -> BoxFuture<'a, Result<RunPage>> {
        let result = page.after_seq().and_then(|after| {
            let limit = page.effective_limit();
            let inner = self.lock();
            let found = inner
                .order
                .range(after.saturating_add(1)..)
                .filter_map(|(seq, id)| inner.runs.get(id).map(|e| (*seq, &e.stored)))
                .filter(|(_, stored)| filter.matches(stored))
                .take(limit + 1)
                .map(|(seq, stored)| upgraded(stored.clone()).map(|s| (seq, s)))
                .collect::<Result<Vec<_>>>()?;
            Ok(RunPage::of(found, limit))
        });
        futures::future::ready(result).boxed()
    }

    fn delete<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<bool>> {
        let deleted = self.lock().remove(run_id);
        futures::future::ready(Ok(deleted)).boxed()
    }

    fn purge<'a>(&'a self, policy: &'a Retention) -> BoxFuture<'a, Result<u64>> {
        let purged = self.lock().purge(policy, SystemTime::now());
        futures::future::ready(Ok(purged)).boxed()
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> BoxFuture<'a, Result<Option<StoredRun>>> {
        let now = SystemTime::now();
        let filter = request.candidates();
        let mut inner = self.lock();
        let found = inner
            .order
            .values()
            .filter_map(|id| inner.runs.get(id))
            .find(|e| fleet::is_claimable(&e.stored.run, now) && filter.matches(&e.stored))
            .map(|e| e.stored.clone());
        let result = match found {
            None => Ok(None),
            Some(stored) => upgraded(stored).map(|stored| {
                let run =
                    fleet::claimed(stored.run, request, now, crate::agent::id::new_pause_id());
                let entry = inner
                    .runs
                    .get_mut(&run.run_id)
                    .expect("the run found under the lock is there");
                entry.stored.run = run;
                entry.stored.version += 1;
                entry.stored.updated_at = now;
                let claimed = entry.stored.clone();
                inner.wrote();
                Some(claimed)
            }),
        };
        futures::future::ready(result).boxed()
    }
}

/// A stored run as a reader gets it: refused if of a layout this kern does not read, brought up
/// to date otherwise.
fn upgraded(stored: StoredRun) -> Result<StoredRun> {
    codec::check_schema_version(&stored.run.run_id, stored.run.schema_version)?;
    Ok(StoredRun {
        run: codec::upgrade(stored.run),
        ..stored
    })
}

impl Inner {
    /// Counts a write; every [`PURGE_EVERY`] writes, applies the retention policy.
    fn wrote(&mut self) {
        let Some(policy) = self.retention.clone() else {
            return;
        };
        self.writes_since_purge += 1;
        if self.writes_since_purge >= PURGE_EVERY {
            self.writes_since_purge = 0;
            self.purge(&policy, SystemTime::now());
        }
    }

    /// Deletes the runs `policy` lets go at `now`; how many.
    fn purge(&mut self, policy: &Retention, now: SystemTime) -> u64 {
        let gone: Vec<String> = self
            .runs
            .iter()
            .filter(|(_, e)| policy.lets_go(&e.stored, now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            self.remove(id);
        }
        gone.len() as u64
    }

    /// Deletes a run and its places in the indexes; whether it was there.
    fn remove(&mut self, run_id: &str) -> bool {
        let Some(entry) = self.runs.remove(run_id) else {
            return false;
        };
        let run = &entry.stored.run;
        self.order.remove(&entry.created);
        regroup(
            &mut self.sessions,
            entry.created,
            run_id,
            Some(&run.session_id),
            None,
        );
        regroup(
            &mut self.users,
            entry.created,
            run_id,
            run.user_id.as_deref(),
            None,
        );
        true
    }

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
