use kern::prelude::*;

/// Not kern's context.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ToolContext {
    user: String,
}

/// Greets.
#[tool]
fn greet(ctx: ToolContext) -> String {
    ctx.user
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(greet);
    let _ = greet::call(ToolContext { user: "ada".to_owned() });
}
