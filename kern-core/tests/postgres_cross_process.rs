//! Paused runs in PostgreSQL, continued by other OS processes: two worker processes racing to
//! continue one pause, exactly one wins and the confirmed tool runs once; a pause made by one
//! process is continued by another with the result a continue in the pausing process gives.
//!
//! Needs a server: `KERN_TEST_POSTGRES_URL` (`scripts/postgres.sh` starts one). Without it each
//! test says so and returns. Each test keeps its tables in a schema of its own.
//!
//! Each test re-executes this test binary to play its workers: the child runs the same test
//! (`--exact`), finds `KERN_PGXP_ROLE` in its environment and plays that role instead.
#![cfg(all(unix, feature = "postgres"))]

#[path = "common/worker.rs"]
mod worker;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kern_core::{
    Agent, Error, FunctionModel, ModelResponse, PostgresOptions, PostgresStore, RunOutput,
    RunStatus, StoredRun, ToolCall,
};
use serde_json::{Value, json};
use worker::{deploy, finish, wait_for};

/// The variable that names the test server.
const URL_VAR: &str = "KERN_TEST_POSTGRES_URL";
/// The role a child plays: `continue` (the run named by `KERN_PGXP_ARG`).
const ROLE: &str = "KERN_PGXP_ROLE";
/// The scenario's directory: the tool's log, the children's outputs, the starting gun.
const DIR: &str = "KERN_PGXP_DIR";
/// The schema of the scenario's tables.
const SCHEMA: &str = "KERN_PGXP_SCHEMA";
/// The child's name: its output is `<name>.out` in the directory.
const NAME: &str = "KERN_PGXP_NAME";
/// The id of the run to continue.
const ARG: &str = "KERN_PGXP_ARG";
/// When set, the child waits for `<dir>/<value>` to exist before it continues.
const GO: &str = "KERN_PGXP_GO";

/// The server's URL, or `None` after saying why the test does not run.
fn server_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let line = format!(
                "{test}: skipped: {URL_VAR} is not set; scripts/postgres.sh starts a server\n"
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

/// A schema name no other test (or earlier run) uses.
fn fresh_schema(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "kern_xp_{}_{}_{nanos}",
        &test[..test.len().min(20)],
        std::process::id()
    )
}

/// Turn 1 calls `deploy`; turn 2 reports its result.
fn model() -> FunctionModel {
    FunctionModel::new(|request| {
        if FunctionModel::turn_of_run(request) == 0 {
            return Ok(ModelResponse::calls([ToolCall::new(
                "call_1",
                "deploy",
                r#"{"target":"prod"}"#,
            )]));
        }
        let result = request
            .messages
            .iter()
            .rev()
            .find_map(|m| match m {
                kern_core::Message::Tool { content, .. } => Some(content.clone()),
                _ => None,
            })
            .unwrap_or_default();
        Ok(ModelResponse::text(format!("The tool said: {result}")))
    })
}

async fn agent(url: &str, schema: &str, dir: &Path) -> Agent {
    let store = PostgresStore::connect_with(url, PostgresOptions::new().schema(schema))
        .await
        .expect("connect to PostgreSQL");
    Agent::builder()
        .model(model())
        .tool(deploy(dir))
        .store(store)
        .build()
        .expect("agent")
}

/// Continues a run the way a worker that only knows its id does: load it, confirm, continue.
async fn continue_by_id(agent: &Agent, run_id: &str) -> kern_core::Result<RunOutput> {
    let StoredRun { mut run, .. } = agent.store().load(run_id).await?;
    for requirement in run.active_requirements_mut() {
        requirement.confirm();
    }
    agent.continue_run(run_id, &run.requirements).await
}

/// Plays a worker: connects, says it is ready, waits for the gun, continues the run, writes the
/// outcome to `<dir>/<name>.out` as JSON.
async fn play() {
    let url = std::env::var(URL_VAR).expect("KERN_TEST_POSTGRES_URL");
    let dir = PathBuf::from(std::env::var(DIR).expect("KERN_PGXP_DIR"));
    let schema = std::env::var(SCHEMA).expect("KERN_PGXP_SCHEMA");
    let name = std::env::var(NAME).expect("KERN_PGXP_NAME");
    let run_id = std::env::var(ARG).expect("KERN_PGXP_ARG");
    let agent = agent(&url, &schema, &dir).await;
    std::fs::write(dir.join(format!("{name}.ready")), b"").unwrap();
    if let Ok(go) = std::env::var(GO) {
        while !dir.join(&go).exists() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let out = match continue_by_id(&agent, &run_id).await {
        Ok(run) => json!({ "ok": run }),
        Err(Error::Conflict { .. }) => json!({ "err": "conflict" }),
        Err(Error::RunNotPaused { .. }) => json!({ "err": "not_paused" }),
        Err(other) => json!({ "err": other.to_string() }),
    };
    // Write then rename: the parent never sees half an output.
    let tmp = dir.join(format!("{name}.out.tmp"));
    std::fs::write(&tmp, serde_json::to_vec(&out).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.out"))).unwrap();
}

/// Starts this test binary as a worker continuing `run_id`.
fn spawn(test: &str, scenario: &Scenario, name: &str, run_id: &str, go: Option<&str>) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, "continue")
        .env(URL_VAR, &scenario.url)
        .env(DIR, scenario.dir.path())
        .env(SCHEMA, &scenario.schema)
        .env(NAME, name)
        .env(ARG, run_id)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(go) = go {
        command.env(GO, go);
    }
    command.spawn().expect("spawn a child process")
}

