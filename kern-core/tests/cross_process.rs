//! A paused run continued by other OS processes through one SQLite file: the same result as a
//! continue in the same process, exactly one winner when two processes race, and a whole run
//! after a process is killed (SIGKILL) right after a pause or at any step of a continue: no tool
//! body runs twice unless the host, told its outcome is unknown, decides so.
//!
//! Each test re-executes this test binary to play its other processes: the child runs the same
//! test (`--exact`), finds `KERN_XP_ROLE` in its environment and plays that role instead.
#![cfg(all(unix, feature = "sqlite"))]

#[macro_use]
#[path = "common/delegate.rs"]
mod delegate;
#[path = "common/worker.rs"]
mod worker;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use kern_core::{
    Agent, Error, ExecutionMode, FunctionModel, InFlightCall, Message, ModelResponse, RunInput,
    RunOutput, RunStatus, SqliteStore, StoredRun, ToolCall, ToolDefinition, ToolError,
};
use serde_json::{Value, json};
use worker::{FnTool, SLOW, deploy, deployments, finish, wait_for};

/// The role a child process plays: `start` (a run) or `continue` (a paused run).
const ROLE: &str = "KERN_XP_ROLE";
/// The scenario's directory: `runs.db`, the tool's log, the children's outputs.
const DIR: &str = "KERN_XP_DIR";
/// The child's name: its output is `<name>.out` in the directory.
const NAME: &str = "KERN_XP_NAME";
/// `start`: the run's input. `continue`: the id of the run to continue.
const ARG: &str = "KERN_XP_ARG";
/// When set, the child waits for `<dir>/<value>` to exist before it starts (a starting gun).
const GO: &str = "KERN_XP_GO";
/// `start`: when set, the child hangs after writing its output, to be killed.
const HANG: &str = "KERN_XP_HANG";
/// `start`: the session the run joins.
const SESSION: &str = "KERN_XP_SESSION";

/// When this file exists, the model's turn after a tool result writes `model.started` and then
/// takes 60 s.
const SLOW_MODEL: &str = "slow-model";

// ---------------------------------------------------------------------------------------------
// The agent every process builds: same model, same tools, same SQLite file.

/// `shell`, executed by the host (external execution).
fn shell() -> FnTool {
    let mut definition = ToolDefinition::new(
        "shell",
        "Runs a shell command.",
        json!({
            "type": "object",
            "properties": { "command": { "type": "string" } },
            "required": ["command"]
        }),
    );
    definition.mode = ExecutionMode::External;
    FnTool {
        definition,
        body: Box::new(|_, _| {
            async { Err(ToolError::new("the agent must never run an external tool")) }.boxed()
        }),
    }
}

