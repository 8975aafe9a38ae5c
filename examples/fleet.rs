//! A fleet: one process pauses many runs into a shared store, and worker processes drain them.
//! Each worker claims a paused run (a lease: no other worker takes it meanwhile), marks the
//! external call started and saves that, executes it, and continues the run; a worker that died
//! would lose its lease and another would take the run over, with the call it had started
//! surfaced as interrupted.
//!
//! ```text
//! cargo run --example fleet                                   # SQLite file in a temp dir
//! cargo run --example fleet -- --runs 500 --workers 4
//! cargo run --example fleet --features postgres -- --postgres postgresql://kern@127.0.0.1/kern
//! ```
//!
//! The workers are this program again (`--worker NAME`). The model is `TestModel` (offline): it
//! calls the tool, then answers.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use kern::prelude::*;
use kern::store::{ClaimRequest, PageRequest, Retention, RunFilter};

/// Counts the words of a text.
///
/// # Arguments
/// * `text` - The text
#[tool(external_execution)]
fn count_words(text: String) -> Result<String, ToolError> {
    Ok(text.split_whitespace().count().to_string())
}

/// Where the runs are: `--sqlite PATH` or `--postgres URL` (with `--schema NAME`).
#[derive(Debug, Clone)]
enum Place {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Place {
    fn args(&self) -> Vec<String> {
        match self {
            Place::Sqlite(path) => vec!["--sqlite".into(), path.display().to_string()],
            Place::Postgres { url, schema } => vec![
                "--postgres".into(),
                url.clone(),
                "--schema".into(),
                schema.clone(),
            ],
        }
    }

    async fn open(&self) -> kern::Result<Box<dyn RunStore>> {
        match self {
            Place::Sqlite(path) => Ok(Box::new(SqliteStore::open(path).await?)),
            #[cfg(feature = "postgres")]
            Place::Postgres { url, schema } => Ok(Box::new(
                PostgresStore::connect_with(url, kern::PostgresOptions::new().schema(schema))
                    .await?,
            )),
            #[cfg(not(feature = "postgres"))]
            Place::Postgres { .. } => Err(kern::Error::Config(
                "--postgres needs the `postgres` feature: cargo run --example fleet --features \
                 postgres -- --postgres URL"
                    .into(),
            )),
        }
    }
}

fn agent(store: Box<dyn RunStore>) -> kern::Result<Agent> {
    Agent::builder()
        .model(TestModel::new())
        .tool(count_words)
        .store(store)
        .build()
}

/// A worker: claims runs until none is left, and finishes each.
async fn work(name: &str, place: &Place) -> kern::Result<()> {
    let agent = agent(place.open().await?)?;
    let claim = ClaimRequest::new(name, Duration::from_secs(30));
    let mut done = 0;
    while let Some(claimed) = agent.store().claim(&claim).await? {
        let run_id = claimed.run.run_id;
        let mut requirements = claimed.run.requirements;
        // Stored before executing: if this worker dies now, the next claimer sees the call
        // as interrupted and decides, instead of executing it a second time unknowingly.
        for requirement in requirements.iter_mut().filter(|r| !r.is_resolved()) {
            requirement.mark_started();
        }
        agent.save_progress(&run_id, &requirements).await?;
        for requirement in requirements.iter_mut().filter(|r| !r.is_resolved()) {
            // An interrupted call (its worker died after starting it) is the host's to decide;
            // counting words has no side effects, so this host runs it again.
            let result = count_words
                .entrypoint(&requirement.tool_execution.tool_args)
                .await;
            requirement.set_external_execution_result(result);
        }
        agent.continue_run(&run_id, &requirements).await?;
        done += 1;
    }
    println!("{name}: finished {done} runs");
    Ok(())
}

/// Counts the runs of `status`, page by page.
async fn count(store: &dyn RunStore, status: RunStatus) -> kern::Result<usize> {
    let filter = RunFilter::all().status(status);
    let mut page = PageRequest::first(1000);
    let mut total = 0;
    loop {
        let found = store.list_runs(&filter, &page).await?;
        total += found.runs.len();
        match found.next {
            Some(next) => page = PageRequest::after(1000, next),
            None => return Ok(total),
        }
    }
}

async fn host(place: &Place, runs: usize, workers: usize) -> kern::Result<bool> {
    let agent = agent(place.open().await?)?;
    let started = Instant::now();
    for i in 0..runs {
        agent
            .run(format!("How many words has sentence {i}?"))
            .await?;
    }
    println!(
        "paused {runs} runs in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let exe = std::env::current_exe().map_err(|e| kern::Error::Config(e.to_string()))?;
    let children: Vec<_> = (0..workers)
        .map(|i| {
            Command::new(&exe)
                .arg("--worker")
                .arg(format!("worker-{i}"))
                .args(place.args())
                .spawn()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| kern::Error::Config(format!("start a worker: {e}")))?;
    let mut all_ok = true;
    for mut child in children {
        all_ok &= child.wait().is_ok_and(|status| status.success());
    }
    let completed = count(agent.store(), RunStatus::Completed).await?;
    let paused = count(agent.store(), RunStatus::Paused).await?;
    println!(
        "{workers} workers drained them in {:.2} s: {completed} completed, {paused} paused",
        started.elapsed().as_secs_f64()
    );
    // The finished runs are not needed any more: a retention policy lets them go.
    let purged = agent
        .store()
        .purge(&Retention::finished_for(Duration::ZERO))
        .await?;
    println!("purged {purged} finished runs");
    Ok(all_ok && completed == runs && paused == 0)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number =
        |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    let temp = tempfile::tempdir().expect("a temp dir");
    let place = match (value("--postgres"), value("--sqlite")) {
        (Some(url), _) => Place::Postgres {
            url,
            schema: value("--schema")
                .unwrap_or_else(|| format!("kern_fleet_example_{}", std::process::id())),
        },
        (None, Some(path)) => Place::Sqlite(path.into()),
        (None, None) => Place::Sqlite(temp.path().join("fleet.db")),
    };
    let outcome = match value("--worker") {
        Some(name) => work(&name, &place).await.map(|()| true),
        None => host(&place, number("--runs", 200), number("--workers", 3)).await,
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("some runs were not drained");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
