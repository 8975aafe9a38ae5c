//! `SqliteStore` speed: pauses persisted per second, paused runs loaded per second, whole
//! run → pause → continue cycles of an agent on the file (the store writes of a cycle), and the
//! bytes a one-tool paused run takes. The same store operations on `PostgresStore` beside them,
//! when `KERN_TEST_POSTGRES_URL` names a server (`scripts/postgres.sh` starts one; without it the
//! Postgres group is left out with a note).
//!
//! `cargo bench --bench store` (the file is in WAL mode, in a temporary directory; the Postgres
//! tables in a schema of their own, dropped at the end). The throughput lines ("thrpt") are the
//! figures: operations per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use kern::prelude::*;
use kern::{
    Message, Metrics, PostgresOptions, PostgresStore, Requirement, RequirementKind, RunOutput,
    RunStatus, RunStore, SCHEMA_VERSION, SqliteStore, ToolCall, ToolExecution, Usage,
};
use serde_json::json;

/// A run paused on one external tool call, as the agent stores it.
fn one_tool_paused_run(run_id: String) -> RunOutput {
    let arguments = r#"{"command":"ls -la"}"#;
    RunOutput {
        schema_version: SCHEMA_VERSION,
        run_id,
        session_id: "bench-session".to_owned(),
        user_id: Some("bench-user".to_owned()),
        status: RunStatus::Paused,
        content: None,
        messages: vec![
            Message::system("You are a helpful assistant. Use the shell when it helps."),
            Message::user("What files do I have in my current directory?"),
            Message::assistant(
                None,
                vec![ToolCall::new(
                    "call_8f2a6c1e",
                    "execute_shell_command",
                    arguments,
                )],
            ),
        ],
        tool_executions: Vec::new(),
        requirements: vec![Requirement::new(
            RequirementKind::ExternalExecution,
            ToolExecution::new(
                "call_8f2a6c1e",
                "execute_shell_command",
                json!({ "command": "ls -la" }),
            ),
        )],
        pause_id: String::new(),
        in_flight: Vec::new(),
        metrics: Metrics {
            turns: 1,
            tool_calls: 1,
            usage: Usage {
                input_tokens: 96,
                output_tokens: 24,
            },
        },
        error: None,
        lease: None,
    }
}

/// Deletes a file.
///
/// # Arguments
/// * `path` - The file to delete
#[tool(requires_confirmation)]
fn delete_file(path: String) -> String {
    format!("deleted {path}")
}

/// Looks a word up.
///
/// # Arguments
/// * `word` - The word
#[tool(external_execution)]
fn look_up(word: String) -> String {
    word
}

/// Whole cycles of an agent on a SQLite file: run (pauses: one write), continue (the claim,
/// the stored progress of the calls the agent runs, the end). The figure per cycle is the cost of
/// the writes a cycle makes.
fn bench_cycles(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut group = c.benchmark_group("sqlite_agent_cycle");
    group.throughput(Throughput::Elements(1));
    for (name, confirm) in [("external_result", false), ("confirmed_call", true)] {
        let store = rt
            .block_on(SqliteStore::open(dir.path().join(format!("{name}.db"))))
            .expect("open");
        let builder = Agent::builder().model(TestModel::new()).store(store);
        let agent = if confirm {
            builder.tool(delete_file)
        } else {
            builder.tool(look_up)
        }
        .build()
        .expect("agent");
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut run = agent.run("Go").await.expect("run");
                    for req in run.active_requirements_mut() {
                        if confirm {
                            req.confirm();
                        } else {
                            req.set_external_execution_result("found");
                        }
                    }
                    let run = agent
                        .continue_run(&run.run_id, run.requirements)
                        .await
                        .expect("continue");
                    assert_eq!(run.status, RunStatus::Completed);
                    black_box(run)
                })
            })
        });
    }
    group.finish();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Bytes a one-tool paused run takes: as JSON, and in the file (pages used per run, indexes
/// included), over 10,000 runs.
fn report_stored_bytes() {
    const RUNS: usize = 10_000;
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("bytes.db");
    let store = rt.block_on(SqliteStore::open(&path)).expect("open");
    let conn = rusqlite::Connection::open(&path).expect("open a second connection");
    let file_bytes = || -> i64 {
        conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .expect("page count")
    };
    let empty = file_bytes();
    for i in 0..RUNS {
        rt.block_on(store.create(&one_tool_paused_run(format!("run-{i:08}"))))
            .expect("create");
    }
    let full = file_bytes();
    let json_bytes = serde_json::to_string(&one_tool_paused_run("run-00000000".to_owned()))
        .expect("json")
        .len();
    println!(
        "stored bytes per one-tool paused run: {json_bytes} B of JSON; {} B of SQLite file per \
         run (over {RUNS} runs, row + indexes + page slack)",
        (full - empty) / RUNS as i64
    );
}

fn bench_store(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = rt
        .block_on(SqliteStore::open(dir.path().join("runs.db")))
        .expect("open");
    bench_store_operations(c, &rt, "sqlite_store", &store);
}

/// The same operations on PostgreSQL, in a fresh schema dropped afterwards.
fn bench_postgres_store(c: &mut Criterion) {
    let Some(url) = std::env::var("KERN_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        println!(
            "postgres_store: left out: KERN_TEST_POSTGRES_URL is not set; scripts/postgres.sh \
             starts a server"
        );
        return;
    };
    let rt = runtime();
    let schema = format!("kern_bench_{}", std::process::id());
    let store = rt
        .block_on(PostgresStore::connect_with(
            &url,
            PostgresOptions::new().schema(&schema),
        ))
        .expect("connect");
    bench_store_operations(c, &rt, "postgres_store", &store);
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect to drop the schema");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .expect("drop the schema");
    });
}

