//! A fleet of workers draining paused runs: the agent side of a claim (marking requirements
//! started, saving progress, renewing the lease, stale requirements after a take-over), and the
//! kill test: 4 worker processes drain 1,000 paused runs (one external call each) while they are
//! SIGKILLed at random and restarted, on SQLite and on PostgreSQL; and two worker processes
//! racing for one pause.
//!
//! The worker processes are this test binary run again: the child runs the same test
//! (`--exact`), finds `KERN_FLEET_ROLE` in its environment and plays a worker instead.
//!
//! The PostgreSQL cases need a server (`KERN_TEST_POSTGRES_URL`, which `scripts/postgres.sh`
//! starts); without one they say so and return.
#![cfg(unix)]

// This test uses the tool type and the waits, not the `deploy` tool.
#[path = "common/worker.rs"]
#[allow(dead_code)]
mod worker;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use kern_core::store::{ClaimRequest, PageRequest, RunFilter};
use kern_core::{
    Agent, Error, ExecutionMode, MemoryStore, Requirement, RunStatus, RunStore, SqliteStore,
    StoredRun, TestModel, ToolDefinition,
};
use serde_json::json;
use worker::{FnTool, finish, wait_for};

/// The role a child plays: `drain` (claim and finish runs until killed) or `race` (one claim).
const ROLE: &str = "KERN_FLEET_ROLE";
/// Where the store is: `sqlite:<path>` or `postgres:<schema>` (with `KERN_TEST_POSTGRES_URL`).
const STORE: &str = "KERN_FLEET_STORE";
/// The scenario's directory: the external calls' log, the race's outputs and starting gun.
const DIR: &str = "KERN_FLEET_DIR";
/// The child's name: its worker name, and its output `<name>.out` in a race.
const NAME: &str = "KERN_FLEET_NAME";
/// The variable that names the test server.
#[cfg(feature = "postgres")]
const URL_VAR: &str = "KERN_TEST_POSTGRES_URL";

/// Every execution of the external call appends `<run id> <pid>` here, synced.
const CALLS: &str = "calls.log";
/// Every interrupted requirement a worker met appends `<run id>` here.
const INTERRUPTED: &str = "interrupted.log";
/// What a worker answers for an interrupted call that the log shows executed.
const EXECUTED_BEFORE: &str = "executed before the crash";
/// What a worker answers for an interrupted call that the log shows never executed.
const NOT_EXECUTED: &str = "not executed: the worker died first";

/// The lease of a drain worker: short, so a killed worker's runs come back soon.
const LEASE: Duration = Duration::from_millis(700);

/// `fetch`: executed by the host (a worker), never by the agent.
fn fetch() -> FnTool {
    let definition = ToolDefinition::new(
        "fetch",
        "Fetches a page.",
        json!({
            "type": "object",
            "properties": { "url": { "type": "string" } },
            "required": ["url"]
        }),
    )
    .with_mode(ExecutionMode::External);
    FnTool {
        definition,
        body: Box::new(|_, _| async { unreachable!("external: the host executes it") }.boxed()),
    }
}

fn agent(store: impl RunStore) -> Agent {
    Agent::builder()
        .model(TestModel::new().with_answer("done"))
        .tool(fetch())
        .store(store)
        .build()
        .expect("agent")
}

fn append(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    // One write of the whole line: appends of several processes do not interleave.
    file.write_all(format!("{line}\n").as_bytes()).unwrap();
    file.sync_all().unwrap();
}