/// The server, a schema and a directory of one test.
struct Scenario {
    url: String,
    schema: String,
    dir: tempfile::TempDir,
}

impl Scenario {
    fn new(test: &str) -> Option<Self> {
        Some(Scenario {
            url: server_url(test)?,
            schema: fresh_schema(test),
            dir: tempfile::tempdir().unwrap(),
        })
    }

    async fn agent(&self) -> Agent {
        agent(&self.url, &self.schema, self.dir.path()).await
    }

    /// A child's outcome: `Ok(run)` or `Err(kind)`.
    fn outcome(&self, name: &str) -> Result<RunOutput, String> {
        let path = self.dir.path().join(format!("{name}.out"));
        let out: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        match out.get("ok") {
            Some(run) => Ok(serde_json::from_value(run.clone()).unwrap()),
            None => Err(out["err"].as_str().unwrap().to_owned()),
        }
    }

    /// Lines of the deploy log naming `run_id`.
    fn deployments(&self, run_id: &str) -> usize {
        worker::deployments(self.dir.path(), run_id)
    }

    async fn drop_schema(self) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", self.schema))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_racing_for_one_pause_exactly_one_wins() {
    if std::env::var_os(ROLE).is_some() {
        return play().await;
    }
    const TEST: &str = "two_worker_processes_racing_for_one_pause_exactly_one_wins";
    let Some(scenario) = Scenario::new(TEST) else {
        return;
    };
    let here = scenario.agent().await;
    let dir = scenario.dir.path();
    let mut refusals = Vec::new();
    for round in 0..4 {
        let paused = here.run("deploy it").await.unwrap();
        assert!(paused.is_paused(), "{paused:?}");
        assert!(paused.requirements[0].needs_confirmation());
        let go = format!("go{round}");
        let racers: Vec<(String, Child)> = ["a", "b"]
            .iter()
            .map(|r| {
                let name = format!("racer{round}{r}");
                let child = spawn(TEST, &scenario, &name, &paused.run_id, Some(&go));
                (name, child)
            })
            .collect();
        // Both workers have connected and built their agent: fire.
        for (name, _) in &racers {
            wait_for(&dir.join(format!("{name}.ready")));
        }
        std::fs::write(dir.join(&go), b"").unwrap();
        let mut won = Vec::new();
        let mut refused = Vec::new();
        for (name, child) in racers {
            finish(child);
            match scenario.outcome(&name) {
                Ok(run) => won.push(run),
                Err(kind) => refused.push(kind),
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one worker must win ({refused:?})"
        );
        assert!(
            refused[0] == "conflict" || refused[0] == "not_paused",
            "round {round}: the loser must be refused with a typed error, got {refused:?}"
        );
        assert_eq!(won[0].status, RunStatus::Completed);
        assert_eq!(
            won[0].content.as_deref(),
            Some("The tool said: deployed to prod")
        );
        assert_eq!(
            scenario.deployments(&paused.run_id),
            1,
            "round {round}: the tool must run exactly once"
        );
        let stored = here.store().load(&paused.run_id).await.unwrap();
        assert_eq!(stored.run, won[0]);
        refusals.extend(refused);
    }
    // `conflict`: both loaded the pause and the compare-and-set refused one; `not_paused`: the
    // loser loaded the run after the winner had claimed it.
    eprintln!("losers were refused with: {refusals:?}");
    scenario.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_made_in_one_process_is_continued_by_another_with_the_same_result() {
    if std::env::var_os(ROLE).is_some() {
        return play().await;
    }
    const TEST: &str = "a_pause_made_in_one_process_is_continued_by_another_with_the_same_result";
    let Some(scenario) = Scenario::new(TEST) else {
        return;
    };
    let here = scenario.agent().await;
    let there = here.run("deploy it").await.unwrap();
    let twin = here.run("deploy it").await.unwrap();
    assert!(there.is_paused() && twin.is_paused());

    finish(spawn(TEST, &scenario, "worker", &there.run_id, None));
    let elsewhere = scenario.outcome("worker").expect("the worker failed");
    let in_process = continue_by_id(&here, &twin.run_id).await.unwrap();
    assert_eq!(elsewhere.status, RunStatus::Completed);
    // The same run but for its ids: what the worker stored is what this process computes.
    let same_ids = |mut run: RunOutput| {
        run.run_id.clear();
        run.session_id.clear();
        run.pause_id.clear();
        for requirement in &mut run.requirements {
            requirement.run_id.clear();
            requirement.pause_id.clear();
        }
        run
    };
    assert_eq!(same_ids(elsewhere.clone()), same_ids(in_process));
    assert_eq!(
        here.store().load(&there.run_id).await.unwrap().run,
        elsewhere
    );
    assert_eq!(scenario.deployments(&there.run_id), 1);

    // A second worker for the same pause is refused, and the run stays as the first left it.
    finish(spawn(TEST, &scenario, "again", &there.run_id, None));
    assert_eq!(scenario.outcome("again"), Err("not_paused".to_owned()));
    assert_eq!(scenario.deployments(&there.run_id), 1);
    assert_eq!(
        here.store().load(&there.run_id).await.unwrap().run,
        elsewhere
    );
    scenario.drop_schema().await;
}