/// Pauses persisted (created, and updated by compare-and-set), one at a time and 16 in flight
/// at once, and paused runs loaded, on `store`.
fn bench_store_operations(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    group_name: &str,
    store: &impl RunStore,
) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));

    // A pause persisted: a new paused run written (what `run` does when it pauses).
    let mut run = one_tool_paused_run(String::new());
    let mut next = 0u64;
    group.bench_function("persist_pause", |b| {
        b.iter(|| {
            next += 1;
            run.run_id = format!("pause-{next:012}");
            black_box(rt.block_on(store.create(&run)).expect("create"))
        })
    });

    // A pause persisted over an earlier state: the compare-and-set update (what a continue that
    // pauses again does).
    let mut updated = one_tool_paused_run("updated".to_owned());
    let mut version = rt.block_on(store.create(&updated)).expect("create");
    group.bench_function("persist_pause_update", |b| {
        b.iter(|| {
            updated.metrics.turns = updated.metrics.turns.wrapping_add(1);
            version = rt
                .block_on(store.update(&updated, version))
                .expect("update");
            black_box(version)
        })
    });

    // Pauses persisted by 16 runs at once (as a worker serving many users does): the figure is
    // pauses per second.
    const IN_FLIGHT: usize = 16;
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    let mut batch: Vec<RunOutput> = (0..IN_FLIGHT)
        .map(|_| one_tool_paused_run(String::new()))
        .collect();
    group.bench_function("persist_pause_16_in_flight", |b| {
        b.iter(|| {
            for run in &mut batch {
                next += 1;
                run.run_id = format!("pause-{next:012}");
            }
            let creates = futures::future::join_all(batch.iter().map(|run| store.create(run)));
            for created in rt.block_on(creates) {
                black_box(created.expect("create"));
            }
        })
    });
    group.throughput(Throughput::Elements(1));

    // A resume loaded: a paused run read back and decoded, one of 10,000 (plus the runs above).
    let ids: Vec<String> = (0..10_000).map(|i| format!("load-{i:012}")).collect();
    rt.block_on(async {
        for chunk in ids.chunks(IN_FLIGHT) {
            let runs: Vec<RunOutput> = chunk
                .iter()
                .map(|id| one_tool_paused_run(id.clone()))
                .collect();
            for created in futures::future::join_all(runs.iter().map(|run| store.create(run))).await
            {
                created.expect("create");
            }
        }
    });
    let mut i = 0usize;
    group.bench_function("load_pause", |b| {
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(rt.block_on(store.load(&ids[i])).expect("load"))
        })
    });
    group.finish();
}

fn main() {
    report_stored_bytes();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    bench_store(&mut criterion);
    bench_postgres_store(&mut criterion);
    bench_cycles(&mut criterion);
    criterion.final_summary();
}
