//! Three async tools in one turn run concurrently: each sleeps one second, the turn takes about
//! one second, not three.
//!
//! `cargo run --example concurrent_tools`

use std::time::{Duration, Instant};

use kern::prelude::*;

/// Looks up the weather, slowly.
#[tool]
async fn weather() -> &'static str {
    tokio::time::sleep(Duration::from_secs(1)).await;
    "sunny"
}

/// Looks up the news, slowly.
#[tool]
async fn news() -> &'static str {
    tokio::time::sleep(Duration::from_secs(1)).await;
    "nothing happened"
}

/// Looks up the stock market, slowly.
#[tool]
async fn stocks() -> &'static str {
    tokio::time::sleep(Duration::from_secs(1)).await;
    "up 2%"
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let agent = Agent::builder()
        .model(kern::model::from_env_or(TestModel::new())?)
        .tool(weather)
        .tool(news)
        .tool(stocks)
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
