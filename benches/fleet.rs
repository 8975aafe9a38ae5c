//! A fleet's speed, SQLite and PostgreSQL side by side: pauses persisted per second (a run that
//! pauses on one external call, stored), and runs claimed + continued per second by 1 and by 4
//! workers (each: claim with a lease, mark started and save progress, set the result, continue
//! to the end). The workers are tokio tasks of one process on a multi-thread runtime, each with
//! a store of its own (its own SQLite connection; its own pool of up to 4 Postgres connections).
//!
//! `cargo bench --bench fleet` (SQLite file in a temp dir; the Postgres part needs
//! `KERN_TEST_POSTGRES_URL`, which `scripts/postgres.sh` starts, and is left out with a note
//! without it; its tables are in a schema of their own, dropped at the end). The throughput
//! lines ("thrpt") are the figures.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use kern::prelude::*;
use kern::store::ClaimRequest;
use kern::{PostgresOptions, PostgresStore, SqliteStore};

/// Fetches a page.
///
/// # Arguments
/// * `url` - The page
#[tool(external_execution)]
fn fetch(url: String) -> Result<String, ToolError> {
    Ok(url)
}

fn agent(store: Box<dyn RunStore>) -> Agent {
    Agent::builder()
        .model(TestModel::new())
        .tool(fetch)
        .store(store)
        .build()
        .expect("agent")
}

/// Opens one more store on the same data.
type Opener = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Box<dyn RunStore>>>>>;

/// One worker's loop: claims until nothing is claimable, finishing each run.
async fn drain(agent: Agent, worker: String) -> usize {
    let claim = ClaimRequest::new(worker, Duration::from_secs(60));
    let mut done = 0;
    while let Some(claimed) = agent.store().claim(&claim).await.expect("claim") {
        let run_id = claimed.run.run_id;
        let mut requirements = claimed.run.requirements;
        for requirement in &mut requirements {
            requirement.mark_started();
        }
        agent
            .save_progress(&run_id, &requirements)
            .await
            .expect("save progress");
        for requirement in &mut requirements {
            requirement.set_external_execution_result("fetched");
        }
        let run = agent
            .continue_run(&run_id, &requirements)
            .await
            .expect("continue");
        assert_eq!(run.status, RunStatus::Completed);
        done += 1;
    }
    done
}

fn bench_fleet(c: &mut Criterion, name: &str, open: Opener) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let host = agent(rt.block_on(open()));
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);

    group.bench_function("pause_persisted", |b| {
        b.iter(|| rt.block_on(host.run("fetch the page")).expect("pause"))
    });
    // Those pauses are drained first, untimed, so each measurement below starts from none.
    rt.block_on(drain(host.clone(), "cleaner".to_owned()));

    for workers in [1, 4] {
        let agents: Vec<Agent> = (0..workers).map(|_| agent(rt.block_on(open()))).collect();
        group.bench_function(format!("claimed_and_continued_{workers}_workers"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    for _ in 0..iters {
                        host.run("fetch the page").await.expect("pause");
                    }
                    let start = Instant::now();
                    let tasks: Vec<_> = agents
                        .iter()
                        .enumerate()
                        .map(|(i, agent)| tokio::spawn(drain(agent.clone(), format!("w{i}"))))
                        .collect();
                    let mut done = 0;
                    for task in tasks {
                        done += task.await.expect("worker");
                    }
                    assert_eq!(done as u64, iters, "every paused run drained once");
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();

    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("fleet.db");
    bench_fleet(
        &mut criterion,
        "fleet_sqlite",
        Box::new(move || {
            let path = path.clone();
            Box::pin(async move {
                Box::new(SqliteStore::open(&path).await.expect("open")) as Box<dyn RunStore>
            })
        }),
    );

    match std::env::var("KERN_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        None => println!(
            "fleet_postgres: left out: KERN_TEST_POSTGRES_URL is not set; scripts/postgres.sh \
             starts a server"
        ),
        Some(url) => {
            let schema = format!("kern_fleet_bench_{}", std::process::id());
            let (bench_url, bench_schema) = (url.clone(), schema.clone());
            bench_fleet(
                &mut criterion,
                "fleet_postgres",
                Box::new(move || {
                    let (url, schema) = (bench_url.clone(), bench_schema.clone());
                    Box::pin(async move {
                        let options = PostgresOptions::new().schema(schema).max_connections(4);
                        Box::new(
                            PostgresStore::connect_with(&url, options)
                                .await
                                .expect("connect"),
                        ) as Box<dyn RunStore>
                    })
                }),
            );
            let rt = tokio::runtime::Runtime::new().expect("a runtime");
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
    }
    criterion.final_summary();
}
