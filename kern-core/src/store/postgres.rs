//! [`PostgresStore`]: runs in a PostgreSQL database, shared by every process (on every machine)
//! that connects to it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::future::{BoxFuture, FutureExt};
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::fleet::{self, ClaimRequest, PageRequest, Retention, RunFilter, RunPage};
use super::{RunStore, StoredRun, codec};
use crate::error::{Error, Result};
use crate::run::RunOutput;

/// The versioned changes to kern's tables, applied in order by [`PostgresStore::connect`];
/// `{schema}` stands for the schema prefix (empty, or `"name".`). A migration, once released, is
/// never edited: a change is a new one at the end.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "kern_runs",
        sql: "
CREATE TABLE {schema}kern_runs (
    run_id         TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL,
    user_id        TEXT,
    status         TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    created_seq    BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    run            TEXT NOT NULL
);
CREATE INDEX kern_runs_by_session ON {schema}kern_runs (session_id, created_seq);
CREATE INDEX kern_runs_by_user ON {schema}kern_runs (user_id, created_seq);
",
    },
    // What a fleet filters on: the lease expiry, the tools a run waits on (an array with a GIN
    // index: a run waits on a few tools, and `@>` finds a tool's runs through the index without
    // a side table to keep in step), and indexes by status for listings and claims in creation
    // order, by lease and by age.
    Migration {
        version: 2,
        name: "fleet",
        sql: "
ALTER TABLE {schema}kern_runs
    ADD COLUMN lease_expires_ms BIGINT,
    ADD COLUMN tool_names TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX kern_runs_by_status ON {schema}kern_runs (status, created_seq);
CREATE INDEX kern_runs_by_lease ON {schema}kern_runs (status, lease_expires_ms);
CREATE INDEX kern_runs_by_updated ON {schema}kern_runs (status, updated_at);
CREATE INDEX kern_runs_by_tool ON {schema}kern_runs USING GIN (tool_names);
",
    },
    // The runs that wait, in creation order: what claims and inbox listings walk. The planner
    // does not need fresh statistics to pick it: on a table whose statistics still say most
    // runs are paused (a burst of pauses, drained before autovacuum's next ANALYZE), it walked
    // the `created_seq` key instead, past every finished run, on each claim (17 ms at 20,000
    // runs instead of 0.05 ms).
    Migration {
        version: 3,
        name: "waiting_runs",
        sql: "
CREATE INDEX kern_runs_waiting ON {schema}kern_runs (created_seq)
    WHERE status IN ('paused', 'running');
",
    },
];

/// The table of the [`MIGRATIONS`] applied, by version.
const MIGRATIONS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS {schema}kern_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// One step of [`MIGRATIONS`].
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// The advisory lock (of the whole database) that every store holds while it migrates, so
/// processes starting at once apply each migration once, one after the other. The bytes of
/// "kernmigr".
const MIGRATION_LOCK: i64 = 0x6b65_726e_6d69_6772;

/// How long a connection attempt waits before it fails, unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an operation waits for a free connection of the pool before it fails.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// How a [`PostgresStore`] connects: the schema of its tables and the size of its pool.
///
/// ```
/// let options = kern_core::PostgresOptions::new().schema("agents").max_connections(8);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    schema: Option<String>,
    max_connections: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            max_connections: 16,
        }
    }
}

impl PostgresOptions {
    /// The defaults: the tables in the connection's current schema (its `search_path`, usually
    /// `public`), up to 16 connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps kern's tables in `schema` (any name: it is quoted), created if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// At most `max` connections open at once (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }
}

/// Runs kept in PostgreSQL: the store for a fleet of workers that share paused runs.
///
/// Any number of stores, in any number of processes on any number of machines, may use the same
/// database; a continue started by one of them and a continue started by another cannot both
/// apply to the same pause, because [`update`](RunStore::update) is a compare-and-set on the
/// run's version in one `UPDATE … WHERE version = $expected` statement.
///
/// # Tables
///
/// The store creates and migrates its own tables when it connects: `kern_runs` (one row a run:
/// its id, session, user, status, schema version, version and creation order as columns, the run
/// itself as JSON text) and `kern_migrations` (the migrations applied, by version). The
/// migrations run in one transaction under an advisory lock, so stores connecting at once apply
/// each of them exactly once; a database migrated by a newer kern (a migration this kern does
/// not know) is refused with [`Error::Store`] rather than misread. The tables live in the schema
/// of [`PostgresOptions::schema`] or the connection's current one, so the database may hold the
/// host's own tables too.
///
/// The run is kept as text, not `jsonb`: it is read back exactly as written, and `jsonb` refuses
/// strings with a NUL character (`\u0000`), which model output may hold.
///
/// # Connections
///
/// A pool of connections (16 by default, [`PostgresOptions::max_connections`]), without TLS: for
/// a server on loopback, a Unix socket, or a trusted network. Clones share the pool. Every
/// failure of the server or the network is an [`Error::Store`] naming the server (never its
/// password) and what was being done.
///
/// # Example
///
/// ```no_run
/// use kern_core::{Agent, PostgresStore, RunStore, TestModel};
///
/// # async fn f() -> kern_core::Result<()> {
/// let url = "postgresql://kern@127.0.0.1:5432/kern";
/// let agent = Agent::builder()
///     .model(TestModel::new())
///     .store(PostgresStore::connect(url).await?)
///     .build()?;
/// let run = agent.run("Hello").await?;
///
/// // Another process, on another machine, finds the run by its id.
/// let elsewhere = PostgresStore::connect(url).await?;
/// assert_eq!(elsewhere.load(&run.run_id).await?.run, run);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    sql: Arc<Statements>,
    location: Arc<str>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &&*self.location)
            .finish_non_exhaustive()
    }
}

