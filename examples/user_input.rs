//! User input: `send_email` needs a recipient only the user knows. The run pauses with the field
//! (and its description from the schema); the host asks, fills it in, and the agent runs the tool
//! with it merged into the model's arguments.
//!
//! `cargo run --example user_input`

use kern::prelude::*;
use serde_json::json;

/// Sends an email.
///
/// # Arguments
/// * `to` - The recipient's address
/// * `subject` - The subject line
#[tool(requires_user_input, user_input_fields = [to])]
fn send_email(to: String, subject: String) -> String {
    format!("sent `{subject}` to {to}")
}

#[tokio::main]
async fn main() -> kern::Result<()> {
    let agent = Agent::builder()
        .model(kern::model::from_env_or(TestModel::new().with_args(
            "send_email",
            json!({ "subject": "Lunch on Friday?" }),
        ))?)
        .tool(send_email)
        .build()?;

    let mut run = agent.run("Invite my colleague to lunch").await?;
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            println!(
                "paused: `{}` with {}",
                req.tool_execution.tool_name, req.tool_execution.tool_args
            );
            let fields: Vec<(String, Option<String>)> = req
                .user_input_fields()
                .iter()
                .map(|f| (f.name.clone(), f.description.clone()))
                .collect();
            for (name, description) in fields {
                // A person would type it here.
                let answer = "ada@example.com";
                println!(
                    "asking for `{name}` ({}): {answer}",
                    description.unwrap_or_default()
                );
                req.set_user_input(&name, answer);
            }
        }
        run = agent.continue_run(&run.run_id, &run.requirements).await?;
    }
    println!(
        "resumed, {}:\n{}",
        run.status,
        run.content.unwrap_or_default()
    );
    Ok(())
}
