//! ShellTools: exit status, output limits, timeout (the process group is killed), working
//! directory confined to the root, and `run_command` pausing for confirmation in a real run.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use kern_core::{
    Agent, ExecutionMode, FunctionModel, IntoTools, ModelResponse, RunStatus, ToolCall,
};
use kern_toolkit::ShellTools;

fn root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    std::fs::write(tmp.path().join("a.txt"), "a").unwrap();
    tmp
}

/// Whether the process `pid` is gone (or a zombie waiting to be reaped), within a few seconds.
fn is_gone(pid: &str) -> bool {
    let pid = pid.trim();
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            // The state is the field after the `(command)`.
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true;
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

#[tokio::test]
async fn exit_status_and_both_streams_come_back_as_the_result() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path());
    let out = shell
        .run_command("echo out; echo err >&2; exit 2".into(), None)
        .await
        .unwrap();
    assert_eq!(out, "exit status: 2\nstdout:\nout\n\nstderr:\nerr\n");

    let out = shell.run_command("true".into(), None).await.unwrap();
    assert_eq!(out, "exit status: 0\nstdout:\n\nstderr:\n");

    let out = shell
        .run_command("no-such-command-kern".into(), None)
        .await
        .unwrap();
    assert!(out.starts_with("exit status: 127\n"), "{out}");
}

#[tokio::test]
async fn a_command_killed_by_a_signal_reports_it() {
    let tmp = root();
    let out = ShellTools::new(tmp.path())
        .run_command("kill -9 $$".into(), None)
        .await
        .unwrap();
    // `$?` of a shell killed by signal 9.
    assert!(out.starts_with("exit status: 137\n"), "{out}");
}

#[tokio::test]
async fn output_over_the_limit_is_cut_and_said() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).max_output_bytes(1000);
    let start = Instant::now();
    let out = shell
        .run_command(
            "head -c 300000 /dev/zero | tr '\\0' a; echo tail >&2".into(),
            None,
        )
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(20));
    let expected = format!(
        "exit status: 0\nstdout:\n{}\n[stdout truncated: 300000 bytes in all, the first 1000 shown]\nstderr:\ntail\n",
        "a".repeat(1000)
    );
    assert_eq!(out, expected);
}

#[tokio::test]
async fn timeout_kills_the_command_and_what_it_started() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).timeout(Duration::from_millis(500));
    let start = Instant::now();
    let err = shell
        .run_command(
            "echo started; sleep 30 & echo $! > sleep.pid; wait".into(),
            None,
        )
        .await
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let message = err.message();
    assert!(
        message.starts_with("the command timed out after 500ms and was killed\nstdout:\nstarted\n"),
        "{message}"
    );
    let pid = std::fs::read_to_string(tmp.path().join("sleep.pid")).unwrap();
    assert!(is_gone(&pid), "the background sleep {pid} still runs");
}

#[tokio::test]
async fn background_processes_do_not_outlive_the_command() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).timeout(Duration::from_secs(20));
    let start = Instant::now();
    let out = shell
        .run_command("sleep 30 & echo $! > bg.pid; echo done".into(), None)
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out, "exit status: 0\nstdout:\ndone\n\nstderr:\n");
    let pid = std::fs::read_to_string(tmp.path().join("bg.pid")).unwrap();
    assert!(is_gone(&pid), "the background sleep {pid} still runs");
}

#[tokio::test]
async fn dropping_the_call_kills_the_command() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path());
    let call = shell.run_command("sleep 30 & echo $! > bg.pid; wait".into(), None);
    // Cancelled (as when a run is dropped) once the command has started.
    let _ = tokio::time::timeout(Duration::from_millis(500), call).await;
    let pid = std::fs::read_to_string(tmp.path().join("bg.pid")).unwrap();
    assert!(is_gone(&pid), "the background sleep {pid} still runs");
}

