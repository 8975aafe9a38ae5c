//! FileTools: confinement to the root (`..`, absolute paths, symbolic links), size limits,
//! search, and the default execution modes through a real agent run.

use std::path::{Path, PathBuf};

use kern_core::{
    Agent, ExecutionMode, FunctionModel, IntoTools, ModelResponse, RunStatus, ToolCall,
};
use kern_toolkit::FileTools;
use tempfile::TempDir;

/// `<tmp>/root` with `a.txt` and `sub/b.txt`, and `<tmp>/outside/secret.txt` next to it.
struct Tree {
    _tmp: TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("a.txt"), "alpha\nbeta needle\n").unwrap();
    std::fs::write(root.join("sub/b.txt"), "one\nneedle two\nthree needle\n").unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET needle\n").unwrap();
    Tree {
        _tmp: tmp,
        root,
        outside,
    }
}

fn err(result: Result<String, kern_core::ToolError>) -> String {
    match result {
        Ok(ok) => panic!("expected a tool error, got Ok({ok:?})"),
        Err(e) => e.message().to_owned(),
    }
}

#[test]
fn reads_lists_and_writes_under_the_root() {
    let t = tree();
    let files = FileTools::new(&t.root);
    assert_eq!(
        files.read_file("a.txt".into()).unwrap(),
        "alpha\nbeta needle\n"
    );
    assert_eq!(
        files.read_file("./sub/b.txt".into()).unwrap(),
        "one\nneedle two\nthree needle\n"
    );
    assert_eq!(files.list_files(None).unwrap(), "a.txt\nsub/");
    assert_eq!(files.list_files(Some("sub".into())).unwrap(), "b.txt");

    let out = files
        .write_file("new/deep/c.txt".into(), "gamma".into())
        .unwrap();
    assert_eq!(out, "wrote 5 bytes to `new/deep/c.txt`");
    assert_eq!(
        std::fs::read_to_string(t.root.join("new/deep/c.txt")).unwrap(),
        "gamma"
    );
    // Replaces an existing file.
    files.write_file("a.txt".into(), "replaced".into()).unwrap();
    assert_eq!(files.read_file("a.txt".into()).unwrap(), "replaced");
}

#[test]
fn parent_components_are_refused() {
    let t = tree();
    let files = FileTools::new(&t.root);
    for path in [
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        "..",
    ] {
        let message = err(files.read_file(path.into()));
        assert!(message.contains("`..`"), "{path}: {message}");
    }
    assert!(err(files.list_files(Some("..".into()))).contains("`..`"));
    assert!(err(files.search_files("needle".into(), Some("../outside".into()))).contains("`..`"));
    let message = err(files.write_file("../outside/evil.txt".into(), "x".into()));
    assert!(message.contains("`..`"), "{message}");
    assert!(!t.outside.join("evil.txt").exists());
    // Even `..` that would stay inside is refused: the rule is simple to state to a model.
    assert!(err(files.read_file("sub/../a.txt".into())).contains("`..`"));
}