/// Turn 1 answers with the session's first input when asked about "before", calls `deploy` when
/// the input mentions it, `shell` otherwise; turn 2 reports the tool's result.
fn model(dir: &Path) -> FunctionModel {
    let dir = dir.to_owned();
    FunctionModel::new(move |request| {
        if FunctionModel::turn_of_run(request) == 0 {
            let first_input = request.messages.iter().find_map(|m| match m {
                Message::User { content } => Some(content.as_str()),
                _ => None,
            });
            let input = request
                .messages
                .iter()
                .rev()
                .find_map(|m| match m {
                    Message::User { content } => Some(content.as_str()),
                    _ => None,
                })
                .unwrap_or_default();
            if input.contains("before") {
                return Ok(ModelResponse::text(format!(
                    "Before, you asked: {}",
                    first_input.unwrap_or("nothing")
                )));
            }
            let call = if input.contains("deploy") {
                ToolCall::new("call_1", "deploy", r#"{"target":"prod"}"#)
            } else {
                ToolCall::new("call_1", "shell", r#"{"command":"uname -s"}"#)
            };
            Ok(ModelResponse::calls([call]))
        } else {
            if dir.join(SLOW_MODEL).exists() {
                std::fs::write(dir.join("model.started"), b"").map_err(|e| {
                    kern_core::ModelError::Other(format!("write model.started: {e}"))
                })?;
                std::thread::sleep(Duration::from_secs(60));
            }
            let result = request
                .messages
                .iter()
                .rev()
                .find_map(|m| match m {
                    Message::Tool { content, .. } => Some(content.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            Ok(ModelResponse::text(format!("The tool said: {result}")))
        }
    })
}

/// When this file exists, the store write that settles a batch (a running run, nothing in
/// flight) writes `settle.started` and then takes 60 s, before it writes.
const STALL_SETTLE: &str = "stall-settle";
/// When this file exists, the write of a completed run writes `finish.started` and then takes
/// 60 s, before it writes.
const STALL_FINISH: &str = "stall-finish";

/// The SQLite store, with writes that stall when the test asks (to be killed right before them).
struct StallingStore {
    inner: SqliteStore,
    dir: PathBuf,
}

impl StallingStore {
    fn stall(&self, run: &RunOutput) {
        let point = match run.status {
            RunStatus::Running if run.in_flight.is_empty() => {
                Some((STALL_SETTLE, "settle.started"))
            }
            RunStatus::Completed => Some((STALL_FINISH, "finish.started")),
            _ => None,
        };
        if let Some((flag, started)) = point
            && self.dir.join(flag).exists()
        {
            std::fs::write(self.dir.join(started), b"").unwrap();
            std::thread::sleep(Duration::from_secs(60));
        }
    }
}

impl kern_core::RunStore for StallingStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, kern_core::Result<StoredRun>> {
        self.inner.load(run_id)
    }
    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, kern_core::Result<u64>> {
        self.inner.create(run)
    }
    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, kern_core::Result<u64>> {
        self.stall(run);
        self.inner.update(run, expected_version)
    }
    delegate_to_inner!();
}

async fn agent(dir: &Path) -> Agent {
    let inner = SqliteStore::open(dir.join("runs.db"))
        .await
        .expect("open the SQLite file");
    let store = StallingStore {
        inner,
        dir: dir.to_owned(),
    };
    Agent::builder()
        .model(model(dir))
        .tool(shell())
        .tool(deploy(dir))
        .store(store)
        .build()
        .expect("agent")
}

/// What the host does with a pause: runs `shell` itself, confirms `deploy`.
fn resolve(run: &mut RunOutput) {
    for req in run.active_requirements_mut() {
        if req.is_external_tool_execution() {
            let command = req.tool_execution.tool_args["command"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            req.set_external_execution_result(format!("the host ran `{command}`"));
        } else if req.needs_confirmation() {
            req.confirm();
        }
    }
}

/// Continues a run the way a host that only knows its id does: load it, resolve, continue.
async fn continue_by_id(agent: &Agent, run_id: &str) -> kern_core::Result<RunOutput> {
    let StoredRun { mut run, .. } = agent.store().load(run_id).await?;
    resolve(&mut run);
    agent.continue_run(run_id, &run.requirements).await
}

// ---------------------------------------------------------------------------------------------
// Child processes.

fn child_role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// Plays the role of a child process; writes the outcome to `<dir>/<name>.out` as JSON.
async fn play(role: String) {
    let dir = PathBuf::from(std::env::var(DIR).expect("KERN_XP_DIR"));
    let name = std::env::var(NAME).expect("KERN_XP_NAME");
    let arg = std::env::var(ARG).expect("KERN_XP_ARG");
    let agent = agent(&dir).await;
    std::fs::write(dir.join(format!("{name}.ready")), b"").unwrap();
    if let Ok(go) = std::env::var(GO) {
        while !dir.join(&go).exists() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let outcome = match role.as_str() {
        "start" => {
            let mut input = RunInput::new(arg);
            if let Ok(session) = std::env::var(SESSION) {
                input = input.session_id(session);
            }
            agent.run(input).await
        }
        "continue" => continue_by_id(&agent, &arg).await,
        other => panic!("unknown role {other}"),
    };
    let out = match outcome {
        Ok(run) => json!({ "ok": run }),
        Err(Error::Conflict { .. }) => json!({ "err": "conflict" }),
        Err(Error::RunNotPaused { .. }) => json!({ "err": "not_paused" }),
        Err(other) => json!({ "err": other.to_string() }),
    };
    // Write then rename: the parent never sees half an output.
    let tmp = dir.join(format!("{name}.out.tmp"));
    std::fs::write(&tmp, serde_json::to_vec(&out).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.out"))).unwrap();
    if std::env::var_os(HANG).is_some() {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Starts this test binary as a child playing `role` in `test`.
fn spawn(
    test: &str,
    role: &str,
    dir: &Path,
    name: &str,
    arg: &str,
    extra: &[(&str, &str)],
) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(DIR, dir)
        .env(NAME, name)
        .env(ARG, arg)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (key, value) in extra {
        command.env(key, value);
    }
    command.spawn().expect("spawn a child process")
}

/// SIGKILLs a child and checks it died of it.
fn kill(mut child: Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the child was not killed: {status}"
    );
}

/// A child's outcome: `Ok(run)` or `Err(kind)`.
fn outcome(dir: &Path, name: &str) -> Result<RunOutput, String> {
    let path = dir.join(format!("{name}.out"));
    let out: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    match out.get("ok") {
        Some(run) => Ok(serde_json::from_value(run.clone()).unwrap()),
        None => Err(out["err"].as_str().unwrap().to_owned()),
    }
}

/// Pauses a run in a child process (which then exits) and returns the pause.
fn pause_in_child(test: &str, dir: &Path, name: &str, input: &str) -> RunOutput {
    finish(spawn(test, "start", dir, name, input, &[]));
    let paused = outcome(dir, name).expect("the pausing child failed");
    assert!(paused.is_paused(), "{paused:?}");
    paused
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_paused_in_one_process_is_continued_in_another_with_the_same_result() {
    if let Some(role) = child_role() {
        return play(role).await;
    }
    const TEST: &str = "a_run_paused_in_one_process_is_continued_in_another_with_the_same_result";
    let dir = tempfile::tempdir().unwrap();
    let twin = tempfile::tempdir().unwrap();
    let paused = pause_in_child(TEST, dir.path(), "pause", "what system is this?");
    assert_eq!(paused.requirements.len(), 1);
    assert!(paused.requirements[0].is_external_tool_execution());

    // The pausing process is gone: its file is complete. A twin copy of it is continued here,
    // in this process; the original is continued by another process.
    for file in ["runs.db", "runs.db-wal"] {
        if dir.path().join(file).exists() {
            std::fs::copy(dir.path().join(file), twin.path().join(file)).unwrap();
        }
    }
    finish(spawn(
        TEST,
        "continue",
        dir.path(),
        "continue",
        &paused.run_id,
        &[],
    ));
    let elsewhere = outcome(dir.path(), "continue").expect("the continuing child failed");

    let here_agent = agent(twin.path()).await;
    let here = continue_by_id(&here_agent, &paused.run_id).await.unwrap();

    assert_eq!(here.status, RunStatus::Completed);
    assert_eq!(
        here.content.as_deref(),
        Some("The tool said: the host ran `uname -s`")
    );
    assert_eq!(
        elsewhere, here,
        "another process's continue differs from this one's"
    );

    // Both files hold the same finished run at the same version.
    let there_agent = agent(dir.path()).await;
    let there = there_agent.store().load(&paused.run_id).await.unwrap();
    let twin_stored = here_agent.store().load(&paused.run_id).await.unwrap();
    assert_eq!(
        (&there.run, there.version),
        (&twin_stored.run, twin_stored.version)
    );
    assert_eq!(there.run, here);

    // A second continue of the same pause, from yet another process, is refused.
    finish(spawn(
        TEST,
        "continue",
        dir.path(),
        "again",
        &paused.run_id,
        &[],
    ));
    assert_eq!(outcome(dir.path(), "again"), Err("not_paused".to_owned()));
    assert_eq!(
        there_agent.store().load(&paused.run_id).await.unwrap(),
        there
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_to_continue_one_pause_exactly_one_wins() {
    if let Some(role) = child_role() {
        return play(role).await;
    }
    const TEST: &str = "two_processes_racing_to_continue_one_pause_exactly_one_wins";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut refusals = Vec::new();
    for round in 0..4 {
        let paused = pause_in_child(TEST, dir, &format!("pause{round}"), "deploy it");
        assert!(paused.requirements[0].needs_confirmation());
        let go = format!("go{round}");
        let racers: Vec<(String, Child)> = ["a", "b"]
            .iter()
            .map(|r| {
                let name = format!("racer{round}{r}");
                let child = spawn(TEST, "continue", dir, &name, &paused.run_id, &[(GO, &go)]);
                (name, child)
            })
            .collect();
        // Both racers have opened the file and built their agent: fire.
        for (name, _) in &racers {
            wait_for(&dir.join(format!("{name}.ready")));
        }
        std::fs::write(dir.join(&go), b"").unwrap();
        let mut won = Vec::new();
        let mut refused = Vec::new();
        for (name, child) in racers {
            finish(child);
            match outcome(dir, &name) {
                Ok(run) => won.push(run),
                Err(kind) => refused.push(kind),
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one racer must win ({refused:?})"
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
            deployments(dir, &paused.run_id),
            1,
            "round {round}: the tool must run exactly once"
        );
        let stored = agent(dir).await.store().load(&paused.run_id).await.unwrap();
        assert_eq!(stored.run, won[0]);
        refusals.extend(refused);
    }
    // `conflict`: both loaded the pause and the compare-and-set refused one; `not_paused`: the
    // loser loaded the run after the winner had claimed it.
    eprintln!("losers were refused with: {refusals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_survives_its_process_being_killed_and_another_process_continues_it() {
    if let Some(role) = child_role() {
        return play(role).await;
    }
    const TEST: &str = "a_pause_survives_its_process_being_killed_and_another_process_continues_it";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for input in ["deploy it", "what system is this?"] {
        // The child pauses, reports, and hangs: SIGKILL it as soon as `run` has returned.
        let child = spawn(TEST, "start", dir, "pause", input, &[(HANG, "1")]);
        wait_for(&dir.join("pause.out"));
        kill(child);
        let paused = outcome(dir, "pause").unwrap();
        std::fs::remove_file(dir.join("pause.out")).unwrap();

        let stored = agent(dir).await.store().load(&paused.run_id).await.unwrap();
        assert_eq!((stored.run, stored.version), (paused.clone(), 1));

        finish(spawn(
            TEST,
            "continue",
            dir,
            "continue",
            &paused.run_id,
            &[],
        ));
        let continued = outcome(dir, "continue").expect("the continuing child failed");
        assert_eq!(continued.status, RunStatus::Completed);
        let expected = if input.contains("deploy") {
            "The tool said: deployed to prod"
        } else {
            "The tool said: the host ran `uname -s`"
        };
        assert_eq!(continued.content.as_deref(), Some(expected));
        std::fs::remove_file(dir.join("continue.out")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continue_killed_midway_leaves_a_whole_run() {
    if let Some(role) = child_role() {
        return play(role).await;
    }
    const TEST: &str = "a_continue_killed_midway_leaves_a_whole_run";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let here = agent(dir).await;

    // Killed inside the tool's body: the claim stored the call as started, so no other continue
    // runs it, and a reopen hands it to the host as interrupted (its outcome is unknown).
    let paused = here.run("deploy it").await.unwrap();
    std::fs::write(dir.join(SLOW), b"").unwrap();
    let child = spawn(TEST, "continue", dir, "slow", &paused.run_id, &[]);
    wait_for(&dir.join("deploy.started"));
    kill(child);
    std::fs::remove_file(dir.join(SLOW)).unwrap();
    let stored = here.store().load(&paused.run_id).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.run.status, RunStatus::Running);
    assert_eq!(stored.run.messages, paused.messages);
    assert!(
        matches!(stored.run.in_flight.as_slice(),
            [InFlightCall::Started { execution, by_executor: false }] if execution.tool_name == "deploy"),
        "{:?}",
        stored.run.in_flight
    );
    assert_eq!(deployments(dir, &paused.run_id), 1);
    let again = continue_by_id(&here, &paused.run_id).await;
    assert!(
        matches!(again, Err(Error::RunNotPaused { .. })),
        "a claimed pause must not be continued again: {again:?}"
    );
    assert_eq!(deployments(dir, &paused.run_id), 1);

    // The host, knowing that process is gone, reopens: a new pause whose one requirement is the
    // interrupted call; the old pause's requirements are refused.
    let mut reopened = here.reopen_run(&paused.run_id).await.unwrap();
    assert!(reopened.is_paused());
    assert_ne!(reopened.pause_id, paused.pause_id);
    assert_eq!(reopened.requirements.len(), 1);
    assert!(reopened.requirements[0].interrupted);
    assert!(reopened.requirements[0].needs_confirmation());
    let stored = here.store().load(&paused.run_id).await.unwrap();
    assert_eq!((stored.run, stored.version), (reopened.clone(), 3));
    let mut old = paused.clone();
    resolve(&mut old);
    assert!(matches!(
        here.continue_run(&paused.run_id, &old.requirements).await,
        Err(Error::StaleRequirement { .. })
    ));
    assert_eq!(deployments(dir, &paused.run_id), 1);
    // Running it again is the host's decision, made here.
    reopened.requirements[0].confirm();
    let continued = here
        .continue_run(&paused.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(continued.status, RunStatus::Completed);
    assert_eq!(deployments(dir, &paused.run_id), 2);
    // Only a claimed run reopens; anything else is refused and left as it is.
    let done = here.store().load(&paused.run_id).await.unwrap();
    let refused = here.reopen_run(&paused.run_id).await;
    assert!(
        matches!(&refused, Err(Error::RunNotClaimed { run_id, status: RunStatus::Completed }) if *run_id == paused.run_id),
        "{refused:?}"
    );
    assert_eq!(here.store().load(&paused.run_id).await.unwrap(), done);
    let still_paused = here.run("deploy it").await.unwrap();
    assert!(matches!(
        here.reopen_run(&still_paused.run_id).await,
        Err(Error::RunNotClaimed {
            status: RunStatus::Paused,
            ..
        })
    ));
    assert!(matches!(
        here.reopen_run("no-such-run").await,
        Err(Error::RunNotFound { .. })
    ));

    let reference = {
        let run = here.run("deploy it").await.unwrap();
        continue_by_id(&here, &run.run_id).await.unwrap()
    };

    // Killed in the model's turn after the tool ran: the result is stored, the reopened run has
    // nothing to decide, and continuing it does not deploy again.
    let paused = here.run("deploy it").await.unwrap();
    std::fs::write(dir.join(SLOW_MODEL), b"").unwrap();
    let child = spawn(TEST, "continue", dir, "slow-model", &paused.run_id, &[]);
    wait_for(&dir.join("model.started"));
    kill(child);
    std::fs::remove_file(dir.join(SLOW_MODEL)).unwrap();
    let stored = here.store().load(&paused.run_id).await.unwrap();
    assert_eq!((stored.version, stored.run.status), (3, RunStatus::Running));
    assert!(stored.run.in_flight.is_empty());
    assert!(
        stored
            .run
            .messages
            .iter()
            .any(|m| matches!(m, Message::Tool { content, .. } if content == "deployed to prod"))
    );
    assert_eq!(deployments(dir, &paused.run_id), 1);
    let reopened = here.reopen_run(&paused.run_id).await.unwrap();
    assert!(reopened.requirements.is_empty());
    let continued = here
        .continue_run(&paused.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(continued.content, reference.content);
    assert_eq!(deployments(dir, &paused.run_id), 1);

    // Killed after the tool's body ran, right before the write that stores its result: the
    // store still has the call as started, so its outcome is unknown to kern. It is surfaced,
    // not re-run; this host knows from its log that it ran, and says so.
    let paused = here.run("deploy it").await.unwrap();
    std::fs::write(dir.join(STALL_SETTLE), b"").unwrap();
    let child = spawn(TEST, "continue", dir, "stall-settle", &paused.run_id, &[]);
    wait_for(&dir.join("settle.started"));
    kill(child);
    std::fs::remove_file(dir.join(STALL_SETTLE)).unwrap();
    let stored = here.store().load(&paused.run_id).await.unwrap();
    assert_eq!((stored.version, stored.run.status), (2, RunStatus::Running));
    assert!(matches!(
        stored.run.in_flight.as_slice(),
        [InFlightCall::Started { .. }]
    ));
    assert_eq!(deployments(dir, &paused.run_id), 1, "the body ran");
    let mut reopened = here.reopen_run(&paused.run_id).await.unwrap();
    assert!(reopened.requirements[0].interrupted);
    reopened.requirements[0].reject("it ran: deployed to prod");
    let continued = here
        .continue_run(&paused.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(continued.status, RunStatus::Completed);
    assert_eq!(deployments(dir, &paused.run_id), 1);

    // Killed after the model's last turn, right before the run's end is stored: the settled
    // result is stored; the reopened run asks the model again and deploys nothing.
    let paused = here.run("deploy it").await.unwrap();
    std::fs::write(dir.join(STALL_FINISH), b"").unwrap();
    let child = spawn(TEST, "continue", dir, "stall-finish", &paused.run_id, &[]);
    wait_for(&dir.join("finish.started"));
    kill(child);
    std::fs::remove_file(dir.join(STALL_FINISH)).unwrap();
    let stored = here.store().load(&paused.run_id).await.unwrap();
    assert_eq!((stored.version, stored.run.status), (3, RunStatus::Running));
    assert_eq!(deployments(dir, &paused.run_id), 1);
    let reopened = here.reopen_run(&paused.run_id).await.unwrap();
    assert!(reopened.requirements.is_empty());
    let continued = here
        .continue_run(&paused.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(continued.content, reference.content);
    assert_eq!(deployments(dir, &paused.run_id), 1);

    // Killed at points spread over the continue: the run is always one whole state (the pause,
    // the claim with the call started, the settled call, the end), never a mix, and from each
    // the run completes with `deploy` run exactly once: a call of unknown outcome is surfaced,
    // and the host (here knowing from the log) decides.
    let mut seen = std::collections::BTreeSet::new();
    for (i, delay_ms) in [0u64, 1, 2, 4, 8, 15, 30, 60, 120, 250]
        .into_iter()
        .enumerate()
    {
        let paused = here.run("deploy it").await.unwrap();
        let name = format!("kill{i}");
        let child = spawn(TEST, "continue", dir, &name, &paused.run_id, &[]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();

        let stored = match here.store().load(&paused.run_id).await {
            Ok(stored) => stored,
            Err(error) => panic!("kill after {delay_ms} ms left an unreadable run: {error}"),
        };
        let runs = deployments(dir, &paused.run_id);
        assert!(runs <= 1, "the tool ran {runs} times");
        let finished = match (stored.version, stored.run.status) {
            (1, RunStatus::Paused) => {
                seen.insert("paused");
                assert_eq!(stored.run, paused, "a pause left as before is the pause");
                assert_eq!(runs, 0);
                continue_by_id(&here, &paused.run_id).await.unwrap()
            }
            (2, RunStatus::Running) => {
                seen.insert("claimed, call started");
                assert!(matches!(
                    stored.run.in_flight.as_slice(),
                    [InFlightCall::Started { .. }]
                ));
                let mut reopened = here.reopen_run(&paused.run_id).await.unwrap();
                let req = &mut reopened.requirements[0];
                assert!(req.interrupted);
                if runs == 1 {
                    req.reject("it ran before the process died");
                } else {
                    req.confirm();
                }
                here.continue_run(&paused.run_id, &reopened.requirements)
                    .await
                    .unwrap()
            }
            (3, RunStatus::Running) => {
                seen.insert("call settled");
                assert_eq!(runs, 1);
                assert!(stored.run.in_flight.is_empty());
                let reopened = here.reopen_run(&paused.run_id).await.unwrap();
                assert!(reopened.requirements.is_empty());
                here.continue_run(&paused.run_id, &reopened.requirements)
                    .await
                    .unwrap()
            }
            (4, RunStatus::Completed) => {
                seen.insert("completed");
                assert_eq!(stored.run.content, reference.content);
                assert_eq!(stored.run.messages.len(), reference.messages.len());
                stored.run
            }
            other => panic!("kill after {delay_ms} ms left the run at {other:?}: {stored:?}"),
        };
        assert_eq!(finished.status, RunStatus::Completed);
        assert_eq!(
            deployments(dir, &paused.run_id),
            1,
            "kill after {delay_ms} ms: deploy must run exactly once"
        );
    }
    eprintln!("states seen after a SIGKILL during a continue: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_run_in_another_process_sees_the_session_history() {
    if let Some(role) = child_role() {
        return play(role).await;
    }
    const TEST: &str = "a_later_run_in_another_process_sees_the_session_history";
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let here = agent(dir).await;
    let first = here.run("what system is this?").await.unwrap();
    let first = continue_by_id(&here, &first.run_id).await.unwrap();
    assert_eq!(first.status, RunStatus::Completed);

    let extra = [(SESSION, first.session_id.as_str())];
    finish(spawn(
        TEST,
        "start",
        dir,
        "later",
        "what did I ask before?",
        &extra,
    ));
    let later = outcome(dir, "later").expect("the child failed");
    assert_eq!(later.session_id, first.session_id);
    assert_eq!(
        later.content.as_deref(),
        Some("Before, you asked: what system is this?")
    );
    assert_eq!(
        here.store().session_runs(&first.session_id).await.unwrap(),
        vec![first, later]
    );
}
