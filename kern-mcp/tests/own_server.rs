//! Hermetic (no npm): kern's MCP server and kern's MCP tools against each other, over
//! streamable HTTP on loopback and over an in-memory stdio pair; the execution modes the host
//! chooses for MCP tools (pause, host result, confirm, user input), the mapping of results and
//! errors, and the refusals.

mod common;

use common::{Calculator, agent_calling, only_result};
use kern_core::{Error, ExecutionMode, IntoTools, RunStatus, ToolErrorKind, with_modes};
use kern_mcp::{McpClient, McpError, McpHttpServer, McpServer, McpTools};
use rmcp::ServiceExt;
use serde_json::json;

async fn serve_calculator(offset: i64) -> McpHttpServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    McpServer::new(Calculator { offset })
        .unwrap()
        .serve_http(listener)
        .unwrap()
}

#[tokio::test]
async fn lists_and_calls_kern_tools_over_http() {
    let http = serve_calculator(0).await;
    let tools = McpTools::connect_http(http.url()).await.unwrap();
    assert_eq!(tools.names().collect::<Vec<_>>(), ["add", "divide"]);
    let add = &tools.definitions()[0];
    assert_eq!(add.description, "Adds two integers.");
    assert_eq!(add.parameters["required"], json!(["a", "b"]));
    assert_eq!(add.mode, ExecutionMode::Internal);

    let session = tools.session();
    assert_eq!(
        session.call("add", json!({"a": 2, "b": 3})).await.unwrap(),
        "5"
    );
    let failed = session
        .call("divide", json!({"a": 1, "b": 0}))
        .await
        .unwrap_err();
    assert_eq!(failed.kind(), ToolErrorKind::Failed);
    assert_eq!(failed.message(), "division by zero");
    // Arguments kern's tool refuses come back as a tool error naming them.
    let invalid = session
        .call("add", json!({"a": "two", "b": 3}))
        .await
        .unwrap_err();
    assert!(invalid.message().contains("invalid arguments"), "{invalid}");
    // Not an object: refused before anything is sent.
    let not_object = session.call("add", json!([1, 2])).await.unwrap_err();
    assert_eq!(not_object.kind(), ToolErrorKind::InvalidArguments);
    // A tool the server does not have: the protocol error, naming the server.
    let unknown = session.call("sqrt", json!({})).await.unwrap_err();
    assert!(unknown.message().contains(&http.url()), "{unknown}");
    assert!(unknown.message().contains("sqrt"), "{unknown}");
    http.shutdown().await;
}