#[test]
fn absolute_paths_are_refused() {
    let t = tree();
    let files = FileTools::new(&t.root);
    let secret = t.outside.join("secret.txt");
    let message = err(files.read_file(secret.display().to_string()));
    assert!(message.contains("absolute path"), "{message}");
    // Absolute, even when it points inside the root.
    let inside = t.root.join("a.txt");
    assert!(err(files.read_file(inside.display().to_string())).contains("absolute"));
    let target = t.outside.join("evil.txt");
    assert!(err(files.write_file(target.display().to_string(), "x".into())).contains("absolute"));
    assert!(!target.exists());
    assert!(err(files.list_files(Some("/".into()))).contains("absolute"));
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_root_are_refused() {
    use std::os::unix::fs::symlink;
    let t = tree();
    symlink(t.outside.join("secret.txt"), t.root.join("link.txt")).unwrap();
    symlink(&t.outside, t.root.join("dirlink")).unwrap();
    symlink("a.txt", t.root.join("inner_link.txt")).unwrap();
    symlink("../a.txt", t.root.join("sub/up_link.txt")).unwrap();
    symlink(t.root.join("a.txt"), t.root.join("absolute_inner_link.txt")).unwrap();
    symlink(t.outside.join("missing.txt"), t.root.join("dangling.txt")).unwrap();
    let files = FileTools::new(&t.root);

    for path in ["link.txt", "dirlink/secret.txt"] {
        let message = err(files.read_file(path.into()));
        assert!(message.contains("outside the root"), "{path}: {message}");
    }
    assert!(err(files.list_files(Some("dirlink".into()))).contains("outside the root"));
    assert!(
        err(files.search_files("needle".into(), Some("dirlink".into())))
            .contains("outside the root")
    );

    // Writing through a link: to a file outside, into a directory outside, to a dangling link.
    let message = err(files.write_file("link.txt".into(), "owned".into()));
    assert!(message.contains("outside the root"), "{message}");
    assert_eq!(
        std::fs::read_to_string(t.outside.join("secret.txt")).unwrap(),
        "SECRET needle\n"
    );
    let message = err(files.write_file("dirlink/new.txt".into(), "owned".into()));
    assert!(message.contains("outside the root"), "{message}");
    assert!(!t.outside.join("new.txt").exists());
    let message = err(files.write_file("dirlink/a/b/new.txt".into(), "owned".into()));
    assert!(message.contains("outside the root"), "{message}");
    assert!(!t.outside.join("a").exists());
    assert!(
        files
            .write_file("dangling.txt".into(), "owned".into())
            .is_err()
    );
    assert!(!t.outside.join("missing.txt").exists());

    // A relative link that stays inside is followed, also one that climbs back up to the root.
    assert_eq!(
        files.read_file("inner_link.txt".into()).unwrap(),
        "alpha\nbeta needle\n"
    );
    assert_eq!(
        files.read_file("sub/up_link.txt".into()).unwrap(),
        "alpha\nbeta needle\n"
    );
    // An absolute link is refused even when it names a place inside: it is resolved beneath
    // the root, where no absolute path is.
    let message = err(files.read_file("absolute_inner_link.txt".into()));
    assert!(message.contains("outside the root"), "{message}");
    // The search does not follow links at all: the secret is not found, the inner file once.
    let found = files.search_files("needle".into(), None).unwrap();
    assert!(!found.contains("SECRET"), "{found}");
    assert_eq!(found.matches("a.txt:2:").count(), 1, "{found}");
}

#[test]
fn a_symlinked_root_is_fine() {
    let t = tree();
    #[cfg(unix)]
    {
        let alias = t.root.parent().unwrap().join("alias");
        std::os::unix::fs::symlink(&t.root, &alias).unwrap();
        let files = FileTools::new(&alias);
        assert_eq!(files.list_files(None).unwrap(), "a.txt\nsub/");
        files.write_file("x.txt".into(), "x".into()).unwrap();
        assert!(t.root.join("x.txt").exists());
    }
    let _ = t;
}

#[test]
fn oversized_reads_are_truncated_and_oversized_writes_refused() {
    let t = tree();
    std::fs::write(t.root.join("big.txt"), "é".repeat(1000)).unwrap(); // 2000 bytes
    let files = FileTools::new(&t.root)
        .max_read_bytes(101)
        .max_write_bytes(10);

    let read = files.read_file("big.txt".into()).unwrap();
    let (text, note) = read.split_once('\n').unwrap();
    // 101 bytes would cut a 2-byte character: 50 characters (100 bytes) are kept.
    assert_eq!(text, "é".repeat(50));
    assert_eq!(
        note,
        "[truncated: `big.txt` is 2000 bytes; only the first 101 are shown]"
    );

    let message = err(files.write_file("w.txt".into(), "x".repeat(11)));
    assert!(
        message.contains("11 bytes, over the limit of 10"),
        "{message}"
    );
    assert!(!t.root.join("w.txt").exists());
    files.write_file("w.txt".into(), "x".repeat(10)).unwrap();
}

#[test]
fn listing_and_search_are_bounded() {
    let t = tree();
    for i in 0..5 {
        std::fs::write(t.root.join(format!("n{i}.txt")), "needle\n".repeat(3)).unwrap();
    }
    let files = FileTools::new(&t.root).max_entries(3).max_matches(4);
    assert_eq!(
        files.list_files(None).unwrap(),
        "a.txt\nn0.txt\nn1.txt\n[4 more entries not shown: the limit is 3]"
    );
    assert_eq!(
        files.search_files("needle".into(), None).unwrap(),
        "a.txt:2: beta needle\nn0.txt:1: needle\nn0.txt:2: needle\nn0.txt:3: needle\n\
         [search stopped after 4 matching lines]"
    );
}

#[test]
fn search_gives_path_line_and_text() {
    let t = tree();
    std::fs::write(t.root.join("sub/bin.dat"), b"needle\0binary").unwrap();
    std::fs::write(
        t.root.join("long.txt"),
        format!("{}needle", "x".repeat(300)),
    )
    .unwrap();
    let files = FileTools::new(&t.root);
    let found = files.search_files("needle".into(), None).unwrap();
    let expected_long = format!("long.txt:1: {}…", "x".repeat(200));
    assert_eq!(
        found,
        format!(
            "a.txt:2: beta needle\n{expected_long}\nsub/b.txt:2: needle two\nsub/b.txt:3: three needle"
        )
    );
    assert_eq!(
        files
            .search_files("needle".into(), Some("sub".into()))
            .unwrap(),
        "sub/b.txt:2: needle two\nsub/b.txt:3: three needle"
    );
    assert_eq!(
        files.search_files("absent".into(), None).unwrap(),
        "no line contains `absent` under `.`"
    );
    assert!(files.search_files(String::new(), None).is_err());
}

#[test]
fn bad_inputs_are_tool_errors() {
    let t = tree();
    let files = FileTools::new(&t.root);
    assert!(err(files.read_file("missing.txt".into())).contains("does not exist"));
    assert!(err(files.read_file("sub".into())).contains("is a directory"));
    assert!(err(files.read_file("a\0b".into())).contains("NUL"));
    assert!(err(files.list_files(Some("a.txt".into()))).contains("not a directory"));
    assert!(err(files.write_file("sub".into(), "x".into())).contains("is a directory"));
    assert!(err(files.write_file(".".into(), "x".into())).contains("does not name a file"));
    assert!(err(files.write_file(String::new(), "x".into())).contains("does not name a file"));
    assert!(files.write_file("a.txt/x".into(), "x".into()).is_err());
    let gone = FileTools::new(t.root.join("nope"));
    assert!(err(gone.list_files(None)).contains("root directory"));
}

fn tool_names_and_modes(files: FileTools) -> Vec<(String, ExecutionMode)> {
    let mut tools = Vec::new();
    files.into_tools(&mut tools).unwrap();
    tools
        .iter()
        .map(|t| (t.definition().name.to_string(), t.definition().mode.clone()))
        .collect()
}

#[test]
fn default_modes_and_schemas() {
    use ExecutionMode::*;
    assert_eq!(
        tool_names_and_modes(FileTools::new(".")),
        [
            ("read_file".to_owned(), Internal),
            ("write_file".to_owned(), RequiresConfirmation),
            ("list_files".to_owned(), Internal),
            ("search_files".to_owned(), Internal),
        ]
    );
    let mut tools = Vec::new();
    FileTools::new(".").into_tools(&mut tools).unwrap();
    let write = tools[1].definition();
    assert_eq!(
        write.description,
        "Writes a text file, creating it (and its missing directories) or replacing it."
    );
    assert_eq!(
        write.parameters["required"],
        serde_json::json!(["path", "content"])
    );
    assert_eq!(
        tools[3].definition().parameters["required"],
        serde_json::json!(["pattern"])
    );
}

fn script_read_and_write() -> FunctionModel {
    FunctionModel::script([
        ModelResponse::calls([
            ToolCall::new("c1", "read_file", r#"{"path":"a.txt"}"#),
            ToolCall::new(
                "c2",
                "write_file",
                r#"{"path":"out.txt","content":"hello"}"#,
            ),
        ]),
        ModelResponse::text("done"),
    ])
}

fn agent(root: &Path) -> Agent {
    Agent::builder()
        .model(script_read_and_write())
        .tool(FileTools::new(root))
        .build()
        .unwrap()
}

#[tokio::test]
async fn agent_reads_at_once_and_pauses_to_confirm_a_write() {
    let t = tree();
    let agent = agent(&t.root);
    let mut run = agent.run("copy").await.unwrap();
    assert!(run.is_paused());
    // The read ran inside the agent; only the write waits.
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("alpha\nbeta needle\n")
    );
    assert_eq!(run.requirements.len(), 1);
    assert!(run.requirements[0].needs_confirmation());
    assert_eq!(run.requirements[0].tool_execution.tool_name, "write_file");
    assert!(!t.root.join("out.txt").exists(), "nothing written before");

    for req in run.active_requirements_mut() {
        req.confirm();
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("done"));
    assert_eq!(
        std::fs::read_to_string(t.root.join("out.txt")).unwrap(),
        "hello"
    );
}

#[tokio::test]
async fn agent_rejected_write_writes_nothing() {
    let t = tree();
    let agent = agent(&t.root);
    let mut run = agent.run("copy").await.unwrap();
    for req in run.active_requirements_mut() {
        req.reject("not now");
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(!t.root.join("out.txt").exists());
}

#[tokio::test]
async fn agent_gets_escape_attempts_as_tool_errors() {
    let t = tree();
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([
                ToolCall::new("c1", "read_file", r#"{"path":"../outside/secret.txt"}"#),
                ToolCall::new("c2", "read_file", r#"{"path":7}"#),
            ]),
            ModelResponse::text("ok"),
        ]))
        .tool(FileTools::new(&t.root))
        .build()
        .unwrap();
    let run = agent.run("steal").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.tool_executions.len(), 2);
    for execution in &run.tool_executions {
        assert!(execution.is_error, "{execution:?}");
        assert!(!execution.result.as_deref().unwrap_or("").contains("SECRET"));
    }
}

