//! [`SqliteStore`]: runs in an embedded SQLite file, shared by every process that opens it.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::{BoxFuture, FutureExt};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params, params_from_iter};

use super::fleet::{self, ClaimRequest, PageRequest, Retention, RunFilter, RunPage};
use super::{RunStore, StoredRun, codec};
use crate::error::{Error, Result};
use crate::run::RunOutput;

/// How long a write waits for another connection's write to finish before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The layout of kern's tables in the file (not the layout of a run, which is
/// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION)). A file of an older layout is upgraded when it is
/// opened ([`UPGRADES`]).
///
/// Layout 2 added the columns and indexes a fleet filters on: the lease expiry, the tools a run
/// waits on, indexes by status (with creation order, lease expiry and last change).
const LAYOUT_VERSION: i64 = 2;

/// The upgrades of the layout: `UPGRADES[i]` takes a file from layout `i + 1` to `i + 2`. Once
/// released, never edited: a change is a new one at the end.
const UPGRADES: &[&str] = &["
ALTER TABLE kern_runs ADD COLUMN lease_expires_ms INTEGER;
ALTER TABLE kern_runs ADD COLUMN tool_names TEXT NOT NULL DEFAULT '';
CREATE INDEX kern_runs_by_status ON kern_runs (status, created_seq);
CREATE INDEX kern_runs_by_lease ON kern_runs (status, lease_expires_ms);
CREATE INDEX kern_runs_by_updated ON kern_runs (status, updated_at_ms);
"];

const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS kern_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kern_runs (
    run_id         TEXT PRIMARY KEY NOT NULL,
    session_id     TEXT NOT NULL,
    user_id        TEXT,
    status         TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    created_seq    INTEGER NOT NULL UNIQUE,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    run            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kern_runs_by_session ON kern_runs (session_id, created_seq);
CREATE INDEX IF NOT EXISTS kern_runs_by_user ON kern_runs (user_id, created_seq);
";

const INSERT_RUN: &str = "
INSERT INTO kern_runs (run_id, session_id, user_id, status, schema_version, version,
                       created_seq, created_at_ms, updated_at_ms, run, lease_expires_ms,
                       tool_names)
VALUES (?1, ?2, ?3, ?4, ?5, 1,
        (SELECT COALESCE(MAX(created_seq), 0) + 1 FROM kern_runs), ?6, ?6, ?7, ?8, ?9)
ON CONFLICT (run_id) DO NOTHING";

const UPDATE_RUN: &str = "
UPDATE kern_runs
SET session_id = ?2, user_id = ?3, status = ?4, schema_version = ?5, version = version + 1,
    updated_at_ms = ?6, run = ?7, lease_expires_ms = ?9, tool_names = ?10
WHERE run_id = ?1 AND version = ?8";

const SELECT_VERSION: &str = "SELECT version FROM kern_runs WHERE run_id = ?1";

/// The columns [`RawRow::read`] reads, in its order.
const ROW: &str = "run_id, version, run, created_seq, created_at_ms, updated_at_ms";

const SELECT_RUN: &str = "
SELECT run_id, version, run, created_seq, created_at_ms, updated_at_ms
FROM kern_runs WHERE run_id = ?1";

const SELECT_SESSION: &str = "
SELECT run_id, version, run, created_seq, created_at_ms, updated_at_ms
FROM kern_runs WHERE session_id = ?1 ORDER BY created_seq";

const SELECT_USER: &str = "
SELECT run_id, version, run, created_seq, created_at_ms, updated_at_ms
FROM kern_runs WHERE user_id = ?1 ORDER BY created_seq";

const DELETE_RUN: &str = "DELETE FROM kern_runs WHERE run_id = ?1";

const PURGE: &str = "
DELETE FROM kern_runs
WHERE (status IN ('completed', 'turn_limit_reached', 'failed') AND updated_at_ms < ?1)
   OR (?2 IS NOT NULL AND status = 'paused' AND updated_at_ms < ?2)";

/// The claimable runs at `?1` (now, in Unix ms), before the filter's conditions. The `IN` comes
/// first so the status index narrows the look-up to waiting runs (finished ones are most rows).
const CLAIMABLE: &str = "
status IN ('paused', 'running')
AND ((status = 'paused' AND (lease_expires_ms IS NULL OR lease_expires_ms <= ?1))
     OR (status = 'running' AND lease_expires_ms <= ?1))";

/// Runs kept in a SQLite file: the store for continuing a run in another process.
///
/// Any number of processes (and stores in one process) may open the same file; a continue
/// started in one of them and a continue started in another cannot both apply to the same
/// pause, because [`update`](RunStore::update) is a compare-and-set on the run's version inside
/// one SQLite transaction.
///
/// SQLite is compiled into the program (rusqlite's `bundled` feature): there is nothing to
/// install. The table is `kern_runs` (with `kern_meta`), so the file may hold the host's own
/// tables too. Each run is one row: its id, session, user, status, schema version, version and
/// creation order as columns, and the run itself as JSON.
///
/// # Durability
///
/// The file is in WAL mode with `synchronous = NORMAL`. Every write is one transaction: it is
/// applied whole or not at all, whatever happens to the process. A write that has returned
/// survives the process being killed (the data is in the operating system's hands); after a
/// power loss or an operating-system crash, the last writes before it may be lost (the run is
/// then found as it was before them), but the file is never corrupt. That is the usual trade of
/// WAL + `NORMAL`: no disk flush per write, which is what makes thousands of pauses a second
/// possible.
///
/// # Threads
///
/// Each store has one connection, owned by a dedicated thread; the async methods send their work
/// there and never block the async runtime. Clones share that connection, and the thread ends
/// when the last clone is dropped. A write waits up to 5 seconds for another connection's write
/// (SQLite's busy timeout) before it fails with [`Error::Store`].
///
/// # Example
///
/// ```
/// use kern_core::{Agent, RunStore, SqliteStore, TestModel};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("runs.db");
/// let agent = Agent::builder()
///     .model(TestModel::new())
///     .store(SqliteStore::open(&path).await?)
///     .build()?;
/// let run = agent.run("Hello").await?;
///
/// // Another process (here: another store on the same file) finds the run by its id.
/// let elsewhere = SqliteStore::open(&path).await?;
/// assert_eq!(elsewhere.load(&run.run_id).await?.run, run);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    location: Arc<str>,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &&*self.location)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the SQLite file at `path` and its tables.
    ///
    /// Fails with [`Error::Store`] when the file cannot be opened, is not a SQLite database, or
    /// holds kern tables of a layout this kern does not know.
    ///
    /// ```no_run
    /// # async fn f() -> kern_core::Result<()> {
    /// let store = kern_core::SqliteStore::open("runs.db").await?;
    /// # Ok(()) }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let location: Arc<str> = path.display().to_string().into();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (jobs, receiver) = mpsc::channel::<Job>();
        let thread_location = location.clone();
        std::thread::Builder::new()
            .name("kern-sqlite".to_owned())
            .spawn(move || {
                let opened = Connection::open(&path)
                    .map_err(|e| sql_error(&thread_location, "open the file", e))
                    .and_then(|mut conn| {
                        prepare(&mut conn, &thread_location)?;
                        Ok(conn)
                    });
                match opened {
                    Ok(conn) => {
                        if ready_tx.send(Ok(())).is_ok() {
                            serve(conn, receiver);
                        }
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            })
            .map_err(|e| Error::store(format!("SQLite `{location}`: start its thread"), e))?;
        ready_rx.await.map_err(|_| thread_gone(&location))??;
        tracing::debug!(location = %location, "SQLite store opened");
        Ok(SqliteStore { jobs, location })
    }

    /// A store in memory, private to this store and its clones: for tests and demos. Its runs
    /// are lost with it.
    pub fn open_in_memory() -> Result<Self> {
        let location: Arc<str> = ":memory:".into();
        let mut conn = Connection::open_in_memory().map_err(|e| sql_error(&location, "open", e))?;
        prepare(&mut conn, &location)?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kern-sqlite".to_owned())
            .spawn(move || serve(conn, receiver))
            .map_err(|e| Error::store(format!("SQLite `{location}`: start its thread"), e))?;
        Ok(SqliteStore { jobs, location })
    }

    /// Runs `work` on the connection's thread. A SQLite error becomes [`Error::Store`], naming
    /// the file and `what` was being done.
    fn call<T: Send + 'static>(
        &self,
        what: String,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<Result<T>> + Send + 'static,
    ) -> BoxFuture<'static, Result<T>> {
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
        let location = self.location.clone();
        let job_location = location.clone();
        let sent = self.jobs.send(Box::new(move |conn: &mut Connection| {
            let result = match work(conn) {
                Ok(result) => result,
                Err(e) => Err(sql_error(&job_location, &what, e)),
            };
            // The caller may have stopped waiting; the work is done either way.
            let _ = reply_tx.send(result);
        }));
        async move {
            sent.map_err(|_| thread_gone(&location))?;
            reply_rx.await.map_err(|_| thread_gone(&location))?
        }
        .boxed()
    }
}

