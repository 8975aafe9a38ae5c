//! kern's MCP client against a server kern's authors did not write: the reference
//! `@modelcontextprotocol/server-everything` from npm (installed by scripts/mcp.sh, named by
//! KERN_TEST_MCP_EVERYTHING; without it each test says why and passes over).

mod common;

use std::sync::{Arc, Mutex};

use common::{agent_calling, everything, only_result};
use kern_core::{ExecutionMode, RunStatus, ToolErrorKind};
use kern_mcp::{Elicitation, ElicitationAnswer, McpClient, McpTools};
use serde_json::json;

#[tokio::test]
async fn lists_the_everything_servers_tools() {
    let Some(command) = everything() else { return };
    let tools = McpTools::connect_stdio(command).await.unwrap();
    let names: Vec<_> = tools.names().collect();
    for expected in ["echo", "get-sum", "get-tiny-image"] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    // Without an elicitation handler the client declares no elicitation capability, and the
    // server offers no tool that elicits.
    assert!(!names.contains(&"trigger-elicitation-request"), "{names:?}");
    let definitions = tools.definitions();
    let sum = definitions.iter().find(|d| d.name == "get-sum").unwrap();
    assert_eq!(sum.description, "Returns the sum of two numbers");
    assert_eq!(sum.parameters["properties"]["a"]["type"], "number");
    assert_eq!(sum.mode, ExecutionMode::Internal);
}

#[tokio::test]
async fn an_external_everything_tool_pauses_and_the_host_result_continues_the_run() {
    let Some(command) = everything() else { return };
    let tools = McpTools::connect_stdio(command)
        .await
        .unwrap()
        .external(["echo"]);
    let session = tools.session().clone();
    let agent = agent_calling(tools, "echo", json!({"message": "hi"}));
    let mut run = agent.run("echo hi").await.unwrap();
    assert!(run.is_paused());
    let req = run.active_requirements_mut().next().unwrap();
    assert!(req.is_external_tool_execution());
    // The host checks the call and runs it itself, through the same session, adding a note.
    let echoed = session
        .call("echo", req.tool_execution.tool_args.clone())
        .await
        .unwrap();
    assert_eq!(echoed, "Echo: hi");
    req.set_external_execution_result(format!("{echoed} (checked by the host)"));
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(only_result(&run), ("Echo: hi (checked by the host)", false));
}

#[tokio::test]
async fn a_confirmed_everything_tool_runs_on_the_server() {
    let Some(command) = everything() else { return };
    let tools = McpTools::connect_stdio(command)
        .await
        .unwrap()
        .requires_confirmation(["get-sum"]);
    let agent = agent_calling(tools, "get-sum", json!({"a": 2, "b": 3.5}));
    let mut run = agent.run("add").await.unwrap();
    let req = run.active_requirements_mut().next().unwrap();
    assert!(req.needs_confirmation());
    req.confirm();
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let (result, is_error) = only_result(&run);
    // The server's own wording, computed by the server.
    assert!(!is_error);
    assert!(result.contains("5.5"), "{result}");
}

#[tokio::test]
async fn the_servers_tool_errors_reach_the_model_as_tool_errors() {
    let Some(command) = everything() else { return };
    let tools = McpTools::connect_stdio(command).await.unwrap();
    // The server validates the arguments itself (zod) and answers with an error.
    let failed = tools
        .session()
        .call("get-sum", json!({"a": "two", "b": 3}))
        .await
        .unwrap_err();
    assert_eq!(failed.kind(), ToolErrorKind::Failed);
    assert!(!failed.message().is_empty());
    // An image block comes through as its JSON.
    let image = tools
        .session()
        .call("get-tiny-image", json!({}))
        .await
        .unwrap();
    assert!(image.contains(r#""type":"image""#), "{image}");
}

#[tokio::test]
async fn the_servers_elicitation_is_answered_by_the_hosts_handler() {
    let Some(command) = everything() else { return };
    let asked: Arc<Mutex<Vec<Elicitation>>> = Arc::default();
    let seen = Arc::clone(&asked);
    let tools = McpClient::new()
        .on_elicitation(move |mut request: Elicitation| {
            seen.lock().unwrap().push(request.clone());
            async move {
                request.set("name", "Ada Lovelace");
                request.set("check", true);
                request.accept()
            }
        })
        .connect_stdio(command)
        .await
        .unwrap();
    assert!(
        tools.names().any(|n| n == "trigger-elicitation-request"),
        "with a handler the server offers its eliciting tool: {:?}",
        tools.names().collect::<Vec<_>>()
    );
    let agent = agent_calling(tools, "trigger-elicitation-request", json!({}));
    let run = agent.run("ask me").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let (result, is_error) = only_result(&run);
    assert!(!is_error, "{result}");
    assert!(result.contains("Name: Ada Lovelace"), "{result}");
    assert!(result.contains("Agreed to terms: true"), "{result}");

    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 1);
    let name = asked[0].fields.iter().find(|f| f.name == "name").unwrap();
    assert_eq!(name.description.as_deref(), Some("Your full, legal name"));
    assert_eq!(asked[0].required, ["name"]);
}

#[tokio::test]
async fn a_declined_elicitation_is_told_to_the_server() {
    let Some(command) = everything() else { return };
    let tools = McpClient::new()
        .on_elicitation(|_| async { ElicitationAnswer::Decline })
        .connect_stdio(command)
        .await
        .unwrap();
    let result = tools
        .session()
        .call("trigger-elicitation-request", json!({}))
        .await
        .unwrap();
    assert!(result.contains("declined"), "{result}");
}

#[tokio::test]
async fn connects_to_the_everything_server_over_streamable_http() {
    let Some(stdio) = common::command_from_env("KERN_TEST_MCP_EVERYTHING") else {
        return;
    };
    // The same server, on its streamable HTTP transport, on a free loopback port.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut words = stdio;
    *words.last_mut().unwrap() = "streamableHttp".to_owned();
    let mut command = common::command(&words);
    command.env("PORT", port.to_string()).kill_on_drop(true);
    let _server = command.spawn().unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    // It takes a moment to listen: bounded retries.
    let mut tools = None;
    for _ in 0..100 {
        if let Ok(connected) = McpTools::connect_http(url.clone()).await {
            tools = Some(connected);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tools = tools.expect("the everything server listens within 10 s");
    assert!(tools.names().any(|n| n == "get-sum"));
    let agent = agent_calling(
        tools.requires_confirmation(["get-sum"]),
        "get-sum",
        json!({"a": 1, "b": 2}),
    );
    let mut run = agent.run("add").await.unwrap();
    run.active_requirements_mut().next().unwrap().confirm();
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert!(
        only_result(&run).0.contains('3'),
        "{:?}",
        run.tool_executions
    );
}
