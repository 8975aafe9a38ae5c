//! kern's MCP server against a client kern's authors did not write: the official MCP TypeScript
//! SDK's client (scripts/mcp/client.mjs, installed by scripts/mcp.sh, named by
//! KERN_TEST_MCP_CLIENT; without it each test says why and passes over), over streamable HTTP.

mod common;

use common::{Calculator, command, command_from_env};
use kern_mcp::McpServer;
use serde_json::{Value, json};

/// Runs the SDK client against `url` with these calls; its JSON report.
async fn sdk_client(client: &[String], url: &str, calls: Value) -> Value {
    let mut run = command(client);
    run.args(["http", url]).env("MCP_CALLS", calls.to_string());
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), run.output())
        .await
        .expect("the SDK client finishes within 60 s")
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_typescript_sdk_client_lists_and_calls_kern_tools() {
    let Some(client) = command_from_env("KERN_TEST_MCP_CLIENT") else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = McpServer::new(Calculator { offset: 0 })
        .unwrap()
        .with_name("calculator", "1.2.3")
        .serve_http(listener)
        .unwrap();
    let calls = json!([
        {"name": "add", "arguments": {"a": 2, "b": 40}},
        {"name": "divide", "arguments": {"a": 1, "b": 0}},
    ]);
    let report = sdk_client(&client, &http.url(), calls).await;

    assert_eq!(report["server"]["name"], "calculator");
    assert_eq!(report["server"]["version"], "1.2.3");
    let tools = report["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0]["name"], "add");
    assert_eq!(tools[0]["description"], "Adds two integers.");
    assert_eq!(tools[0]["inputSchema"]["required"], json!(["a", "b"]));

    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls[0]["content"], json!([{"type": "text", "text": "42"}]));
    assert_ne!(calls[0]["isError"], json!(true));
    // A kern tool error is a result with isError, as MCP wants, not a protocol error.
    assert_eq!(calls[1]["isError"], json!(true));
    assert_eq!(calls[1]["content"][0]["text"], "division by zero");
    http.shutdown().await;
}