/// Sets the connection up: busy timeout, WAL, `synchronous = NORMAL`, kern's tables.
fn prepare(conn: &mut Connection, location: &str) -> Result<()> {
    let setup = |conn: &mut Connection| -> rusqlite::Result<(String, i64)> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(CREATE_TABLES)?;
        // A new file starts at layout 1 and is upgraded like an old one: one path for both.
        tx.execute(
            "INSERT OR IGNORE INTO kern_meta (key, value) VALUES ('layout_version', 1)",
            [],
        )?;
        let mut layout: i64 = tx.query_row(
            "SELECT value FROM kern_meta WHERE key = 'layout_version'",
            [],
            |row| row.get(0),
        )?;
        while (1..LAYOUT_VERSION).contains(&layout) {
            let index = usize::try_from(layout - 1).unwrap_or(usize::MAX);
            tx.execute_batch(UPGRADES[index])?;
            layout += 1;
            if layout == 2 {
                fill_fleet_columns(&tx)?;
            }
            tx.execute(
                "UPDATE kern_meta SET value = ?1 WHERE key = 'layout_version'",
                [layout],
            )?;
        }
        tx.commit()?;
        Ok((mode, layout))
    };
    let (mode, layout) = setup(conn).map_err(|e| sql_error(location, "set up kern's tables", e))?;
    if !mode.eq_ignore_ascii_case("wal") && location != ":memory:" {
        tracing::warn!(location, mode, "SQLite file is not in WAL mode");
    }
    if layout != LAYOUT_VERSION {
        return Err(Error::Store {
            message: format!(
                "SQLite `{location}`: kern's tables have layout version {layout}; this kern reads \
                 version {LAYOUT_VERSION}"
            ),
            source: None,
        });
    }
    Ok(())
}