/// Runs `call` on a thread; a call that blocks for a minute fails the test instead of hanging it.
#[cfg(unix)]
fn within_a_minute<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(call());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the call blocked")
}

#[cfg(unix)]
#[test]
fn a_fifo_inside_the_root_is_refused_not_read() {
    let t = tree();
    let status = std::process::Command::new("mkfifo")
        .arg(t.root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("pipe", t.root.join("pipe_link")).unwrap();
    for path in ["pipe", "pipe_link"] {
        let files = FileTools::new(&t.root);
        let message = err(within_a_minute(move || files.read_file(path.into())));
        assert!(message.contains("not a regular file"), "{path}: {message}");
        let files = FileTools::new(&t.root);
        let message = err(within_a_minute(move || {
            files.write_file(path.into(), "x".into())
        }));
        assert!(message.contains("not a regular file"), "{path}: {message}");
    }
    // The search skips it, and still finds the rest.
    let files = FileTools::new(&t.root);
    let found = within_a_minute(move || files.search_files("needle".into(), None)).unwrap();
    assert!(found.contains("a.txt:2:"), "{found}");
}

/// While one thread keeps swapping the directory `root/d` for a symbolic link to the directory
/// outside (and back), another keeps reading `d/f.txt` and writing `d/w.txt`: no read may give
/// the outside file, no write may land outside. Checked with `canonicalize` and opened after,
/// both happened (the issue measured 15 857 outside reads in 1.25 M tries).
#[cfg(target_os = "linux")]
#[test]
fn a_directory_swapped_for_a_link_during_calls_never_leads_out() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let t = tree();
    let d = t.root.join("d");
    let link = t.root.join("d.link");
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::symlink(&t.outside, &link).unwrap();
    std::fs::write(d.join("f.txt"), "inside").unwrap();
    std::fs::write(t.outside.join("f.txt"), "OUTSIDE SECRET").unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let d = std::ffi::CString::new(d.as_os_str().as_encoded_bytes()).unwrap();
        let link = std::ffi::CString::new(link.as_os_str().as_encoded_bytes()).unwrap();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // `d` and `d.link` trade places atomically: `d` is always there, a directory
                // or a link to the outside.
                // SAFETY: renameat2(2) with two valid NUL-terminated paths.
                let done = unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        d.as_ptr(),
                        libc::AT_FDCWD,
                        link.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        })
    };

    let files = FileTools::new(&t.root);
    let mut outside_reads = 0;
    let mut inside_reads = 0;
    for _ in 0..5_000 {
        match files.read_file("d/f.txt".into()) {
            Ok(text) if text.contains("SECRET") => outside_reads += 1,
            Ok(_) => inside_reads += 1,
            Err(_) => {}
        }
        let _ = files.write_file("d/w.txt".into(), "written".into());
        if t.outside.join("w.txt").exists() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();

    assert_eq!(
        outside_reads, 0,
        "reads of the outside file ({swaps} swaps)"
    );
    assert!(
        !t.outside.join("w.txt").exists(),
        "a write landed outside the root ({swaps} swaps)"
    );
    // The calls did run between the swaps: the race was there to be lost.
    assert!(
        inside_reads > 0 && swaps > 0,
        "{inside_reads} reads, {swaps} swaps"
    );
}
