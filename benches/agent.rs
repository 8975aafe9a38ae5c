//! Agent benches: construction (time and heap), a run → pause → continue → complete cycle with
//! `TestModel` (an external result given back; a confirmed call the agent runs), and the size of
//! a paused one-tool run as JSON.
//!
//! `cargo bench --bench agent`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kern::prelude::*;

/// Counts heap allocations: bytes live now, bytes and blocks allocated in total.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Execute a shell command.
///
/// # Arguments
/// * `command` - The shell command to execute
#[tool(external_execution)]
fn execute_shell_command(command: String) -> Result<String, ToolError> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Deletes a file.
///
/// # Arguments
/// * `path` - The file to delete
#[tool(requires_confirmation)]
fn delete_file(path: String) -> String {
    format!("deleted {path}")
}

fn build_confirming() -> Agent {
    Agent::builder()
        .model(TestModel::new())
        .tool(delete_file)
        .build()
        .expect("agent")
}

fn build() -> Agent {
    Agent::builder()
        .model(TestModel::new())
        .tool(execute_shell_command)
        .build()
        .expect("agent")
}

fn construction(c: &mut Criterion) {
    // The definition is built once per tool, on first use: not part of an agent's cost.
    let _ = execute_shell_command.definition();
    // Heap per agent: live bytes held by 1000 agents, and what building one allocates.
    let live_before = LIVE.load(Ordering::SeqCst);
    let allocated_before = ALLOCATED.load(Ordering::SeqCst);
    let blocks_before = BLOCKS.load(Ordering::SeqCst);
    let agents: Vec<Agent> = (0..1000).map(|_| build()).collect();
    let vec_bytes = agents.capacity() * std::mem::size_of::<Agent>();
    let live = LIVE.load(Ordering::SeqCst) - live_before - vec_bytes;
    let allocated = ALLOCATED.load(Ordering::SeqCst) - allocated_before - vec_bytes;
    let blocks = BLOCKS.load(Ordering::SeqCst) - blocks_before - 1;
    println!(
        "agent with one tool: {} heap bytes held, {} bytes in {} allocations while building",
        live as f64 / 1000.0,
        allocated as f64 / 1000.0,
        blocks as f64 / 1000.0
    );
    drop(agents);

    c.bench_function("agent/build_one_tool", |b| b.iter(|| black_box(build())));
}

fn cycle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let agent = build();

    let paused = runtime
        .block_on(agent.run("What files do I have?"))
        .expect("run");
    assert!(paused.is_paused());
    let json = serde_json::to_string(&paused).expect("json");
    println!("paused one-tool run as JSON: {} bytes", json.len());
    println!("{json}");

    // A fresh agent (and so a fresh memory store) per cycle, built outside the timing: the
    // figure is the cycle's, not that of a store grown by millions of earlier runs.
    c.bench_function("agent/run_pause_continue_complete", |b| {
        b.iter_batched(
            build,
            |agent| {
                runtime.block_on(async {
                    let mut run = agent.run("What files do I have?").await.expect("run");
                    for req in run.active_requirements_mut() {
                        req.set_external_execution_result("Cargo.toml src");
                    }
                    let run = agent
                        .continue_run(&run.run_id, run.requirements)
                        .await
                        .expect("continue");
                    assert_eq!(run.status, RunStatus::Completed);
                    (agent, run)
                })
            },
            BatchSize::SmallInput,
        )
    });

    // The agent runs the confirmed call: its start and result are stored (a continue's extra
    // writes) before the model's next turn.
    c.bench_function("agent/run_pause_confirm_complete", |b| {
        b.iter_batched(
            build_confirming,
            |agent| {
                runtime.block_on(async {
                    let mut run = agent.run("Delete notes.txt").await.expect("run");
                    for req in run.active_requirements_mut() {
                        req.confirm();
                    }
                    let run = agent
                        .continue_run(&run.run_id, run.requirements)
                        .await
                        .expect("continue");
                    assert_eq!(run.status, RunStatus::Completed);
                    (agent, run)
                })
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function("agent/paused_run_to_json", |b| {
        b.iter(|| black_box(serde_json::to_vec(&paused).expect("json")))
    });
}

/// An internal tool that answers at once (no blocking pool), to time the loop, not tools.
struct Noop(kern::ToolDefinition);

impl kern::Tool for Noop {
    fn definition(&self) -> &kern::ToolDefinition {
        &self.0
    }
    fn invoke(
        &self,
        _args: serde_json::Value,
        _ctx: kern::ToolContext,
    ) -> futures::future::BoxFuture<'static, kern::ToolResult> {
        Box::pin(async { Ok("ok".to_owned()) })
    }
}

/// One model turn of 30,000 calls that all carry the same id (each gets a unique one), then the
/// answer: the cost of making call ids unique, with the loop around it.
fn many_calls(c: &mut Criterion) {
    const CALLS: usize = 30_000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let calls: Vec<kern::ToolCall> = (0..CALLS)
        .map(|_| kern::ToolCall::new("call_0", "noop", "{}"))
        .collect();
    let agent = Agent::builder()
        .model(kern::FunctionModel::script([
            kern::ModelResponse::calls(calls),
            kern::ModelResponse::text("done"),
        ]))
        .tool(Noop(kern::ToolDefinition::new(
            "noop",
            "Does nothing.",
            serde_json::json!({"type": "object"}),
        )))
        .build()
        .expect("agent");
    let mut group = c.benchmark_group("agent");
    group.sample_size(10);
    group.bench_function("turn_of_30000_calls_with_one_id", |b| {
        b.iter(|| {
            let run = runtime.block_on(agent.run("Go")).expect("run");
            assert_eq!(run.tool_executions.len(), CALLS);
            black_box(run)
        })
    });
    group.finish();
}

criterion_group!(benches, construction, cycle, many_calls);
criterion_main!(benches);