#[tokio::test]
async fn serves_over_a_stdio_pair() {
    let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(
        McpServer::new(Calculator { offset: 0 })
            .unwrap()
            .serve_io(tokio::io::split(server_end)),
    );
    // rmcp's plain client, over the other end.
    let client = ().serve(tokio::io::split(client_end)).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(
        client
            .peer_info()
            .unwrap()
            .server_info
            .as_ref()
            .unwrap()
            .name,
        "kern",
        "the server names itself"
    );
    let result = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("add")
                .with_arguments(json!({"a": 40, "b": 2}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(kern_mcp::tool_result(result).unwrap(), "42");
    client.cancel().await.unwrap();
    // The server ends when its client goes.
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_internal_mcp_tool_runs_on_the_server_in_the_run() {
    let http = serve_calculator(100).await;
    let tools = McpTools::connect_http(http.url())
        .await
        .unwrap()
        .exclude(["divide"]);
    let agent = agent_calling(tools, "add", json!({"a": 1, "b": 2}));
    let run = agent.run("add").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    // 103: computed by the server's Calculator (offset 100).
    assert_eq!(only_result(&run), ("103", false));
    http.shutdown().await;
}

#[tokio::test]
async fn an_external_mcp_tool_pauses_and_takes_the_hosts_result() {
    let http = serve_calculator(100).await;
    let tools = McpTools::connect_http(http.url())
        .await
        .unwrap()
        .external(["add"]);
    let agent = agent_calling(tools, "add", json!({"a": 1, "b": 2}));
    let mut run = agent.run("add").await.unwrap();
    assert!(run.is_paused());
    let req = run.active_requirements_mut().next().unwrap();
    assert!(req.is_external_tool_execution());
    assert_eq!(req.tool_execution.tool_args, json!({"a": 1, "b": 2}));
    req.set_external_execution_result("3 (by the host)");
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(only_result(&run), ("3 (by the host)", false));
    http.shutdown().await;
}

#[tokio::test]
async fn a_confirmed_mcp_tool_runs_on_the_server_and_a_rejected_one_does_not() {
    let http = serve_calculator(100).await;
    for confirm in [true, false] {
        let tools = McpTools::connect_http(http.url())
            .await
            .unwrap()
            .requires_confirmation(["add"]);
        let agent = agent_calling(tools, "add", json!({"a": 1, "b": 2}));
        let mut run = agent.run("add").await.unwrap();
        let req = run.active_requirements_mut().next().unwrap();
        assert!(req.needs_confirmation());
        if confirm {
            req.confirm();
        } else {
            req.reject("not now");
        }
        let run = agent
            .continue_run(&run.run_id, &run.requirements)
            .await
            .unwrap();
        let (result, is_error) = only_result(&run);
        if confirm {
            assert_eq!((result, is_error), ("103", false));
        } else {
            assert!(result.contains("not now"), "{result}");
        }
    }
    http.shutdown().await;
}

#[tokio::test]
async fn a_user_input_mcp_tool_pauses_for_its_fields_then_runs_with_them() {
    let http = serve_calculator(100).await;
    let tools = McpTools::connect_http(http.url())
        .await
        .unwrap()
        .requires_user_input("add", ["b"]);
    let agent = agent_calling(tools, "add", json!({"a": 1}));
    let mut run = agent.run("add").await.unwrap();
    let req = run.active_requirements_mut().next().unwrap();
    let fields = req.user_input_fields();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].name, "b");
    assert_eq!(fields[0].description.as_deref(), Some("The second"));
    assert!(req.set_user_input("b", 41));
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(only_result(&run), ("142", false));
    http.shutdown().await;
}

#[tokio::test]
async fn with_modes_chooses_by_name_and_named_modes_win() {
    let http = serve_calculator(0).await;
    let tools = McpTools::connect_http(http.url())
        .await
        .unwrap()
        .external(["divide"])
        .with_modes(|_| ExecutionMode::RequiresConfirmation);
    let modes: Vec<_> = tools.definitions().into_iter().map(|d| d.mode).collect();
    assert_eq!(
        modes,
        [ExecutionMode::RequiresConfirmation, ExecutionMode::External]
    );
    let mut out = Vec::new();
    tools.into_tools(&mut out).unwrap();
    let modes: Vec<_> = out.iter().map(|t| t.definition().mode.clone()).collect();
    assert_eq!(
        modes,
        [ExecutionMode::RequiresConfirmation, ExecutionMode::External]
    );
    http.shutdown().await;
}

#[tokio::test]
async fn unknown_names_and_fields_are_config_errors() {
    let http = serve_calculator(0).await;
    let connect = || McpTools::connect_http(http.url());
    let cases = [
        (connect().await.unwrap().external(["sqrt"]), "sqrt"),
        (connect().await.unwrap().exclude(["sqrt"]), "sqrt"),
        (
            connect().await.unwrap().requires_user_input("add", ["c"]),
            "`c`",
        ),
    ];
    for (tools, named) in cases {
        let mut out = Vec::new();
        match tools.into_tools(&mut out) {
            Err(Error::Config(message)) => assert!(message.contains(named), "{message}"),
            other => panic!("expected a config error naming {named}, got {other:?}"),
        }
    }
    http.shutdown().await;
}

#[tokio::test]
async fn connecting_to_nothing_is_a_typed_error() {
    // A port nothing listens on (bound, then closed).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    match McpTools::connect_http(url.clone()).await {
        Err(McpError::Connect { server, .. }) => assert_eq!(server, url),
        other => panic!("expected a connect error, got {other:?}"),
    }
    let missing = tokio::process::Command::new("/nonexistent/mcp-server");
    match McpClient::new().connect_stdio(missing).await {
        Err(McpError::Spawn { command, .. }) => assert_eq!(command, "/nonexistent/mcp-server"),
        other => panic!("expected a spawn error, got {other:?}"),
    }
}

#[test]
fn tools_that_pause_are_refused_unless_the_host_remodes_them() {
    let refused = McpServer::new(with_modes(
        Calculator { offset: 0 },
        [("divide", ExecutionMode::External)],
    ));
    match refused {
        Err(McpError::Config(Error::Config(message))) => {
            assert!(message.contains("`divide`"), "{message}")
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let twice = McpServer::new(Calculator { offset: 0 })
        .unwrap()
        .tool(Calculator { offset: 1 });
    assert!(matches!(twice, Err(McpError::Config(_))));
}
