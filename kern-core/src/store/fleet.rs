//! What a fleet of workers needs from a store: listing runs by filter, a page at a time;
//! deleting and expiring them; and claiming a paused run with a lease.
//!
//! The types here are shared by every [`RunStore`](super::RunStore); the rewrite a claim makes
//! (`claimed`) is written once and called by each store inside its own transaction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::StoredRun;
use crate::error::{Error, Result};
use crate::run::{RunOutput, RunStatus};

/// A worker's hold on a run it claimed ([`RunStore::claim`](super::RunStore::claim)): until
/// `expires_at_ms`, no other claim takes the run. Kept in the run
/// ([`RunOutput::lease`](crate::RunOutput::lease)) while the worker resolves and continues it;
/// a pause or an end clears it.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kern_core::store::Lease;
///
/// let lease = Lease { worker: "w1".into(), expires_at_ms: 10_000 };
/// assert_eq!(lease.expires_at(), UNIX_EPOCH + Duration::from_secs(10));
/// assert!(!lease.is_expired_at(UNIX_EPOCH + Duration::from_secs(9)));
/// assert!(lease.is_expired_at(UNIX_EPOCH + Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The worker that holds it (the name it claimed with).
    pub worker: String,
    /// When it expires, in milliseconds since the Unix epoch, by the store's clock.
    pub expires_at_ms: u64,
}

impl Lease {
    /// When it expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.expires_at_ms)
    }

    /// Whether it has expired at `now` (at its expiry instant it has).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        millis(now) >= self.expires_at_ms
    }
}

/// Which runs a listing ([`RunStore::list_runs`](super::RunStore::list_runs)) or a claim
/// ([`ClaimRequest::filter`]) takes. Every field set must match; the default matches every run.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use kern_core::store::RunFilter;
///
/// // Ada's runs paused on `deploy` for more than an hour.
/// let filter = RunFilter::paused()
///     .user("ada")
///     .tool("deploy")
///     .updated_before(SystemTime::now() - Duration::from_secs(3600));
/// # let _ = filter;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Runs of this status.
    pub status: Option<RunStatus>,
    /// Runs of this user.
    pub user_id: Option<String>,
    /// Runs of this session.
    pub session_id: Option<String>,
    /// Runs with an unresolved requirement for this tool (paused runs; a running run whose
    /// batch waits on it too).
    pub tool_name: Option<String>,
    /// Runs last changed before this instant ("paused for longer than …").
    pub updated_before: Option<SystemTime>,
}

impl RunFilter {
    /// Every run.
    pub fn all() -> Self {
        Self::default()
    }

    /// The paused runs.
    pub fn paused() -> Self {
        Self::default().status(RunStatus::Paused)
    }

    /// Only runs of this status.
    pub fn status(mut self, status: RunStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only runs of this user.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Only runs of this session.
    pub fn session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Only runs waiting on a call of this tool.
    pub fn tool(mut self, tool_name: impl Into<String>) -> Self {
        self.tool_name = Some(tool_name.into());
        self
    }

    /// Only runs last changed before `instant`.
    pub fn updated_before(mut self, instant: SystemTime) -> Self {
        self.updated_before = Some(instant);
        self
    }

    /// Whether `stored` passes the filter (what a store without an index checks run by run).
    pub fn matches(&self, stored: &StoredRun) -> bool {
        let run = &stored.run;
        self.status.is_none_or(|s| run.status == s)
            && self
                .user_id
                .as_deref()
                .is_none_or(|u| run.user_id.as_deref() == Some(u))
            && self
                .session_id
                .as_deref()
                .is_none_or(|s| run.session_id == s)
            && self
                .tool_name
                .as_deref()
                .is_none_or(|t| waiting_tools(run).any(|name| name == t))
            && self
                .updated_before
                .is_none_or(|before| stored.updated_at < before)
    }
}

/// The tools a run waits on: its unresolved requirements', and those its batch in flight waits
/// on. What [`RunFilter::tool`] matches; SQL stores keep it in a column.
pub fn waiting_tools(run: &RunOutput) -> impl Iterator<Item = &str> {
    let waiting = run.in_flight.iter().filter_map(|call| match call {
        crate::run::InFlightCall::Waiting { requirement } if !requirement.is_resolved() => {
            Some(requirement.tool_execution.tool_name.as_str())
        }
        _ => None,
    });
    run.active_requirements()
        .map(|r| r.tool_execution.tool_name.as_str())
        .chain(waiting)
}

/// The largest page a listing gives.
pub const MAX_PAGE: usize = 1000;

/// Which page of a listing: at most `limit` runs (100 by default, at most [`MAX_PAGE`]), after
/// the cursor of the previous page ([`RunPage::next`]).
///
/// ```
/// use kern_core::store::PageRequest;
///
/// let first = PageRequest::first(50);
/// let all = PageRequest::default();
/// assert_eq!((first.limit, all.limit), (50, 100));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The most runs to give (0 is taken as 1; more than [`MAX_PAGE`] as [`MAX_PAGE`]).
    pub limit: usize,
    /// The cursor of the previous page; `None` for the first page.
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: 100,
            after: None,
        }
    }
}