/// Fills the columns layout 2 added for the runs of an older file that has runs which wait: the
/// tools they wait on and their lease. A row that does not decode keeps them empty (reading it
/// reports it as corrupt).
fn fill_fleet_columns(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(String, Vec<u8>)> = tx
        .prepare("SELECT run_id, run FROM kern_runs WHERE status IN ('paused', 'running')")?
        .query_map([], |row| {
            let data = match row.get_ref(1)? {
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.to_vec(),
                _ => Vec::new(),
            };
            Ok((row.get::<_, String>(0)?, data))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx
        .prepare("UPDATE kern_runs SET tool_names = ?2, lease_expires_ms = ?3 WHERE run_id = ?1")?;
    for (run_id, data) in rows {
        if let Ok(run) = codec::decode_run(&run_id, &data) {
            update.execute(params![
                run_id,
                tool_names_text(&run),
                codec::lease_expiry_ms(&run)
            ])?;
        }
    }
    Ok(())
}

/// The tools a run waits on as the `tool_names` column holds them: each between spaces
/// (tool names have none), so ` name ` finds one.
fn tool_names_text(run: &RunOutput) -> String {
    let names = codec::tool_names(run);
    if names.is_empty() {
        String::new()
    } else {
        format!(" {} ", names.join(" "))
    }
}

/// Appends the conditions of `filter` to `sql` (a query with a `WHERE` already), with their
/// values to `values`. `None` when nothing can match (a tool name with a space: no tool has
/// one).
fn push_filter(filter: &RunFilter, sql: &mut String, values: &mut Vec<Value>) -> Option<()> {
    let mut push = |condition: &str, value: Value| {
        values.push(value);
        sql.push_str(&format!(" AND {condition} ?{}", values.len()));
    };
    if let Some(status) = filter.status {
        push(
            "status =",
            Value::Text(codec::status_text(status).to_owned()),
        );
    }
    if let Some(user) = &filter.user_id {
        push("user_id =", Value::Text(user.clone()));
    }
    if let Some(session) = &filter.session_id {
        push("session_id =", Value::Text(session.clone()));
    }
    if let Some(before) = filter.updated_before {
        push(
            "updated_at_ms <",
            Value::Integer(ms_i64(fleet::millis(before))),
        );
    }
    if let Some(tool) = &filter.tool_name {
        if tool.contains(' ') {
            return None;
        }
        values.push(Value::Text(format!(" {tool} ")));
        sql.push_str(&format!(" AND instr(tool_names, ?{}) > 0", values.len()));
    }
    Some(())
}

fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The connection thread: one job after the other until every clone of the store is gone.
fn serve(mut conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        // A job that panics rolls its transaction back (the transaction's drop) and drops its
        // reply channel, so its caller gets an error; the next jobs are served as usual.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
    }
}

fn sql_error(location: &str, what: &str, error: rusqlite::Error) -> Error {
    Error::store(format!("SQLite `{location}`: {what}"), error)
}

fn thread_gone(location: &str) -> Error {
    Error::Store {
        message: format!("SQLite `{location}`: the connection's thread has stopped"),
        source: None,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The columns of a run, taken from it before it goes to the connection's thread.
struct Columns {
    run_id: String,
    session_id: String,
    user_id: Option<String>,
    status: &'static str,
    schema_version: u32,
    json: String,
    lease_expires_ms: Option<i64>,
    tool_names: String,
}

impl Columns {
    fn of(run: &RunOutput) -> Result<Self> {
        Ok(Columns {
            run_id: run.run_id.clone(),
            session_id: run.session_id.clone(),
            user_id: run.user_id.clone(),
            status: codec::status_text(run.status),
            schema_version: run.schema_version,
            json: codec::encode_run(run)?,
            lease_expires_ms: codec::lease_expiry_ms(run),
            tool_names: tool_names_text(run),
        })
    }

    /// Replaces the run at `expected` version inside `tx`; how many rows changed (0 or 1).
    fn update(
        &self,
        tx: &rusqlite::Transaction<'_>,
        expected: i64,
        now: i64,
    ) -> rusqlite::Result<usize> {
        tx.prepare_cached(UPDATE_RUN)?.execute(params![
            self.run_id,
            self.session_id,
            self.user_id,
            self.status,
            self.schema_version,
            now,
            self.json,
            expected,
            self.lease_expires_ms,
            self.tool_names,
        ])
    }
}

/// A row as read, before it is decoded (off the connection's thread).
struct RawRow {
    run_id: String,
    version: std::result::Result<u64, String>,
    run: std::result::Result<Vec<u8>, String>,
    seq: u64,
    created_at_ms: u64,
    updated_at_ms: u64,
}

impl RawRow {
    /// Reads the row without trusting its types: whatever is in the file becomes a `RawRow`.
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        let run_id = match row.get_ref(0)? {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                String::from_utf8_lossy(bytes).into_owned()
            }
            ValueRef::Integer(i) => i.to_string(),
            ValueRef::Real(r) => r.to_string(),
            ValueRef::Null => String::new(),
        };
        let version = version_of(row.get_ref(1)?);
        let run = match row.get_ref(2)? {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Ok(bytes.to_vec()),
            other => Err(format!("its data is a {} value", other.data_type())),
        };
        let number = |i: usize| -> rusqlite::Result<u64> {
            Ok(match row.get_ref(i)? {
                ValueRef::Integer(n) => u64::try_from(n).unwrap_or(0),
                _ => 0,
            })
        };
        Ok(RawRow {
            run_id,
            version,
            run,
            seq: number(3)?,
            created_at_ms: number(4)?,
            updated_at_ms: number(5)?,
        })
    }

    fn decode(self) -> Result<StoredRun> {
        let version = self
            .version
            .map_err(|reason| codec::corrupt(&self.run_id, reason))?;
        let data = self
            .run
            .map_err(|reason| codec::corrupt(&self.run_id, reason))?;
        let run = codec::decode_run(&self.run_id, &data)?;
        Ok(StoredRun {
            run,
            version,
            created_at: fleet::from_millis(self.created_at_ms),
            updated_at: fleet::from_millis(self.updated_at_ms),
        })
    }
}

fn version_of(value: ValueRef<'_>) -> std::result::Result<u64, String> {
    match value {
        ValueRef::Integer(v) if v >= 1 => Ok(v.unsigned_abs()),
        ValueRef::Integer(v) => Err(format!("its version is {v}")),
        other => Err(format!("its version is a {} value", other.data_type())),
    }
}

impl RunStore for SqliteStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>> {
        let id = run_id.to_owned();
        let read = self.call(format!("load run `{run_id}`"), move |conn| {
            let mut statement = conn.prepare_cached(SELECT_RUN)?;
            let raw = statement.query_row([&id], RawRow::read).optional()?;
            Ok(Ok(raw))
        });
        async move {
            match read.await? {
                Some(raw) => raw.decode(),
                None => Err(Error::RunNotFound {
                    run_id: run_id.to_owned(),
                }),
            }
        }
        .boxed()
    }

    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>> {
        let columns = match Columns::of(run) {
            Ok(columns) => columns,
            Err(error) => return futures::future::ready(Err(error)).boxed(),
        };
        self.call(format!("create run `{}`", run.run_id), move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.prepare_cached(INSERT_RUN)?.execute(params![
                columns.run_id,
                columns.session_id,
                columns.user_id,
                columns.status,
                columns.schema_version,
                now_ms(),
                columns.json,
                columns.lease_expires_ms,
                columns.tool_names,
            ])?;
            tx.commit()?;
            Ok(if inserted == 1 {
                Ok(1)
            } else {
                Err(Error::RunExists {
                    run_id: columns.run_id,
                })
            })
        })
    }

    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<u64>> {
        let columns = match Columns::of(run) {
            Ok(columns) => columns,
            Err(error) => return futures::future::ready(Err(error)).boxed(),
        };
        self.call(format!("update run `{}`", run.run_id), move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // A version beyond what SQLite stores matches no row: a conflict, like any other.
            let changed = match i64::try_from(expected_version) {
                Ok(expected) => columns.update(&tx, expected, now_ms())?,
                Err(_) => 0,
            };
            let result = if changed == 1 {
                Ok(expected_version + 1)
            } else {
                let found = tx
                    .prepare_cached(SELECT_VERSION)?
                    .query_row([&columns.run_id], |row| {
                        Ok(version_of(row.get_ref(0)?).unwrap_or(0))
                    })
                    .optional()?
                    .unwrap_or(0);
                Err(Error::Conflict {
                    run_id: columns.run_id,
                    expected: expected_version,
                    found,
                })
            };
            tx.commit()?;
            Ok(result)
        })
    }

    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        self.grouped(
            format!("load session `{session_id}`"),
            SELECT_SESSION,
            session_id,
            move |run| {
                (run.session_id != session_id).then(|| format!("session `{}`", run.session_id))
            },
            "session",
        )
    }

    fn user_runs<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        self.grouped(
            format!("load the runs of user `{user_id}`"),
            SELECT_USER,
            user_id,
            move |run| match run.user_id.as_deref() {
                Some(id) if id == user_id => None,
                Some(id) => Some(format!("user `{id}`")),
                None => Some("no user".to_owned()),
            },
            "user",
        )
    }

    fn list_runs<'a>(
        &'a self,
        filter: &'a RunFilter,
        page: &'a PageRequest,
    ) -> BoxFuture<'a, Result<RunPage>> {
        let after = match page.after_seq() {
            Ok(after) => after,
            Err(error) => return futures::future::ready(Err(error)).boxed(),
        };
        let limit = page.effective_limit();
        let mut sql = format!("SELECT {ROW} FROM kern_runs WHERE created_seq > ?1");
        let mut values = vec![Value::Integer(ms_i64(after))];
        if push_filter(filter, &mut sql, &mut values).is_none() {
            return futures::future::ready(Ok(RunPage::of(Vec::new(), limit))).boxed();
        }
        values.push(Value::Integer(ms_i64(limit as u64 + 1)));
        sql.push_str(&format!(" ORDER BY created_seq LIMIT ?{}", values.len()));
        let read = self.call("list runs".to_owned(), move |conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement
                .query_map(params_from_iter(values), RawRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Ok(rows))
        });
        async move {
            let found = read
                .await?
                .into_iter()
                .map(|raw| {
                    let seq = raw.seq;
                    raw.decode().map(|stored| (seq, stored))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RunPage::of(found, limit))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<bool>> {
        let id = run_id.to_owned();
        self.call(format!("delete run `{run_id}`"), move |conn| {
            let deleted = conn.prepare_cached(DELETE_RUN)?.execute([&id])?;
            Ok(Ok(deleted == 1))
        })
    }

    fn purge<'a>(&'a self, policy: &'a Retention) -> BoxFuture<'a, Result<u64>> {
        let (finished, paused) = policy.cutoffs_ms(SystemTime::now());
        self.call("purge runs".to_owned(), move |conn| {
            let deleted = conn
                .prepare_cached(PURGE)?
                .execute(params![ms_i64(finished), paused.map(ms_i64)])?;
            Ok(Ok(deleted as u64))
        })
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> BoxFuture<'a, Result<Option<StoredRun>>> {
        let request = request.clone();
        let now = SystemTime::now();
        let now_ms = ms_i64(fleet::millis(now));
        let mut sql = format!("SELECT {ROW} FROM kern_runs WHERE {CLAIMABLE}");
        let mut values = vec![Value::Integer(now_ms)];
        if push_filter(&request.candidates(), &mut sql, &mut values).is_none() {
            return futures::future::ready(Ok(None)).boxed();
        }
        sql.push_str(" ORDER BY created_seq LIMIT 1");
        self.call(
            format!("claim a run for `{}`", request.worker),
            move |conn| {
                // IMMEDIATE: the write lock is taken before the look-up, so two claimers (of any
                // process) cannot pick the same run.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let raw = tx
                    .prepare_cached(&sql)?
                    .query_row(params_from_iter(values), RawRow::read)
                    .optional()?;
                let Some(raw) = raw else {
                    return Ok(Ok(None));
                };
                let stored = match raw.decode() {
                    Ok(stored) => stored,
                    Err(error) => return Ok(Err(error)),
                };
                let run =
                    fleet::claimed(stored.run, &request, now, crate::agent::id::new_pause_id());
                let columns = match Columns::of(&run) {
                    Ok(columns) => columns,
                    Err(error) => return Ok(Err(error)),
                };
                let expected = ms_i64(stored.version);
                if columns.update(&tx, expected, now_ms)? != 1 {
                    return Ok(Err(Error::Conflict {
                        run_id: run.run_id,
                        expected: stored.version,
                        found: 0,
                    }));
                }
                tx.commit()?;
                Ok(Ok(Some(StoredRun {
                    run,
                    version: stored.version + 1,
                    created_at: stored.created_at,
                    updated_at: fleet::from_millis(fleet::millis(now)),
                })))
            },
        )
    }
}

impl SqliteStore {
    /// The runs a query by one key (a session id, a user id) finds, oldest first. A row whose
    /// data does not name that key (`mismatch` says what it names instead) is corrupt.
    fn grouped<'a>(
        &'a self,
        what: String,
        query: &'static str,
        key: &'a str,
        mismatch: impl Fn(&RunOutput) -> Option<String> + Send + 'a,
        kind: &'static str,
    ) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        let owned = key.to_owned();
        let read = self.call(what, move |conn| {
            let mut statement = conn.prepare_cached(query)?;
            let rows = statement
                .query_map([&owned], RawRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Ok(rows))
        });
        async move {
            read.await?
                .into_iter()
                .map(|raw| {
                    let run_id = raw.run_id.clone();
                    let run = raw.decode()?.run;
                    if let Some(named) = mismatch(&run) {
                        return Err(codec::corrupt(
                            &run_id,
                            format!("it is filed under {kind} `{key}` but its data names {named}"),
                        ));
                    }
                    Ok(run)
                })
                .collect()
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::SCHEMA_VERSION;
    use crate::store::conformance::{self, Damage, paused_run};

    async fn file_store() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        let store = SqliteStore::open(&path).await.unwrap();
        (dir, path, store)
    }

    /// Writes `sql` straight into the file, as another program (or a bad disk) might.
    fn tamper(path: &Path, sql: &str, run_id: &str) {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(BUSY_TIMEOUT).unwrap();
        assert_eq!(conn.execute(sql, [run_id]).unwrap(), 1, "{sql}");
    }

    #[tokio::test]
    async fn corrupt_rows_are_typed_errors_naming_the_run_and_touch_nothing_else() {
        let (_dir, path, store) = file_store().await;
        let future_shape = format!(
            "{{\"schema_version\":{},\"id\":\"x\",\"turns\":[]}}",
            SCHEMA_VERSION + 1
        );
        let cases: Vec<(&str, String, Damage)> = vec![
            ("bad-json", "UPDATE kern_runs SET run = '{\"schema_version\":1,' WHERE run_id = ?1".into(), Damage::Corrupt),
            ("wrong-shape", "UPDATE kern_runs SET run = '{\"schema_version\":1,\"messages\":7}' WHERE run_id = ?1".into(), Damage::Corrupt),
            ("array", "UPDATE kern_runs SET run = '[1,2]' WHERE run_id = ?1".into(), Damage::Corrupt),
            ("not-utf8", "UPDATE kern_runs SET run = X'FFFE00' WHERE run_id = ?1".into(), Damage::Corrupt),
            ("a-number", "UPDATE kern_runs SET run = 42 WHERE run_id = ?1".into(), Damage::Corrupt),
            ("a-real", "UPDATE kern_runs SET run = CAST(4.5 AS REAL) WHERE run_id = ?1".into(), Damage::Corrupt),
            ("other-id", "UPDATE kern_runs SET run = replace(run, run_id, 'someone-else') WHERE run_id = ?1".into(), Damage::Corrupt),
            ("text-version", "UPDATE kern_runs SET version = 'two' WHERE run_id = ?1".into(), Damage::Corrupt),
            ("zero-version", "UPDATE kern_runs SET version = 0 WHERE run_id = ?1".into(), Damage::Corrupt),
            ("future-schema", format!("UPDATE kern_runs SET run = '{future_shape}' WHERE run_id = ?1"), Damage::FutureSchema),
            ("future-schema-same-shape", format!("UPDATE kern_runs SET run = replace(run, '\"schema_version\":{SCHEMA_VERSION}', '\"schema_version\":{}') WHERE run_id = ?1", SCHEMA_VERSION + 7), Damage::FutureSchema),
        ];
        conformance::damaged_rows_are_typed_errors_naming_the_run(
            &store,
            &cases,
            "DELETE FROM kern_runs WHERE run_id = ?1",
            async |sql, run_id| tamper(&path, sql, run_id),
        )
        .await;
    }

    #[tokio::test]
    async fn a_run_filed_under_another_session_or_user_is_corrupt() {
        let (_dir, path, store) = file_store().await;
        conformance::a_run_filed_under_another_session_or_user_is_corrupt(
            &store,
            async |column, value, run_id| {
                let sql = format!("UPDATE kern_runs SET {column} = '{value}' WHERE run_id = ?1");
                tamper(&path, &sql, run_id);
            },
        )
        .await;
    }

    #[tokio::test]
    async fn the_file_is_in_wal_mode_with_kern_tables_and_indexes_for_sessions_and_users() {
        let (_dir, path, store) = file_store().await;
        store.create(&paused_run("r", "s")).await.unwrap();
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let plan: String = conn
            .query_row(
                &format!("EXPLAIN QUERY PLAN {SELECT_SESSION}"),
                ["s"],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("kern_runs_by_session"), "{plan}");
        let plan: String = conn
            .query_row(&format!("EXPLAIN QUERY PLAN {SELECT_USER}"), ["u"], |r| {
                r.get(3)
            })
            .unwrap();
        assert!(plan.contains("kern_runs_by_user"), "{plan}");
        let (session, user, status, schema, version): (String, Option<String>, String, u32, i64) =
            conn.query_row(
                "SELECT session_id, user_id, status, schema_version, version FROM kern_runs \
                 WHERE run_id = 'r'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            (session.as_str(), user, status.as_str(), schema, version),
            ("s", None, "paused", SCHEMA_VERSION, 1)
        );
    }

    #[tokio::test]
    async fn the_connection_uses_normal_sync_and_a_busy_timeout() {
        let (_dir, _path, store) = file_store().await;
        let (sync, timeout) = store
            .call("read pragmas".to_owned(), |conn| {
                let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
                let timeout: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
                Ok(Ok((sync, timeout)))
            })
            .await
            .unwrap();
        assert_eq!(sync, 1, "synchronous = NORMAL");
        assert_eq!(timeout, 5000);
    }

    #[tokio::test]
    async fn a_write_waits_for_another_connections_write_without_blocking_the_runtime() {
        let (_dir, path, store) = file_store().await;
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            let released = std::time::Instant::now();
            tx.commit().unwrap();
            released
        });
        locked_rx.recv().unwrap();
        // The file is write-locked now; the create waits for the lock instead of failing, and
        // this (single-threaded) runtime goes on running other tasks meanwhile.
        let run = paused_run("waits", "s");
        let ticker = async {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            std::time::Instant::now()
        };
        let (created, ticked) = tokio::join!(store.create(&run), ticker);
        assert_eq!(created.unwrap(), 1);
        let released = holder.join().unwrap();
        assert!(
            ticked < released,
            "the runtime was blocked while the write waited for the lock"
        );
        assert_eq!(store.load("waits").await.unwrap().version, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn separate_connections_racing_on_one_file_one_wins() {
        let (_dir, path, store) = file_store().await;
        let run = paused_run("raced", "s");
        store.create(&run).await.unwrap();
        let mut stores = vec![store];
        for _ in 0..5 {
            stores.push(SqliteStore::open(&path).await.unwrap());
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(stores.len()));
        let tasks: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, store)| {
                let barrier = barrier.clone();
                let mut mine = run.clone();
                mine.content = Some(format!("connection {i}"));
                tokio::spawn(async move {
                    barrier.wait().await;
                    (mine.clone(), store.update(&mine, 1).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (mine, Ok(2)) => winners.push(mine),
                (_, Err(Error::Conflict { found: 2, .. })) => {}
                (_, other) => panic!("{other:?}"),
            }
        }
        assert_eq!(winners.len(), 1);
        let reread = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reread.load("raced").await.unwrap().run, winners[0]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_stores_opening_a_new_file_at_once_all_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.db");
        let stores = futures::future::join_all((0..8).map(|_| SqliteStore::open(&path))).await;
        let stores: Vec<SqliteStore> = stores.into_iter().map(|s| s.unwrap()).collect();
        for (i, store) in stores.iter().enumerate() {
            store
                .create(&paused_run(&format!("r{i}"), "s"))
                .await
                .unwrap();
        }
        let runs = stores[0].session_runs("s").await.unwrap();
        let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]);
    }

    #[tokio::test]
    async fn runs_survive_reopening_the_file() {
        let (_dir, path, store) = file_store().await;
        let run = paused_run("kept", "s");
        store.create(&run).await.unwrap();
        drop(store);
        let store = SqliteStore::open(&path).await.unwrap();
        let stored = store.load("kept").await.unwrap();
        assert_eq!((stored.run, stored.version), (run, 1));
    }

    #[tokio::test]
    async fn a_file_of_layout_1_is_upgraded_and_its_waiting_runs_are_found_by_tool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let run = paused_run("old-pause", "s");
        {
            // A file as kern wrote it before layout 2.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(CREATE_TABLES).unwrap();
            conn.execute(
                "INSERT INTO kern_meta (key, value) VALUES ('layout_version', 1)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO kern_runs (run_id, session_id, user_id, status, schema_version, \
                 version, created_seq, created_at_ms, updated_at_ms, run) \
                 VALUES ('old-pause', 's', NULL, 'paused', 2, 1, 1, 1000, 1000, ?1)",
                [codec::encode_run(&run).unwrap()],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).await.unwrap();
        let layout: i64 = Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT value FROM kern_meta WHERE key = 'layout_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(layout, LAYOUT_VERSION);
        let page = store
            .list_runs(
                &RunFilter::paused().tool("execute_shell_command"),
                &PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(page.runs.len(), 1, "the old run's tools were filled in");
        assert_eq!(page.runs[0].run, run);
        assert_eq!(page.runs[0].created_at, fleet::from_millis(1000));
        let request = ClaimRequest::new("w", Duration::from_secs(60))
            .filter(RunFilter::default().tool("execute_shell_command"));
        let claimed = store.claim(&request).await.unwrap().unwrap();
        assert_eq!(claimed.run.run_id, "old-pause");
        // Reopening the upgraded file changes nothing.
        drop(store);
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.load("old-pause").await.unwrap(), claimed);
    }

    #[tokio::test]
    async fn listings_and_claims_use_the_status_index() {
        let (_dir, path, store) = file_store().await;
        store.create(&paused_run("r", "s")).await.unwrap();
        let conn = Connection::open(&path).unwrap();
        let plan = |sql: &str| -> String {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = statement
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            rows.join("; ")
        };
        let listing = plan(&format!(
            "SELECT {ROW} FROM kern_runs WHERE created_seq > 0 AND status = 'paused' \
             ORDER BY created_seq LIMIT 101"
        ));
        assert!(listing.contains("kern_runs_by_status"), "{listing}");
        let claim = plan(&format!(
            "SELECT {ROW} FROM kern_runs WHERE {} ORDER BY created_seq LIMIT 1",
            CLAIMABLE.replace("?1", "0")
        ));
        assert!(
            claim.contains("USING INDEX kern_runs_by_status")
                || claim.contains("USING INDEX kern_runs_by_lease"),
            "{claim}"
        );
    }

    #[tokio::test]
    async fn a_newer_table_layout_is_refused() {
        let (_dir, path, store) = file_store().await;
        drop(store);
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE kern_meta SET value = 99 WHERE key = 'layout_version'",
                [],
            )
            .unwrap();
        match SqliteStore::open(&path).await {
            Err(Error::Store { message, .. }) => {
                assert!(message.contains("layout version 99"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_a_store_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-db");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        match SqliteStore::open(&path).await {
            Err(Error::Store { message, source }) => {
                assert!(message.contains("not-a-db"), "{message}");
                assert!(source.is_some());
            }
            other => panic!("{other:?}"),
        }
        let missing_dir = dir.path().join("no/such/dir/runs.db");
        assert!(matches!(
            SqliteStore::open(&missing_dir).await,
            Err(Error::Store { .. })
        ));
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_the_store_working() {
        let store = SqliteStore::open_in_memory().unwrap();
        let failed = store
            .call("panic".to_owned(), |conn| -> rusqlite::Result<Result<()>> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM kern_runs", [])?;
                panic!("a bug in a job")
            })
            .await;
        assert!(matches!(failed, Err(Error::Store { .. })), "{failed:?}");
        let run = paused_run("after-panic", "s");
        store.create(&run).await.unwrap();
        assert_eq!(store.load("after-panic").await.unwrap().run, run);
    }

    #[tokio::test]
    async fn clones_share_the_runs() {
        let store = SqliteStore::open_in_memory().unwrap();
        let clone = store.clone();
        store.create(&paused_run("shared", "s")).await.unwrap();
        assert_eq!(clone.load("shared").await.unwrap().version, 1);
        assert!(format!("{store:?}").contains(":memory:"));
    }
}