/// Kills `pid` when dropped, should a test fail with the process still running.
struct KillOnDrop(Option<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.filter(|p| *p > 1) {
            // SAFETY: kill(2) on a pid this test started; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// The pid a command wrote to `file` in the root.
fn pid_in(root: &Path, file: &str) -> (String, KillOnDrop) {
    let pid = std::fs::read_to_string(root.join(file)).unwrap();
    let guard = KillOnDrop(pid.trim().parse().ok());
    (pid, guard)
}

/// A process in a session of its own (`setsid`), its pid in `sid.pid` once it runs, then `tail`.
fn setsid_sleeper(tail: &str) -> String {
    format!(
        "setsid sh -c 'echo $$ > sid.pid.tmp; mv sid.pid.tmp sid.pid; exec sleep 1000' & \
         while [ ! -e sid.pid ]; do sleep 0.01; done; {tail}"
    )
}

#[tokio::test]
async fn timeout_kills_a_process_that_left_the_session() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).timeout(Duration::from_secs(3));
    let err = shell
        .run_command(setsid_sleeper("echo ready; sleep 60"), None)
        .await
        .unwrap_err();
    assert!(err.message().contains("timed out"), "{}", err.message());
    assert!(err.message().contains("ready"), "{}", err.message());
    let (pid, _guard) = pid_in(tmp.path(), "sid.pid");
    assert!(is_gone(&pid), "the setsid sleep {pid} still runs");
}

#[tokio::test]
async fn a_process_that_left_the_session_does_not_outlive_a_finished_command() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).timeout(Duration::from_secs(60));
    let out = shell
        .run_command(setsid_sleeper("echo done"), None)
        .await
        .unwrap();
    assert_eq!(out, "exit status: 0\nstdout:\ndone\n\nstderr:\n");
    let (pid, _guard) = pid_in(tmp.path(), "sid.pid");
    assert!(is_gone(&pid), "the setsid sleep {pid} still runs");
}

#[tokio::test]
async fn an_orphan_whose_parent_exited_does_not_outlive_the_command() {
    // A double fork: the sleep's parent exits at once, the sleep is orphaned.
    let tmp = root();
    let shell = ShellTools::new(tmp.path()).timeout(Duration::from_secs(60));
    let out = shell
        .run_command(
            "(sleep 1000 & echo $! > orphan.pid.tmp; mv orphan.pid.tmp orphan.pid); echo done"
                .into(),
            None,
        )
        .await
        .unwrap();
    assert!(out.contains("done"), "{out}");
    let (pid, _guard) = pid_in(tmp.path(), "orphan.pid");
    assert!(is_gone(&pid), "the orphaned sleep {pid} still runs");
}

#[tokio::test]
async fn commands_get_a_clean_environment() {
    // SAFETY: this test binary reads no variable through libc in another thread; std's own
    // readers take the same lock as `set_var`.
    unsafe {
        std::env::set_var("KERN_TEST_FAKE_API_KEY", "sk-should-not-leak");
        std::env::set_var("KERN_TEST_PASSED_ON", "passed-value");
    }
    let tmp = root();
    let out = ShellTools::new(tmp.path())
        .run_command("env".into(), None)
        .await
        .unwrap();
    assert!(!out.contains("sk-should-not-leak"), "{out}");
    assert!(!out.contains("KERN_TEST_PASSED_ON"), "{out}");
    assert!(out.contains("\nPATH="), "{out}");
    // Only PATH, HOME and LANG of the host's (and what sh sets itself: PWD, SHLVL, _).
    for line in out.lines().skip(2).take_while(|l| !l.is_empty()) {
        let name = line.split('=').next().unwrap_or("");
        assert!(
            ["PATH", "HOME", "LANG", "PWD", "OLDPWD", "SHLVL", "_"].contains(&name),
            "unexpected variable: {line}"
        );
    }

    let out = ShellTools::new(tmp.path())
        .pass_env("KERN_TEST_PASSED_ON")
        .pass_env("KERN_TEST_NOT_SET_ANYWHERE")
        .env("GREETING", "hello")
        .env("PATH", "/usr/bin:/bin")
        .run_command(
            "echo \"$KERN_TEST_PASSED_ON $GREETING $PATH ${KERN_TEST_FAKE_API_KEY:-unset}\"".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "exit status: 0\nstdout:\npassed-value hello /usr/bin:/bin unset\n\nstderr:\n"
    );
}

