//! Confirmation: `delete_file` runs only once the host confirms it; a rejected call is not run
//! and the model is told why.
//!
//! `cargo run --example confirmation`

use std::path::PathBuf;

use kern::prelude::*;
use serde_json::json;

/// Deletes a file.
///
/// # Arguments
/// * `path` - The file to delete
#[tool(requires_confirmation)]
fn delete_file(path: PathBuf) -> Result<String, ToolError> {
    std::fs::remove_file(&path)?;
    Ok(format!("deleted {}", path.display()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("kern-confirmation-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let keep = dir.join("keep.txt");
    let scratch = dir.join("scratch.txt");
    std::fs::write(&keep, "important")?;
    std::fs::write(&scratch, "temporary")?;

    for path in [&scratch, &keep] {
        let agent = Agent::builder()
            .model(kern::model::from_env_or(
                TestModel::new().with_args("delete_file", json!({ "path": path })),
            )?)
            .tool(delete_file)
            .build()?;
        let mut run = agent.run("Clean up").await?;
        while run.is_paused() {
            for req in run.active_requirements_mut() {
                let call = &req.tool_execution;
                println!(
                    "paused: `{}` with {} — confirm?",
                    call.tool_name, call.tool_args
                );
                // A person would answer here; this host keeps anything named keep*.
                if call.tool_args["path"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("keep")
                {
                    println!("host: no");
                    req.reject("that file is important");
                } else {
                    println!("host: yes");
                    req.confirm();
                }
            }
            run = agent.continue_run(&run.run_id, &run.requirements).await?;
        }
        println!(
            "resumed, {}:\n{}\n",
            run.status,
            run.content.unwrap_or_default()
        );
    }
    println!(
        "scratch.txt exists: {}, keep.txt exists: {}",
        scratch.exists(),
        keep.exists()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