/// The statements of one store, for its schema.
struct Statements {
    runs: String,
    insert: String,
    update: String,
    select_version: String,
    select_run: String,
    select_session: String,
    select_user: String,
    delete: String,
    purge: String,
}

/// The columns [`RawRow::read`] reads, in its order.
const ROW: &str = "run_id, version, run, created_seq, created_at, updated_at";

impl Statements {
    fn new(prefix: &str) -> Self {
        let runs = format!("{prefix}kern_runs");
        Statements {
            insert: format!(
                "INSERT INTO {runs} (run_id, session_id, user_id, status, schema_version, \
                 version, run, lease_expires_ms, tool_names) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8) ON CONFLICT (run_id) DO NOTHING"
            ),
            update: format!(
                "UPDATE {runs} SET session_id = $2, user_id = $3, status = $4, \
                 schema_version = $5, version = version + 1, updated_at = now(), run = $6, \
                 lease_expires_ms = $8, tool_names = $9 \
                 WHERE run_id = $1 AND version = $7"
            ),
            select_version: format!("SELECT version FROM {runs} WHERE run_id = $1"),
            select_run: format!("SELECT {ROW} FROM {runs} WHERE run_id = $1"),
            select_session: format!(
                "SELECT {ROW} FROM {runs} WHERE session_id = $1 ORDER BY created_seq"
            ),
            select_user: format!(
                "SELECT {ROW} FROM {runs} WHERE user_id = $1 ORDER BY created_seq"
            ),
            delete: format!("DELETE FROM {runs} WHERE run_id = $1"),
            purge: format!(
                "DELETE FROM {runs} WHERE \
                 (status IN ('completed', 'turn_limit_reached', 'failed') \
                  AND updated_at < now() - make_interval(secs => $1)) \
                 OR ($2::float8 IS NOT NULL AND status = 'paused' \
                  AND updated_at < now() - make_interval(secs => $2))"
            ),
            runs,
        }
    }
}

/// A query's parameters, of any types.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// Appends the conditions of `filter` to `sql` (a query with a `WHERE` already), with their
/// values to `params`.
fn push_filter(filter: &RunFilter, sql: &mut String, params: &mut Params) {
    if let Some(status) = filter.status {
        // A literal (the status is one of kern's names), not a parameter: the planner then
        // knows a paused listing is within `kern_runs_waiting` even in a generic plan.
        sql.push_str(&format!(" AND status = '{}'", codec::status_text(status)));
    }
    let mut push = |condition: &str, value: Box<dyn ToSql + Sync + Send>| {
        params.push(value);
        sql.push_str(&format!(" AND {condition}${}", params.len()));
    };
    if let Some(user) = &filter.user_id {
        push("user_id = ", Box::new(user.clone()));
    }
    if let Some(session) = &filter.session_id {
        push("session_id = ", Box::new(session.clone()));
    }
    if let Some(before) = filter.updated_before {
        push("updated_at < ", Box::new(before));
    }
    if let Some(tool) = &filter.tool_name {
        push("tool_names @> ", Box::new(vec![tool.clone()]));
    }
}

fn param_refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// `"name"`: any name as one SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"name".`: a schema as an SQL prefix.
fn schema_prefix(schema: &str) -> String {
    format!("{}.", quote_identifier(schema))
}

