use kern::prelude::*;

#[derive(serde::Serialize)]
struct Out {
    n: u8,
}

/// String.
#[tool]
fn string() -> String {
    String::new()
}

/// Static str.
#[tool]
fn static_str() -> &'static str {
    "x"
}

/// Serialize.
#[tool]
fn json() -> Out {
    Out { n: 1 }
}

/// Unit.
#[tool]
fn unit() {}

/// Result with ToolError.
#[tool]
fn result() -> Result<Out, ToolError> {
    Ok(Out { n: 1 })
}

/// Result with a std error.
#[tool]
fn io_result() -> std::io::Result<Vec<u8>> {
    Ok(vec![])
}

/// The tool result type itself.
#[tool]
async fn tool_result() -> ToolResult {
    Ok("x".into())
}

/// impl Serialize.
#[tool]
fn opaque() -> impl serde::Serialize {
    [1, 2]
}

fn main() {
    let _: String = string::call();
    let _: &str = static_str::call();
    let _ = (json, unit, result, io_result, tool_result, opaque);
}