#[tokio::test]
async fn the_working_directory_is_confined_to_the_root() {
    let tmp = root();
    let canonical = std::fs::canonicalize(tmp.path()).unwrap();
    let shell = ShellTools::new(tmp.path());
    let out = shell.run_command("pwd".into(), None).await.unwrap();
    assert_eq!(
        out,
        format!(
            "exit status: 0\nstdout:\n{}\n\nstderr:\n",
            canonical.display()
        )
    );
    let out = shell
        .run_command("pwd".into(), Some("sub".into()))
        .await
        .unwrap();
    assert!(out.contains(&format!("{}\n", canonical.join("sub").display())));

    for (dir, why) in [
        ("..", "`..`"),
        ("sub/../..", "`..`"),
        ("/tmp", "absolute"),
        ("missing", "does not exist"),
        ("a.txt", "not a directory"),
    ] {
        let err = shell
            .run_command("touch escaped".into(), Some(dir.into()))
            .await
            .unwrap_err();
        assert!(err.message().contains(why), "{dir}: {}", err.message());
    }
    std::os::unix::fs::symlink("/", tmp.path().join("slash")).unwrap();
    let err = shell
        .run_command("touch escaped".into(), Some("slash".into()))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("outside the root"),
        "{}",
        err.message()
    );
    assert!(!Path::new("/escaped").exists());
}

#[tokio::test]
async fn list_dir_lists_under_the_root() {
    let tmp = root();
    let shell = ShellTools::new(tmp.path());
    assert_eq!(shell.list_dir(None).unwrap(), "a.txt\nsub/");
    assert_eq!(
        shell.list_dir(Some("sub".into())).unwrap(),
        "`sub` is empty"
    );
    assert!(shell.list_dir(Some("../".into())).is_err());
}

#[test]
fn default_modes() {
    let mut tools = Vec::new();
    ShellTools::new(".").into_tools(&mut tools).unwrap();
    let modes: Vec<_> = tools
        .iter()
        .map(|t| (t.definition().name.to_string(), t.definition().mode.clone()))
        .collect();
    assert_eq!(
        modes,
        [
            (
                "run_command".to_owned(),
                ExecutionMode::RequiresConfirmation
            ),
            ("list_dir".to_owned(), ExecutionMode::Internal),
        ]
    );
    assert_eq!(
        tools[0].definition().parameters["required"],
        serde_json::json!(["command"])
    );
}

fn agent(root: &Path) -> Agent {
    Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([
                ToolCall::new("c1", "list_dir", "{}"),
                ToolCall::new(
                    "c2",
                    "run_command",
                    r#"{"command":"echo ran > ran.txt; echo hello","directory":"sub"}"#,
                ),
            ]),
            ModelResponse::text("done"),
        ]))
        .tool(ShellTools::new(root))
        .build()
        .unwrap()
}

#[tokio::test]
async fn agent_pauses_run_command_for_confirmation_and_runs_it_when_confirmed() {
    let tmp = root();
    let agent = agent(tmp.path());
    let mut run = agent.run("go").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(
        run.tool_executions.len(),
        1,
        "list_dir ran inside the agent"
    );
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("a.txt\nsub/")
    );
    assert_eq!(run.requirements.len(), 1);
    let req = &run.requirements[0];
    assert!(req.needs_confirmation());
    assert_eq!(req.tool_execution.tool_name, "run_command");
    assert!(!tmp.path().join("sub/ran.txt").exists(), "not run before");

    for req in run.active_requirements_mut() {
        req.confirm();
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(tmp.path().join("sub/ran.txt").exists());
    let executed = run
        .tool_executions
        .iter()
        .find(|e| e.tool_name == "run_command")
        .unwrap();
    assert_eq!(
        executed.result.as_deref(),
        Some("exit status: 0\nstdout:\nhello\n\nstderr:\n")
    );
}

#[tokio::test]
async fn agent_does_not_run_a_rejected_command() {
    let tmp = root();
    let agent = agent(tmp.path());
    let mut run = agent.run("go").await.unwrap();
    for req in run.active_requirements_mut() {
        req.reject("no");
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(!tmp.path().join("sub/ran.txt").exists());
}