/// Where a configuration points, for messages: hosts, ports and database, never the password.
fn location_of(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    let mut location = if hosts.is_empty() {
        "localhost".to_owned()
    } else {
        hosts.join(",")
    };
    if !ports.is_empty() {
        location.push(':');
        location.push_str(&ports.join(","));
    }
    location.push('/');
    location.push_str(
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default(),
    );
    location
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgresql://user[:password]@host[:port]/database`,
    /// or libpq's `key=value` form) and brings kern's tables up to date, with the default
    /// [`PostgresOptions`].
    ///
    /// Fails with [`Error::Store`] when the URL is not one, the server cannot be reached or
    /// refuses the login, or its kern tables are of a newer layout than this kern knows.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// [`connect`](Self::connect) with `options`: the schema of the tables, the size of the pool.
    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            // The error names what is wrong without repeating the URL (it may hold a password).
            Error::store(
                "PostgreSQL: the URL is not a PostgreSQL connection string",
                e,
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut location = location_of(&config);
        let prefix = match &options.schema {
            Some(schema) => {
                location.push_str(&format!(" (schema \"{schema}\")"));
                schema_prefix(schema)
            }
            None => String::new(),
        };
        let location: Arc<str> = location.into();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| Error::store(format!("PostgreSQL `{location}`: build the pool"), e))?;
        let store = PostgresStore {
            pool,
            sql: Arc::new(Statements::new(&prefix)),
            location,
        };
        store.migrate(options.schema.as_deref(), &prefix).await?;
        tracing::debug!(location = %store.location, "PostgreSQL store connected");
        Ok(store)
    }

    /// The query of a claim at `now_ms`: the oldest claimable run that passes the request's
    /// filter, locked. SKIP LOCKED: a run another claimer has locked is passed over, not
    /// waited for, so claimers at once take different runs.
    fn claim_query(&self, request: &ClaimRequest, now_ms: i64) -> (String, Params) {
        let mut sql = format!(
            "SELECT {ROW} FROM {} WHERE status IN ('paused', 'running') AND \
             ((status = 'paused' AND (lease_expires_ms IS NULL OR lease_expires_ms <= $1)) \
              OR (status = 'running' AND lease_expires_ms <= $1))",
            self.sql.runs
        );
        let mut params: Params = vec![Box::new(now_ms)];
        push_filter(&request.candidates(), &mut sql, &mut params);
        sql.push_str(" ORDER BY created_seq LIMIT 1 FOR UPDATE SKIP LOCKED");
        (sql, params)
    }

    /// The query of one page of a listing: one run more than the page holds, to know whether
    /// another page follows.
    fn list_query(&self, filter: &RunFilter, page: &PageRequest) -> Result<(String, Params)> {
        let after = i64::try_from(page.after_seq()?).unwrap_or(i64::MAX);
        let mut sql = format!("SELECT {ROW} FROM {} WHERE created_seq > $1", self.sql.runs);
        let mut params: Params = vec![Box::new(after)];
        push_filter(filter, &mut sql, &mut params);
        params.push(Box::new(page.effective_limit() as i64 + 1));
        sql.push_str(&format!(" ORDER BY created_seq LIMIT ${}", params.len()));
        Ok((sql, params))
    }

    /// Applies the migrations this database lacks, in one transaction under
    /// [`MIGRATION_LOCK`].
    async fn migrate(&self, schema: Option<&str>, prefix: &str) -> Result<()> {
        let what = "migrate kern's tables";
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| self.error(what, e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| self.error("take the migration lock", e))?;
        if let Some(schema) = schema {
            // Looked up first: CREATE SCHEMA checks the right to create one even when it exists,
            // and a host may give kern a schema made for it without that right.
            let exists: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                    &[&schema],
                )
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| self.error("look the schema up", e))?;
            if !exists {
                tx.batch_execute(&format!("CREATE SCHEMA {}", quote_identifier(schema)))
                    .await
                    .map_err(|e| self.error("create the schema", e))?;
            }
        }
        tx.batch_execute(&MIGRATIONS_TABLE.replace("{schema}", prefix))
            .await
            .map_err(|e| self.error(what, e))?;
        let applied: i32 = tx
            .query_one(
                &format!("SELECT COALESCE(MAX(version), 0) FROM {prefix}kern_migrations"),
                &[],
            )
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| self.error(what, e))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        if applied > known {
            return Err(Error::Store {
                message: format!(
                    "PostgreSQL `{}`: kern's tables are at migration {applied}; this kern knows \
                     migrations up to {known}",
                    self.location
                ),
                source: None,
            });
        }
        for migration in MIGRATIONS.iter().filter(|m| m.version > applied) {
            let step = format!("apply migration {} ({})", migration.version, migration.name);
            tx.batch_execute(&migration.sql.replace("{schema}", prefix))
                .await
                .map_err(|e| self.error(&step, e))?;
            if migration.version == 2 {
                self.fill_fleet_columns(&tx, prefix)
                    .await
                    .map_err(|e| self.error(&step, e))?;
            }
            tx.execute(
                &format!("INSERT INTO {prefix}kern_migrations (version, name) VALUES ($1, $2)"),
                &[&migration.version, &migration.name],
            )
            .await
            .map_err(|e| self.error(&step, e))?;
            tracing::info!(location = %self.location, version = migration.version,
                name = migration.name, "PostgreSQL migration applied");
        }
        tx.commit().await.map_err(|e| self.error(what, e))
    }

    /// Fills the columns migration 2 added for the runs that wait: the tools they wait on and
    /// their lease. A row that does not decode keeps them empty (reading it reports it).
    async fn fill_fleet_columns(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        prefix: &str,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        let rows = tx
            .query(
                &format!(
                    "SELECT run_id, run FROM {prefix}kern_runs \
                     WHERE status IN ('paused', 'running')"
                ),
                &[],
            )
            .await?;
        let update = format!(
            "UPDATE {prefix}kern_runs SET tool_names = $2, lease_expires_ms = $3 \
             WHERE run_id = $1"
        );
        for row in rows {
            let (Ok(run_id), Ok(data)) = (row.try_get::<_, String>(0), row.try_get::<_, String>(1))
            else {
                continue;
            };
            if let Ok(run) = codec::decode_run(&run_id, data.as_bytes()) {
                tx.execute(
                    &update,
                    &[
                        &run_id,
                        &codec::tool_names(&run),
                        &codec::lease_expiry_ms(&run),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// A connection of the pool.
    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| {
            Error::store(
                format!("PostgreSQL `{}`: get a connection", self.location),
                e,
            )
        })
    }

    fn error(&self, what: &str, error: tokio_postgres::Error) -> Error {
        Error::store(format!("PostgreSQL `{}`: {what}", self.location), error)
    }

    /// The rows `sql` finds for `key`, undecoded.
    async fn rows(&self, what: &str, sql: &str, key: &str) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(sql)
            .await
            .map_err(|e| self.error(what, e))?;
        client
            .query(&statement, &[&key])
            .await
            .map_err(|e| self.error(what, e))
    }

    /// The runs a query by one key (a session id, a user id) finds, oldest first. A row whose
    /// data does not name that key (`mismatch` says what it names instead) is corrupt.
    async fn grouped(
        &self,
        what: String,
        sql: &str,
        key: &str,
        mismatch: impl Fn(&RunOutput) -> Option<String>,
        kind: &str,
    ) -> Result<Vec<RunOutput>> {
        self.rows(&what, sql, key)
            .await?
            .iter()
            .map(|row| {
                let raw = RawRow::read(row);
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
}

/// The columns of a run.
struct Columns {
    status: &'static str,
    schema_version: i64,
    json: String,
    lease_expires_ms: Option<i64>,
    tool_names: Vec<String>,
}

impl Columns {
    fn of(run: &RunOutput) -> Result<Self> {
        Ok(Columns {
            status: codec::status_text(run.status),
            schema_version: i64::from(run.schema_version),
            json: codec::encode_run(run)?,
            lease_expires_ms: codec::lease_expiry_ms(run),
            tool_names: codec::tool_names(run),
        })
    }
}

/// A row as read, before it is decoded: whatever the table holds becomes a `RawRow`.
struct RawRow {
    run_id: String,
    version: std::result::Result<u64, String>,
    run: std::result::Result<String, String>,
    seq: u64,
    created_at: SystemTime,
    updated_at: SystemTime,
}

impl RawRow {
    fn read(row: &Row) -> Self {
        let run_id = row.try_get::<_, String>(0).unwrap_or_default();
        let version = match row.try_get::<_, Option<i64>>(1) {
            Ok(Some(v)) if v >= 1 => Ok(v.unsigned_abs()),
            Ok(Some(v)) => Err(format!("its version is {v}")),
            Ok(None) => Err("its version is NULL".to_owned()),
            Err(e) => Err(format!("its version cannot be read: {e}")),
        };
        let run = match row.try_get::<_, Option<String>>(2) {
            Ok(Some(data)) => Ok(data),
            Ok(None) => Err("its data is NULL".to_owned()),
            Err(e) => Err(format!("its data cannot be read: {e}")),
        };
        let time = |i: usize| {
            row.try_get::<_, SystemTime>(i)
                .unwrap_or(std::time::UNIX_EPOCH)
        };
        RawRow {
            run_id,
            version,
            run,
            seq: row
                .try_get::<_, i64>(3)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            created_at: time(4),
            updated_at: time(5),
        }
    }

    fn decode(self) -> Result<StoredRun> {
        let version = self
            .version
            .map_err(|reason| codec::corrupt(&self.run_id, reason))?;
        let data = self
            .run
            .map_err(|reason| codec::corrupt(&self.run_id, reason))?;
        let run = codec::decode_run(&self.run_id, data.as_bytes())?;
        Ok(StoredRun {
            run,
            version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl RunStore for PostgresStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<StoredRun>> {
        async move {
            let what = format!("load run `{run_id}`");
            let rows = self.rows(&what, &self.sql.select_run, run_id).await?;
            match rows.first() {
                Some(row) => RawRow::read(row).decode(),
                None => Err(Error::RunNotFound {
                    run_id: run_id.to_owned(),
                }),
            }
        }
        .boxed()
    }

    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, Result<u64>> {
        async move {
            let columns = Columns::of(run)?;
            let what = format!("create run `{}`", run.run_id);
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&self.sql.insert)
                .await
                .map_err(|e| self.error(&what, e))?;
            let inserted = client
                .execute(
                    &statement,
                    &[
                        &run.run_id,
                        &run.session_id,
                        &run.user_id,
                        &columns.status,
                        &columns.schema_version,
                        &columns.json,
                        &columns.lease_expires_ms,
                        &columns.tool_names,
                    ],
                )
                .await
                .map_err(|e| self.error(&what, e))?;
            if inserted == 1 {
                Ok(1)
            } else {
                Err(Error::RunExists {
                    run_id: run.run_id.clone(),
                })
            }
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<u64>> {
        async move {
            let columns = Columns::of(run)?;
            let what = format!("update run `{}`", run.run_id);
            let client = self.client().await?;
            // A version beyond what the column holds matches no row: a conflict, like any other.
            let changed = match i64::try_from(expected_version) {
                Ok(expected) => {
                    let statement = client
                        .prepare_cached(&self.sql.update)
                        .await
                        .map_err(|e| self.error(&what, e))?;
                    client
                        .execute(
                            &statement,
                            &[
                                &run.run_id,
                                &run.session_id,
                                &run.user_id,
                                &columns.status,
                                &columns.schema_version,
                                &columns.json,
                                &expected,
                                &columns.lease_expires_ms,
                                &columns.tool_names,
                            ],
                        )
                        .await
                        .map_err(|e| self.error(&what, e))?
                }
                Err(_) => 0,
            };
            if changed == 1 {
                return Ok(expected_version + 1);
            }
            // Read after the failed update (a statement of its own, so a snapshot of its own):
            // the version that the winner of a race committed.
            let statement = client
                .prepare_cached(&self.sql.select_version)
                .await
                .map_err(|e| self.error(&what, e))?;
            let found = client
                .query_opt(&statement, &[&run.run_id])
                .await
                .map_err(|e| self.error(&what, e))?
                .and_then(|row| row.try_get::<_, i64>(0).ok())
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0);
            Err(Error::Conflict {
                run_id: run.run_id.clone(),
                expected: expected_version,
                found,
            })
        }
        .boxed()
    }

    fn session_runs<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        self.grouped(
            format!("load session `{session_id}`"),
            &self.sql.select_session,
            session_id,
            move |run| {
                (run.session_id != session_id).then(|| format!("session `{}`", run.session_id))
            },
            "session",
        )
        .boxed()
    }

    fn user_runs<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<Vec<RunOutput>>> {
        self.grouped(
            format!("load the runs of user `{user_id}`"),
            &self.sql.select_user,
            user_id,
            move |run| match run.user_id.as_deref() {
                Some(id) if id == user_id => None,
                Some(id) => Some(format!("user `{id}`")),
                None => Some("no user".to_owned()),
            },
            "user",
        )
        .boxed()
    }

    fn list_runs<'a>(
        &'a self,
        filter: &'a RunFilter,
        page: &'a PageRequest,
    ) -> BoxFuture<'a, Result<RunPage>> {
        async move {
            let limit = page.effective_limit();
            let (sql, params) = self.list_query(filter, page)?;
            let what = "list runs";
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| self.error(what, e))?;
            let rows = client
                .query(&statement, &param_refs(&params))
                .await
                .map_err(|e| self.error(what, e))?;
            let found = rows
                .iter()
                .map(|row| {
                    let raw = RawRow::read(row);
                    let seq = raw.seq;
                    raw.decode().map(|stored| (seq, stored))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RunPage::of(found, limit))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, Result<bool>> {
        async move {
            let what = format!("delete run `{run_id}`");
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&self.sql.delete)
                .await
                .map_err(|e| self.error(&what, e))?;
            let deleted = client
                .execute(&statement, &[&run_id])
                .await
                .map_err(|e| self.error(&what, e))?;
            Ok(deleted == 1)
        }
        .boxed()
    }

    fn purge<'a>(&'a self, policy: &'a Retention) -> BoxFuture<'a, Result<u64>> {
        async move {
            let what = "purge runs";
            let finished = policy.keep_finished.as_secs_f64();
            let paused = policy.keep_paused.map(|d| d.as_secs_f64());
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&self.sql.purge)
                .await
                .map_err(|e| self.error(what, e))?;
            client
                .execute(&statement, &[&finished, &paused])
                .await
                .map_err(|e| self.error(what, e))
        }
        .boxed()
    }

    fn claim<'a>(&'a self, request: &'a ClaimRequest) -> BoxFuture<'a, Result<Option<StoredRun>>> {
        async move {
            let what = format!("claim a run for `{}`", request.worker);
            let mut client = self.client().await?;
            let tx = client
                .transaction()
                .await
                .map_err(|e| self.error(&what, e))?;
            // The server's clock, one for every worker of the fleet: the lease is taken and
            // checked by it.
            let now: SystemTime = tx
                .query_one("SELECT now()", &[])
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| self.error(&what, e))?;
            let now_ms = i64::try_from(fleet::millis(now)).unwrap_or(i64::MAX);
            let (sql, params) = self.claim_query(request, now_ms);
            let statement = tx
                .prepare_cached(&sql)
                .await
                .map_err(|e| self.error(&what, e))?;
            let Some(row) = tx
                .query_opt(&statement, &param_refs(&params))
                .await
                .map_err(|e| self.error(&what, e))?
            else {
                return Ok(None);
            };
            let stored = RawRow::read(&row).decode()?;
            let run = fleet::claimed(stored.run, request, now, crate::agent::id::new_pause_id());
            let columns = Columns::of(&run)?;
            let statement = tx
                .prepare_cached(&self.sql.update)
                .await
                .map_err(|e| self.error(&what, e))?;
            let expected = i64::try_from(stored.version).unwrap_or(i64::MAX);
            tx.execute(
                &statement,
                &[
                    &run.run_id,
                    &run.session_id,
                    &run.user_id,
                    &columns.status,
                    &columns.schema_version,
                    &columns.json,
                    &expected,
                    &columns.lease_expires_ms,
                    &columns.tool_names,
                ],
            )
            .await
            .map_err(|e| self.error(&what, e))?;
            tx.commit().await.map_err(|e| self.error(&what, e))?;
            Ok(Some(StoredRun {
                run,
                version: stored.version + 1,
                created_at: stored.created_at,
                updated_at: now,
            }))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::run::SCHEMA_VERSION;
    use crate::store::conformance::{self, Damage, paused_run, run_all};

    /// The variable that names the test server.
    const URL_VAR: &str = "KERN_TEST_POSTGRES_URL";

    /// The test server's URL, or `None` after saying (past the test harness's capture) why the
    /// test does not run.
    fn server_url(test: &str) -> Option<String> {
        match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                // One write of the whole line, past the harness's capture of `eprintln!`.
                let line = format!(
                    "{test}: skipped: {URL_VAR} is not set; scripts/postgres.sh starts a server\n"
                );
                let _ = std::io::stderr().write_all(line.as_bytes());
                None
            }
        }
    }

    /// A schema of its own for one test, so tests run side by side on one server.
    struct TestSchema {
        url: String,
        name: String,
    }

    impl TestSchema {
        fn new(test: &str) -> Option<Self> {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let url = server_url(test)?;
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let name = format!(
                "kern_test_{}_{nanos}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            Some(TestSchema { url, name })
        }

        fn options(&self) -> PostgresOptions {
            PostgresOptions::new().schema(&self.name)
        }

        async fn store(&self) -> PostgresStore {
            PostgresStore::connect_with(&self.url, self.options())
                .await
                .unwrap()
        }

        /// A plain connection, to look at or damage the tables as another program might.
        async fn raw(&self) -> tokio_postgres::Client {
            let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
            tokio::spawn(connection);
            client
                .batch_execute(&format!("SET search_path TO \"{}\"", self.name))
                .await
                .unwrap();
            client
        }

        async fn drop_schema(self) {
            let client = self.raw().await;
            client
                .batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", self.name))
                .await
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_store_conforms() {
        let Some(schema) = TestSchema::new("postgres_store_conforms") else {
            return;
        };
        run_all(schema.store().await).await;
        // And again with another store (another pool) on the same tables, with the runs of the
        // first pass in them.
        run_all(schema.store().await).await;
        schema.drop_schema().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_store_conforms_in_the_connections_own_schema() {
        // Without a schema option the tables go where the connection's search_path says: here a
        // fresh schema named in the URL's options.
        let Some(schema) = TestSchema::new("postgres_store_conforms_in_the_connections_own_schema")
        else {
            return;
        };
        schema
            .raw()
            .await
            .batch_execute(&format!("CREATE SCHEMA \"{}\"", schema.name))
            .await
            .unwrap();
        let separator = if schema.url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{separator}options=-c%20search_path%3D{}",
            schema.url, schema.name
        );
        run_all(PostgresStore::connect(&url).await.unwrap()).await;
        let tables: i64 = schema
            .raw()
            .await
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = $1 \
                 AND tablename IN ('kern_runs', 'kern_migrations')",
                &[&schema.name],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 2);
        schema.drop_schema().await;
    }

    /// `sql` with `$1` = `run_id`, on the test's tables, as another program (or a bad disk)
    /// might write it.
    async fn tamper(client: &tokio_postgres::Client, sql: &str, run_id: &str) {
        assert_eq!(client.execute(sql, &[&run_id]).await.unwrap(), 1, "{sql}");
    }

    #[tokio::test]
    async fn corrupt_rows_are_typed_errors_naming_the_run_and_touch_nothing_else() {
        let Some(schema) =
            TestSchema::new("corrupt_rows_are_typed_errors_naming_the_run_and_touch_nothing_else")
        else {
            return;
        };
        let store = schema.store().await;
        let raw = schema.raw().await;
        let future_shape = format!(
            "{{\"schema_version\":{},\"id\":\"x\",\"turns\":[]}}",
            SCHEMA_VERSION + 1
        );
        let set_run = |data: &str| format!("UPDATE kern_runs SET run = '{data}' WHERE run_id = $1");
        let cases: Vec<(&str, String, Damage)> = vec![
            (
                "bad-json",
                set_run("{\"schema_version\":1,"),
                Damage::Corrupt,
            ),
            (
                "wrong-shape",
                set_run("{\"schema_version\":1,\"messages\":7}"),
                Damage::Corrupt,
            ),
            ("array", set_run("[1,2]"), Damage::Corrupt),
            ("a-number", set_run("42"), Damage::Corrupt),
            ("empty", set_run(""), Damage::Corrupt),
            (
                "other-id",
                "UPDATE kern_runs SET run = replace(run, run_id, 'someone-else') WHERE run_id = $1"
                    .to_owned(),
                Damage::Corrupt,
            ),
            (
                "zero-version",
                "UPDATE kern_runs SET version = 0 WHERE run_id = $1".to_owned(),
                Damage::Corrupt,
            ),
            (
                "negative-version",
                "UPDATE kern_runs SET version = -3 WHERE run_id = $1".to_owned(),
                Damage::Corrupt,
            ),
            (
                "future-schema",
                set_run(&future_shape),
                Damage::FutureSchema,
            ),
            (
                "future-schema-same-shape",
                format!(
                    "UPDATE kern_runs SET run = replace(run, '\"schema_version\":{SCHEMA_VERSION}', \
                     '\"schema_version\":{}') WHERE run_id = $1",
                    SCHEMA_VERSION + 7
                ),
                Damage::FutureSchema,
            ),
        ];
        conformance::damaged_rows_are_typed_errors_naming_the_run(
            &store,
            &cases,
            "DELETE FROM kern_runs WHERE run_id = $1",
            async |sql, run_id| tamper(&raw, sql, run_id).await,
        )
        .await;
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn a_run_filed_under_another_session_or_user_is_corrupt() {
        let Some(schema) = TestSchema::new("a_run_filed_under_another_session_or_user_is_corrupt")
        else {
            return;
        };
        let store = schema.store().await;
        let raw = schema.raw().await;
        conformance::a_run_filed_under_another_session_or_user_is_corrupt(
            &store,
            async |column, value, run_id| {
                let sql = format!("UPDATE kern_runs SET {column} = '{value}' WHERE run_id = $1");
                tamper(&raw, &sql, run_id).await;
            },
        )
        .await;
        schema.drop_schema().await;
    }

    /// The migrations recorded in the test's schema: (version, name).
    async fn applied_migrations(raw: &tokio_postgres::Client) -> Vec<(i32, String)> {
        raw.query(
            "SELECT version, name FROM kern_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    }

    fn all_migrations() -> Vec<(i32, String)> {
        MIGRATIONS
            .iter()
            .map(|m| (m.version, m.name.to_owned()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_stores_migrating_a_fresh_schema_at_once_all_work() {
        let Some(schema) = TestSchema::new("many_stores_migrating_a_fresh_schema_at_once_all_work")
        else {
            return;
        };
        // Eight stores (eight pools, as eight processes would have) create and migrate the same
        // new schema at the same moment: without the lock, CREATE … IF NOT EXISTS races fail
        // with a duplicate key in the catalog, or a migration is applied twice.
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (url, options) = (schema.url.clone(), schema.options());
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    PostgresStore::connect_with(&url, options).await
                })
            })
            .collect();
        let mut stores = Vec::new();
        for task in tasks {
            stores.push(task.await.unwrap().unwrap());
        }
        for (i, store) in stores.iter().enumerate() {
            store
                .create(&paused_run(&format!("r{i}"), "s"))
                .await
                .unwrap();
        }
        let runs = stores[7].session_runs("s").await.unwrap();
        let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]);
        let raw = schema.raw().await;
        assert_eq!(applied_migrations(&raw).await, all_migrations());

        // Connecting again applies nothing again and keeps the runs.
        let again = schema.store().await;
        assert_eq!(applied_migrations(&raw).await, all_migrations());
        assert_eq!(again.session_runs("s").await.unwrap(), runs);
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn tables_at_migration_1_are_migrated_and_their_waiting_runs_found_by_tool() {
        let Some(schema) = TestSchema::new(
            "tables_at_migration_1_are_migrated_and_their_waiting_runs_found_by_tool",
        ) else {
            return;
        };
        let waiting = paused_run("old-pause", "s");
        let mut done = paused_run("old-done", "s");
        done.status = crate::RunStatus::Completed;
        done.requirements.clear();
        {
            // Tables as kern wrote them before migration 2, holding a paused and a finished run.
            let raw = schema.raw().await;
            raw.batch_execute(&format!("CREATE SCHEMA \"{}\"", schema.name))
                .await
                .unwrap();
            raw.batch_execute(&MIGRATIONS_TABLE.replace("{schema}", ""))
                .await
                .unwrap();
            raw.batch_execute(&MIGRATIONS[0].sql.replace("{schema}", ""))
                .await
                .unwrap();
            raw.batch_execute(
                "INSERT INTO kern_migrations (version, name) VALUES (1, 'kern_runs')",
            )
            .await
            .unwrap();
            for run in [&waiting, &done] {
                raw.execute(
                    "INSERT INTO kern_runs (run_id, session_id, status, schema_version, version, \
                     created_at, updated_at, run) \
                     VALUES ($1, 's', $2, 2, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', $3)",
                    &[&run.run_id, &codec::status_text(run.status), &codec::encode_run(run).unwrap()],
                )
                .await
                .unwrap();
            }
        }
        let store = schema.store().await;
        let raw = schema.raw().await;
        assert_eq!(applied_migrations(&raw).await, all_migrations());
        let page = store
            .list_runs(
                &RunFilter::paused().tool("execute_shell_command"),
                &PageRequest::default(),
            )
            .await
            .unwrap();
        let ids: Vec<&str> = page.runs.iter().map(|r| r.run.run_id.as_str()).collect();
        assert_eq!(ids, ["old-pause"], "the waiting run's tools were filled in");
        assert_eq!(page.runs[0].run, waiting);
        let request = ClaimRequest::new("w", Duration::from_secs(60))
            .filter(RunFilter::default().tool("execute_shell_command"));
        let claimed = store.claim(&request).await.unwrap().unwrap();
        assert_eq!(claimed.run.run_id, "old-pause");
        assert!(
            store.claim(&request).await.unwrap().is_none(),
            "one run waits"
        );
        // Connecting again applies nothing again and keeps the claim.
        let again = schema.store().await;
        assert_eq!(applied_migrations(&raw).await, all_migrations());
        assert_eq!(again.load("old-pause").await.unwrap(), claimed);
        assert_eq!(again.load("old-done").await.unwrap().run, done);
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn claims_and_paused_listings_walk_the_waiting_runs_even_on_stale_statistics() {
        let Some(schema) = TestSchema::new(
            "claims_and_paused_listings_walk_the_waiting_runs_even_on_stale_statistics",
        ) else {
            return;
        };
        let store = schema.store().await;
        let raw = schema.raw().await;
        // 5,000 runs paused when the statistics were taken, all but ten of them finished since.
        raw.batch_execute(
            "INSERT INTO kern_runs (run_id, session_id, status, schema_version, version, run, \
             tool_names) SELECT 'r' || g, 's' || g, 'paused', 3, 1, '{}', '{fetch}' \
             FROM generate_series(1, 5000) g;
             ANALYZE kern_runs;
             UPDATE kern_runs SET status = 'completed', tool_names = '{}' \
             WHERE created_seq <= 4990;",
        )
        .await
        .unwrap();
        let plan = async |(sql, params): (String, Params)| -> String {
            let rows = raw
                .query(&format!("EXPLAIN {sql}"), &param_refs(&params))
                .await
                .unwrap();
            let lines: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
            lines.join("\n")
        };
        let claim = ClaimRequest::new("w", Duration::from_secs(60));
        let tool_claim = claim.clone().filter(RunFilter::default().tool("fetch"));
        for query in [
            store.claim_query(&claim, 0),
            store.claim_query(&tool_claim, 0),
            store
                .list_query(&RunFilter::paused(), &PageRequest::default())
                .unwrap(),
        ] {
            let sql = query.0.clone();
            let plan = plan(query).await;
            assert!(plan.contains("kern_runs_waiting"), "{sql}\n{plan}");
        }
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn a_newer_table_layout_is_refused() {
        let Some(schema) = TestSchema::new("a_newer_table_layout_is_refused") else {
            return;
        };
        drop(schema.store().await);
        schema
            .raw()
            .await
            .batch_execute("INSERT INTO kern_migrations (version, name) VALUES (99, 'future')")
            .await
            .unwrap();
        match PostgresStore::connect_with(&schema.url, schema.options()).await {
            Err(Error::Store { message, .. }) => {
                assert!(message.contains("migration 99"), "{message}");
                assert!(message.contains(&schema.name), "{message}");
            }
            other => panic!("{other:?}"),
        }
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn runs_are_rows_with_their_keys_as_columns_in_the_schema_given() {
        let Some(schema) =
            TestSchema::new("runs_are_rows_with_their_keys_as_columns_in_the_schema_given")
        else {
            return;
        };
        let store = schema.store().await;
        let mut run = paused_run("r", "s");
        run.user_id = Some("u".to_owned());
        store.create(&run).await.unwrap();
        run.content = Some("a NUL \u{0} and more ✓".to_owned());
        assert_eq!(store.update(&run, 1).await.unwrap(), 2);
        let row = schema
            .raw()
            .await
            .query_one(
                "SELECT session_id, user_id, status, schema_version, version, run \
                 FROM kern_runs WHERE run_id = 'r'",
                &[],
            )
            .await
            .unwrap();
        let columns: (String, Option<String>, String, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(
            columns,
            (
                "s".to_owned(),
                Some("u".to_owned()),
                "paused".to_owned(),
                i64::from(SCHEMA_VERSION),
                2
            )
        );
        // The run's JSON text as the codec wrote it.
        assert_eq!(row.get::<_, String>(5), codec::encode_run(&run).unwrap());
        assert_eq!(store.load("r").await.unwrap().run, run);
        schema.drop_schema().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn separate_stores_racing_on_one_run_one_wins() {
        let Some(schema) = TestSchema::new("separate_stores_racing_on_one_run_one_wins") else {
            return;
        };
        let run = paused_run("raced", "s");
        let mut stores = vec![schema.store().await];
        stores[0].create(&run).await.unwrap();
        for _ in 0..5 {
            stores.push(schema.store().await);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(stores.len()));
        let tasks: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, store)| {
                let barrier = barrier.clone();
                let mut mine = run.clone();
                mine.content = Some(format!("store {i}"));
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
        assert_eq!(
            schema.store().await.load("raced").await.unwrap().run,
            winners[0]
        );
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn a_bad_url_or_a_server_that_is_not_there_is_a_store_error_without_the_password() {
        match PostgresStore::connect("postgresql://kern:secret@127.0.0.1:notaport/kern").await {
            Err(Error::Store { message, source }) => {
                assert!(
                    message.contains("not a PostgreSQL connection string"),
                    "{message}"
                );
                assert!(source.is_some());
                assert!(!message.contains("secret"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // A loopback port nobody listens on (taken, then let go).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgresql://kern:secret@127.0.0.1:{port}/runs");
        match PostgresStore::connect(&url).await {
            Err(error @ Error::Store { .. }) => {
                let Error::Store { message, source } = &error else {
                    unreachable!()
                };
                assert!(
                    message.contains(&format!("127.0.0.1:{port}/runs")),
                    "{message}"
                );
                assert!(source.is_some());
                assert!(
                    !format!("{error} {error:?}").contains("secret"),
                    "{error:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_store_shows_where_it_is_in_debug() {
        let Some(schema) = TestSchema::new("a_store_shows_where_it_is_in_debug") else {
            return;
        };
        let store = schema.store().await;
        let shown = format!("{store:?}");
        assert!(
            shown.contains("127.0.0.1") || shown.contains("localhost"),
            "{shown}"
        );
        assert!(shown.contains(&schema.name), "{shown}");
        schema.drop_schema().await;
    }

    #[tokio::test]
    async fn a_role_that_may_not_create_schemas_uses_the_schema_made_for_it() {
        let Some(schema) =
            TestSchema::new("a_role_that_may_not_create_schemas_uses_the_schema_made_for_it")
        else {
            return;
        };
        // A role with no right to create schemas in the database, given a schema of its own.
        let role = format!("{}_role", schema.name);
        let admin = schema.raw().await;
        admin
            .batch_execute(&format!(
                "CREATE ROLE \"{role}\" LOGIN; CREATE SCHEMA \"{}\" AUTHORIZATION \"{role}\"",
                schema.name
            ))
            .await
            .unwrap();
        let config: tokio_postgres::Config = schema.url.parse().unwrap();
        let host = match &config.get_hosts()[0] {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        };
        let url = format!(
            "host={host} port={} user={role} dbname={}",
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_dbname().unwrap_or("postgres")
        );
        let store = PostgresStore::connect_with(&url, schema.options())
            .await
            .unwrap();
        let run = paused_run("limited", "s");
        store.create(&run).await.unwrap();
        assert_eq!(store.load("limited").await.unwrap().run, run);
        drop(store);
        schema.drop_schema().await;
        admin
            .batch_execute(&format!("DROP ROLE \"{role}\""))
            .await
            .unwrap();
    }

    #[test]
    fn a_schema_name_is_one_quoted_identifier() {
        assert_eq!(schema_prefix("kern"), "\"kern\".");
        assert_eq!(schema_prefix("a\"b; DROP"), "\"a\"\"b; DROP\".");
    }
}