impl PageRequest {
    /// The first page, of at most `limit` runs.
    pub fn first(limit: usize) -> Self {
        PageRequest { limit, after: None }
    }

    /// The page after `cursor` (a [`RunPage::next`]), of at most `limit` runs.
    pub fn after(limit: usize, cursor: impl Into<String>) -> Self {
        PageRequest {
            limit,
            after: Some(cursor.into()),
        }
    }

    /// The limit a store applies: between 1 and [`MAX_PAGE`].
    pub fn effective_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE)
    }

    /// The creation number the page starts after (0 for the first page);
    /// [`Error::InvalidCursor`] for a cursor no store made.
    pub fn after_seq(&self) -> Result<u64> {
        match &self.after {
            None => Ok(0),
            Some(cursor) => cursor
                .strip_prefix('c')
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse().ok())
                .ok_or_else(|| Error::InvalidCursor {
                    cursor: cursor.clone(),
                }),
        }
    }
}

/// The cursor of the page after the run of creation number `seq`.
pub(crate) fn cursor(seq: u64) -> String {
    format!("c{seq}")
}

/// One page of a listing: the runs, oldest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    /// The runs of this page, in creation order.
    pub runs: Vec<StoredRun>,
    /// The cursor of the next page ([`PageRequest::after`]); `None` at the end.
    pub next: Option<String>,
}

impl RunPage {
    /// A page from up to `limit + 1` runs found, each with its creation number: the extra one
    /// only says there is a next page.
    pub(crate) fn of(mut found: Vec<(u64, StoredRun)>, limit: usize) -> Self {
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|(seq, _)| cursor(*seq))
        } else {
            None
        };
        RunPage {
            runs: found.into_iter().map(|(_, run)| run).collect(),
            next,
        }
    }
}

/// How long a store keeps runs ([`RunStore::purge`](super::RunStore::purge),
/// [`MemoryStore::with_retention`](super::MemoryStore::with_retention)): finished runs
/// (completed, failed, stopped by the turn limit) last changed more than `keep_finished` ago go,
/// and, when `keep_paused` is set, paused runs last changed more than that ago. A running run is
/// never deleted: a continue owns it.
///
/// ```
/// use std::time::Duration;
/// use kern_core::store::Retention;
///
/// let day = Duration::from_secs(86_400);
/// let policy = Retention::finished_for(day).paused_for(30 * day);
/// assert_eq!(policy.keep_paused, Some(30 * day));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// How long a finished run is kept after its last change.
    pub keep_finished: Duration,
    /// How long a paused run is kept after its last change; `None`: until it is continued.
    pub keep_paused: Option<Duration>,
}

impl Retention {
    /// Keeps finished runs for `keep`, paused runs until they are continued.
    pub fn finished_for(keep: Duration) -> Self {
        Retention {
            keep_finished: keep,
            keep_paused: None,
        }
    }

    /// Also deletes paused runs unchanged for `keep`.
    pub fn paused_for(mut self, keep: Duration) -> Self {
        self.keep_paused = Some(keep);
        self
    }

    /// Whether the policy deletes `stored` at `now`.
    pub fn lets_go(&self, stored: &StoredRun, now: SystemTime) -> bool {
        let older_than = |keep: Duration| {
            now.checked_sub(keep)
                .is_some_and(|cutoff| stored.updated_at < cutoff)
        };
        if stored.run.is_finished() {
            older_than(self.keep_finished)
        } else if stored.run.status == RunStatus::Paused {
            self.keep_paused.is_some_and(older_than)
        } else {
            false
        }
    }