/// Lines of `file` per run id (its first word).
fn counts(dir: &Path, file: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
    {
        if let Some(id) = line.split(' ').next() {
            *counts.entry(id.to_owned()).or_default() += 1;
        }
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// The worker.

/// What a worker does with a claimed run: marks the calls it will execute as started and saves
/// that, executes them (logging each), decides the interrupted ones by the log as the host
/// would (never executing them again), and continues the run.
async fn work_on(agent: &Agent, dir: &Path, claimed: StoredRun) -> kern_core::Result<()> {
    let run_id = claimed.run.run_id;
    let mut requirements = claimed.run.requirements;
    let mut fresh = false;
    for requirement in requirements.iter_mut().filter(|r| !r.is_resolved()) {
        if !requirement.interrupted {
            requirement.mark_started();
            fresh = true;
        }
    }
    if fresh {
        agent.save_progress(&run_id, &requirements).await?;
    }
    for requirement in requirements.iter_mut().filter(|r| !r.is_resolved()) {
        if requirement.interrupted {
            append(&dir.join(INTERRUPTED), &run_id);
            let executed = counts(dir, CALLS).get(&run_id).copied().unwrap_or(0) > 0;
            requirement.set_external_execution_result(if executed {
                EXECUTED_BEFORE
            } else {
                NOT_EXECUTED
            });
        } else {
            append(
                &dir.join(CALLS),
                &format!("{run_id} {}", std::process::id()),
            );
            requirement.set_external_execution_result("fetched");
        }
    }
    agent.continue_run(&run_id, &requirements).await?;
    Ok(())
}

/// Opens the store the scenario names.
async fn open_store(spec: &str) -> Box<dyn RunStore> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        Box::new(SqliteStore::open(path).await.expect("open SQLite"))
    } else if let Some(schema) = spec.strip_prefix("postgres:") {
        Box::new(postgres_store(schema).await)
    } else {
        panic!("unknown store {spec}")
    }
}

#[cfg(feature = "postgres")]
async fn postgres_store(schema: &str) -> kern_core::PostgresStore {
    let url = std::env::var(URL_VAR).expect("KERN_TEST_POSTGRES_URL");
    kern_core::PostgresStore::connect_with(
        &url,
        kern_core::PostgresOptions::new()
            .schema(schema)
            .max_connections(4),
    )
    .await
    .expect("connect to PostgreSQL")
}

#[cfg(not(feature = "postgres"))]
async fn postgres_store(_: &str) -> MemoryStore {
    unreachable!("the PostgreSQL cases need the `postgres` feature")
}

