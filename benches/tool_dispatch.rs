//! Dispatch cost of a `#[tool]`: JSON args → typed call → JSON result, against the same round
//! trip written by hand with serde_json.
//!
//! `cargo bench --bench tool_dispatch`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::executor::block_on;
use kern::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The result of a search.
#[derive(Serialize)]
pub struct Hits {
    query: String,
    limit: u32,
    hits: Vec<u32>,
}

fn search_body(query: String, limit: u32, exact: Option<bool>) -> Hits {
    let n = if exact.unwrap_or(false) {
        1
    } else {
        limit.min(4)
    };
    Hits {
        query,
        limit,
        hits: (0..n).collect(),
    }
}

/// Searches.
///
/// # Arguments
/// * `query` - What to look for
/// * `limit` - At most this many hits
/// * `exact` - Exact matches only
#[tool]
fn search(query: String, limit: u32, exact: Option<bool>) -> Hits {
    search_body(query, limit, exact)
}

/// Greets (a `String` result, sent as is).
#[tool]
fn greet(name: &str) -> String {
    format!("hello {name}")
}

#[derive(Deserialize)]
struct HandSearchArgs {
    query: String,
    limit: u32,
    exact: Option<bool>,
}

async fn hand_search(args: &Value) -> ToolResult {
    let a = HandSearchArgs::deserialize(args).map_err(ToolError::invalid_arguments)?;
    let out = search_body(a.query, a.limit, a.exact);
    serde_json::to_string(&out).map_err(|e| ToolError::new(e.to_string()))
}

#[derive(Deserialize)]
struct HandGreetArgs {
    name: String,
}

async fn hand_greet(args: &Value) -> ToolResult {
    let a = HandGreetArgs::deserialize(args).map_err(ToolError::invalid_arguments)?;
    Ok(format!("hello {}", a.name))
}

fn dispatch(c: &mut Criterion) {
    let search_args = json!({"query": "rust agents", "limit": 3, "exact": null});
    let greet_args = json!({"name": "Ada"});
    assert_eq!(
        block_on(search.entrypoint(&search_args)).unwrap(),
        block_on(hand_search(&search_args)).unwrap()
    );
    assert_eq!(
        block_on(greet.entrypoint(&greet_args)).unwrap(),
        block_on(hand_greet(&greet_args)).unwrap()
    );

    let mut g = c.benchmark_group("entrypoint_json_result");
    g.bench_function("macro", |b| {
        b.iter(|| block_on(search.entrypoint(black_box(&search_args))))
    });
    g.bench_function("hand_written", |b| {
        b.iter(|| block_on(hand_search(black_box(&search_args))))
    });
    g.finish();

    let mut g = c.benchmark_group("args_only");
    g.bench_function("macro", |b| {
        b.iter(|| kern::__private::output::args_from_ref::<SearchArgs>(black_box(&search_args)))
    });
    g.bench_function("hand_written", |b| {
        b.iter(|| HandSearchArgs::deserialize(black_box(&search_args)))
    });
    g.finish();

    let mut g = c.benchmark_group("entrypoint_string_result");
    g.bench_function("macro", |b| {
        b.iter(|| block_on(greet.entrypoint(black_box(&greet_args))))
    });
    g.bench_function("hand_written", |b| {
        b.iter(|| block_on(hand_greet(black_box(&greet_args))))
    });
    g.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