    /// The cut-offs at `now`, in Unix milliseconds: finished runs changed before the first go,
    /// and paused runs changed before the second when set. For SQL stores.
    pub(crate) fn cutoffs_ms(&self, now: SystemTime) -> (u64, Option<u64>) {
        let cutoff = |keep: Duration| now.checked_sub(keep).map_or(0, millis);
        (cutoff(self.keep_finished), self.keep_paused.map(cutoff))
    }
}

/// A worker's claim ([`RunStore::claim`](super::RunStore::claim)): its name, how long its lease
/// lasts, and which runs it takes (the status of `filter` is ignored: a claim takes paused runs,
/// and running ones whose lease expired).
///
/// ```
/// use std::time::Duration;
/// use kern_core::store::{ClaimRequest, RunFilter};
///
/// let request = ClaimRequest::new("worker-1", Duration::from_secs(30))
///     .filter(RunFilter::default().tool("deploy"));
/// # let _ = request;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRequest {
    /// The worker's name, kept in the lease.
    pub worker: String,
    /// How long the lease lasts from the claim.
    pub lease: Duration,
    /// Which runs to take.
    pub filter: RunFilter,
}

impl ClaimRequest {
    /// A claim of any claimable run by `worker`, with a lease of `lease`.
    pub fn new(worker: impl Into<String>, lease: Duration) -> Self {
        ClaimRequest {
            worker: worker.into(),
            lease,
            filter: RunFilter::default(),
        }
    }

    /// Only runs that pass `filter` (its status aside).
    pub fn filter(mut self, filter: RunFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The filter as a claim applies it, without a status.
    pub(crate) fn candidates(&self) -> RunFilter {
        RunFilter {
            status: None,
            ..self.filter.clone()
        }
    }
}

/// Whether a claim at `now` may take `run`: paused with no lease or an expired one, or running
/// with an expired lease (the worker that continued it is gone).
pub(crate) fn is_claimable(run: &RunOutput, now: SystemTime) -> bool {
    match (&run.status, &run.lease) {
        (RunStatus::Paused, None) => true,
        (RunStatus::Paused | RunStatus::Running, Some(lease)) => lease.is_expired_at(now),
        _ => false,
    }
}

/// The run a claim stores: leased to the worker until `now + request.lease`, at a new pause
/// (`new_pause_id`) with every requirement bound to it. A requirement started by an earlier
/// claimer and not resolved comes back interrupted; resolved ones stay resolved. A running run
/// (its claimer died inside the continue) is first reopened, as
/// [`Agent::reopen_run`](crate::Agent::reopen_run) does.
pub(crate) fn claimed(
    mut run: RunOutput,
    request: &ClaimRequest,
    now: SystemTime,
    new_pause_id: String,
) -> RunOutput {
    if run.status == RunStatus::Running {
        run.reopen();
    }
    for requirement in &mut run.requirements {
        if requirement.started && !requirement.is_resolved() {
            requirement.interrupted = true;
        }
        requirement.started = false;
    }
    let requirements = std::mem::take(&mut run.requirements);
    run.bind(requirements, new_pause_id);
    let expires = now.checked_add(request.lease).unwrap_or(now);
    run.lease = Some(Lease {
        worker: request.worker.clone(),
        expires_at_ms: millis(expires),
    });
    run
}

/// `instant` in milliseconds since the Unix epoch (0 before it).
pub(crate) fn millis(instant: SystemTime) -> u64 {
    instant
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The instant `ms` milliseconds after the Unix epoch.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_typed_errors() {
        assert_eq!(PageRequest::default().after_seq().unwrap(), 0);
        assert_eq!(PageRequest::after(1, cursor(42)).after_seq().unwrap(), 42);
        for bad in ["", "c", "42", "c-1", "cx", "c18446744073709551616", "c 1"] {
            match PageRequest::after(1, bad).after_seq() {
                Err(Error::InvalidCursor { cursor }) => assert_eq!(cursor, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageRequest::first(0).effective_limit(), 1);
        assert_eq!(PageRequest::first(5000).effective_limit(), MAX_PAGE);
    }
}