/// Plays the role in `KERN_FLEET_ROLE`; `true` when this process is a child.
async fn play_if_child() -> bool {
    let Ok(role) = std::env::var(ROLE) else {
        return false;
    };
    let dir = PathBuf::from(std::env::var(DIR).expect("KERN_FLEET_DIR"));
    let name = std::env::var(NAME).expect("KERN_FLEET_NAME");
    let agent = agent(open_store(&std::env::var(STORE).unwrap()).await);
    match role.as_str() {
        "drain" => loop {
            let request = ClaimRequest::new(&name, LEASE);
            match agent.store().claim(&request).await {
                Ok(Some(claimed)) => match work_on(&agent, &dir, claimed).await {
                    // Taken over (a lease that ran out) or changed under it: the next run.
                    Ok(()) | Err(Error::StaleRequirement { .. } | Error::Conflict { .. }) => {}
                    Err(other) => eprintln!("{name}: {other}"),
                },
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(error) => eprintln!("{name}: claim: {error}"),
            }
        },
        "race" => {
            std::fs::write(dir.join(format!("{name}.ready")), b"").unwrap();
            wait_for(&dir.join("go"));
            let request = ClaimRequest::new(&name, Duration::from_secs(60));
            let outcome = match agent.store().claim(&request).await.expect("claim") {
                Some(claimed) => {
                    work_on(&agent, &dir, claimed).await.expect("work");
                    "won"
                }
                None => "nothing to claim",
            };
            std::fs::write(dir.join(format!("{name}.out")), outcome).unwrap();
            true
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(test: &str, role: &str, store: &str, dir: &Path, name: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(STORE, store)
        .env(DIR, dir)
        .env(NAME, name)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a worker")
}

/// A small deterministic generator for the kill schedule (xorshift, seeded by the clock, the
/// seed printed so a failing schedule can be told apart).
struct Dice(u64);

impl Dice {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        eprintln!("kill schedule seed: {seed}");
        Dice(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios, generic over the store.

const RUNS: usize = 1000;
const WORKERS: usize = 4;

/// Whether any run is still paused or running.
async fn any_left(store: &dyn RunStore) -> bool {
    for status in [RunStatus::Paused, RunStatus::Running] {
        let page = store
            .list_runs(&RunFilter::all().status(status), &PageRequest::first(1))
            .await
            .expect("list");
        if !page.runs.is_empty() {
            return true;
        }
    }
    false
}

/// Pauses 1,000 runs, drains them with 4 worker processes killed at random and restarted, and
/// checks every run: completed, continued exactly once, its call executed at most once, and an
/// interrupted call decided by the host (without executing it again).
async fn kill_test(test: &str, store_spec: &str, dir: &Path) {
    let store = open_store(store_spec).await;
    let host = agent(open_store(store_spec).await);
    let mut ids = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let run = host.run(format!("fetch page {i}")).await.expect("pause");
        assert!(run.is_paused());
        ids.push(run.run_id);
    }

    let mut dice = Dice::new();
    let mut workers: Vec<Child> = (0..WORKERS)
        .map(|i| spawn(test, "drain", store_spec, dir, &format!("w{i}")))
        .collect();
    let mut kills = 0;
    let started = Instant::now();
    while any_left(&*store).await {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the fleet did not drain the runs in 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100 + dice.below(300))).await;
        // Kill at random for the first part, then let the fleet finish.
        if kills < 40 {
            let victim = dice.below(WORKERS as u64) as usize;
            workers[victim].kill().unwrap();
            workers[victim].wait().unwrap();
            kills += 1;
            workers[victim] = spawn(
                test,
                "drain",
                store_spec,
                dir,
                &format!("w{victim}-{kills}"),
            );
        }
    }
    for mut worker in workers {
        worker.kill().unwrap();
        worker.wait().unwrap();
    }

    let calls = counts(dir, CALLS);
    let interrupted = counts(dir, INTERRUPTED);
    for id in &ids {
        let stored = store.load(id).await.unwrap();
        let run = &stored.run;
        assert_eq!(run.status, RunStatus::Completed, "{id}");
        // Continued exactly once: one call result, one answer after it, two model turns.
        assert_eq!(run.metrics.turns, 2, "{id}: {run:?}");
        assert_eq!(run.tool_executions.len(), 1, "{id}");
        assert_eq!(run.messages.len(), 4, "{id}: {:?}", run.messages);
        assert_eq!(run.lease, None, "{id}: an ended run is released");
        let executed = calls.get(id).copied().unwrap_or(0);
        assert!(
            executed <= 1,
            "{id}: the external call ran {executed} times"
        );
        let result = run.tool_executions[0].result.as_deref().unwrap();
        match result {
            "fetched" => assert_eq!(executed, 1, "{id}"),
            EXECUTED_BEFORE => {
                assert_eq!(executed, 1, "{id}");
                assert!(interrupted.contains_key(id), "{id}: decided, so surfaced");
            }
            NOT_EXECUTED => {
                assert_eq!(executed, 0, "{id}");
                assert!(interrupted.contains_key(id), "{id}: decided, so surfaced");
            }
            other => panic!("{id}: result {other:?}"),
        }
    }
    eprintln!(
        "{test}: {RUNS} runs, {WORKERS} workers, {kills} kills, {} interrupted calls decided \
         by the host, {:.1} s",
        interrupted.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Two worker processes claim one pause at the same instant: exactly one gets it, executes the
/// call once and completes the run; the other finds nothing to claim.
async fn race_test(test: &str, store_spec: &str, dir: &Path) {
    let host = agent(open_store(store_spec).await);
    let run = host.run("fetch the page").await.expect("pause");
    let racers: Vec<Child> = ["r1", "r2"]
        .iter()
        .map(|name| spawn(test, "race", store_spec, dir, name))
        .collect();
    for name in ["r1", "r2"] {
        wait_for(&dir.join(format!("{name}.ready")));
    }
    std::fs::write(dir.join("go"), b"").unwrap();
    for racer in racers {
        finish(racer);
    }
    let mut outcomes: Vec<String> = ["r1", "r2"]
        .iter()
        .map(|name| std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, ["nothing to claim", "won"]);
    assert_eq!(counts(dir, CALLS).get(&run.run_id), Some(&1));
    let stored = host.store().load(&run.run_id).await.unwrap();
    assert_eq!(stored.run.status, RunStatus::Completed);
}

fn sqlite_spec(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("runs.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fleet_drains_1000_runs_while_workers_are_killed() {
    const TEST: &str = "sqlite_fleet_drains_1000_runs_while_workers_are_killed";
    if play_if_child().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    kill_test(TEST, &sqlite_spec(dir.path()), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_workers_racing_for_one_pause_one_wins() {
    const TEST: &str = "sqlite_two_workers_racing_for_one_pause_one_wins";
    if play_if_child().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    race_test(TEST, &sqlite_spec(dir.path()), dir.path()).await;
}

/// A fresh schema's store spec, or `None` after saying why the test does not run.
#[cfg(feature = "postgres")]
fn postgres_spec(test: &str) -> Option<String> {
    if std::env::var(URL_VAR).map_or(true, |url| url.is_empty()) {
        let line =
            format!("{test}: skipped: {URL_VAR} is not set; scripts/postgres.sh starts a server\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
        return None;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Some(format!(
        "postgres:kern_fleet_{}_{nanos}",
        std::process::id()
    ))
}

/// Drops the schema of a finished Postgres case.
#[cfg(feature = "postgres")]
async fn drop_schema(spec: &str) {
    let schema = spec.strip_prefix("postgres:").unwrap();
    let url = std::env::var(URL_VAR).unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fleet_drains_1000_runs_while_workers_are_killed() {
    const TEST: &str = "postgres_fleet_drains_1000_runs_while_workers_are_killed";
    if play_if_child().await {
        return;
    }
    let Some(spec) = postgres_spec(TEST) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    kill_test(TEST, &spec, dir.path()).await;
    drop_schema(&spec).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers_racing_for_one_pause_one_wins() {
    const TEST: &str = "postgres_two_workers_racing_for_one_pause_one_wins";
    if play_if_child().await {
        return;
    }
    let Some(spec) = postgres_spec(TEST) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    race_test(TEST, &spec, dir.path()).await;
    drop_schema(&spec).await;
}

// ---------------------------------------------------------------------------------------------
// The agent side, in one process.

async fn claim(agent: &Agent, worker: &str, lease: Duration) -> Option<StoredRun> {
    agent
        .store()
        .claim(&ClaimRequest::new(worker, lease))
        .await
        .expect("claim")
}

#[tokio::test]
async fn save_progress_keeps_the_pause_and_stores_marks_and_resolutions() {
    let agent = agent(MemoryStore::new());
    let paused = agent.run("fetch").await.unwrap();
    let claimed = claim(&agent, "w", Duration::from_secs(60)).await.unwrap();
    let mut requirements = claimed.run.requirements.clone();
    requirements[0].mark_started();
    let saved = agent
        .save_progress(&paused.run_id, &requirements)
        .await
        .unwrap();
    assert_eq!(saved.status, RunStatus::Paused);
    assert_eq!(saved.pause_id, claimed.run.pause_id, "the same pause");
    assert!(saved.requirements[0].started);
    assert_eq!(saved.lease, claimed.run.lease, "the lease is kept");
    let stored = agent.store().load(&paused.run_id).await.unwrap();
    assert_eq!(stored.run, saved);
    assert_eq!(stored.version, claimed.version + 1);

    // A resolution saved is kept; an unresolved requirement saved later does not undo it.
    requirements[0].set_external_execution_result("fetched");
    agent
        .save_progress(&paused.run_id, &requirements)
        .await
        .unwrap();
    let unresolved = claimed.run.requirements.clone();
    let saved = agent
        .save_progress(&paused.run_id, &unresolved)
        .await
        .unwrap();
    assert_eq!(
        saved.requirements[0].tool_execution.result.as_deref(),
        Some("fetched")
    );
    assert!(saved.requirements[0].started, "a mark is never taken back");

    // The same requirements continue the run.
    let done = agent
        .continue_run(&paused.run_id, &requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.lease, None, "an ended run is released");
}

#[tokio::test]
async fn save_progress_makes_a_continues_checks() {
    let agent = agent(MemoryStore::new());
    let paused = agent.run("fetch").await.unwrap();
    let claimed = claim(&agent, "w", Duration::from_secs(60)).await.unwrap();
    // The requirements from before the claim are of the old pause.
    let error = agent
        .save_progress(&paused.run_id, &paused.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StaleRequirement { .. }), "{error}");
    let mut edited = claimed.run.requirements.clone();
    edited[0].tool_execution.tool_args = json!({ "url": "elsewhere" });
    let error = agent
        .save_progress(&paused.run_id, &edited)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidResolution { .. }), "{error}");
    let twice = [
        claimed.run.requirements[0].clone(),
        claimed.run.requirements[0].clone(),
    ];
    let error = agent
        .save_progress(&paused.run_id, twice)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::DuplicateRequirement { .. }),
        "{error}"
    );
    let error = agent
        .save_progress("no-such-run", &claimed.run.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::RunNotFound { .. }), "{error}");
    // Nothing changed.
    assert_eq!(agent.store().load(&paused.run_id).await.unwrap(), claimed);
}

#[tokio::test]
async fn a_take_over_makes_the_old_claimers_requirements_stale_and_its_marks_interrupted() {
    let agent = agent(MemoryStore::new());
    let paused = agent.run("fetch").await.unwrap();
    let first = claim(&agent, "w1", Duration::from_millis(50))
        .await
        .unwrap();
    let mut old: Vec<Requirement> = first.run.requirements.clone();
    old[0].mark_started();
    agent.save_progress(&paused.run_id, &old).await.unwrap();
    assert!(claim(&agent, "w2", Duration::from_secs(60)).await.is_none());
    tokio::time::sleep(Duration::from_millis(80)).await;
    let second = claim(&agent, "w2", Duration::from_secs(60)).await.unwrap();
    assert!(
        second.run.requirements[0].interrupted,
        "surfaced to the new claimer"
    );

    // The old claimer's continue and lease are refused; nothing ran.
    old[0].set_external_execution_result("late");
    let error = agent.continue_run(&paused.run_id, &old).await.unwrap_err();
    assert!(matches!(error, Error::StaleRequirement { .. }), "{error}");
    let error = agent
        .renew_lease(&paused.run_id, "w1", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::LeaseLost { .. }), "{error}");

    // The new claimer renews its lease and continues with its requirements.
    let renewed = agent
        .renew_lease(&paused.run_id, "w2", Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(renewed.worker, "w2");
    assert!(renewed.expires_at() > second.run.lease.clone().unwrap().expires_at());
    let mut requirements = second.run.requirements.clone();
    requirements[0].set_external_execution_result("decided by the host");
    let done = agent
        .continue_run(&paused.run_id, &requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    let error = agent
        .renew_lease(&paused.run_id, "w2", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::LeaseLost { .. }),
        "a finished run has no lease: {error}"
    );
}

#[tokio::test]
async fn a_plain_continue_of_the_current_pause_still_works_and_no_claim_takes_its_run() {
    let agent = agent(MemoryStore::new());
    let mut paused = agent.run("fetch").await.unwrap();
    assert!(
        paused.run_id.len() == 36 && paused.pause_id.len() == 36,
        "uuid ids"
    );
    paused.requirements[0].set_external_execution_result("fetched");
    let done = agent
        .continue_run(&paused.run_id, &paused.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(claim(&agent, "w", Duration::from_secs(60)).await.is_none());
}
