//! Three async tools in one turn run concurrently: each sleeps one second, the turn takes about
//! one second, not three.
//!
//! `cargo run --example concurrent_tools`

mod common;

use std::time::{Duration, Instant};

use kern::prelude::*;
use serde_json::json;

fn slow_lookup(name: &'static str, answer: &'static str) -> common::FnTool {
    common::FnTool::new_async(
        name,
        "Looks something up, slowly.",
        json!({ "type": "object", "properties": {} }),
        move |_| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(answer.to_owned())
        },
    )
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(slow_lookup("weather", "sunny"))
        .tool(slow_lookup("news", "nothing happened"))
        .tool(slow_lookup("stocks", "up 2%"))
        .build()?;
    let started = Instant::now();
    let run = agent.run("Weather, news and stocks, please").await?;
    println!(
        "{} tool calls in {:.2?}",
        run.tool_executions.len(),
        started.elapsed()
    );
    println!("{}:\n{}", run.status, run.content.unwrap_or_default());
    Ok(())
}
