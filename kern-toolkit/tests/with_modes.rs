//! `with_modes`: the host changes a toolkit's default execution modes when it builds the agent.
#![cfg(unix)]

use kern_core::{
    Agent, Error, ExecutionMode, FunctionModel, IntoToolkit, IntoTools, ModelResponse, RunStatus,
    ToolCall,
};
use kern_toolkit::{FileTools, ShellTools, ShellToolsRunCommandArgs, with_modes};

fn script() -> FunctionModel {
    FunctionModel::script([
        ModelResponse::calls([ToolCall::new(
            "c1",
            "run_command",
            r#"{"command":"echo hi"}"#,
        )]),
        ModelResponse::text("done"),
    ])
}

#[tokio::test]
async fn run_command_made_internal_runs_without_a_pause() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = Agent::builder()
        .model(script())
        .tool(with_modes(
            ShellTools::new(tmp.path()),
            [("run_command", ExecutionMode::Internal)],
        ))
        .build()
        .unwrap();
    let run = agent.run("go").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("exit status: 0\nstdout:\nhi\n\nstderr:\n")
    );
}

#[tokio::test]
async fn run_command_made_external_is_run_by_the_host() {
    let tmp = tempfile::tempdir().unwrap();
    let shell = ShellTools::new(tmp.path());
    let agent = Agent::builder()
        .model(script())
        .tool(with_modes(
            shell.clone(),
            [("run_command", ExecutionMode::External)],
        ))
        .build()
        .unwrap();
    let mut run = agent.run("go").await.unwrap();
    assert!(run.is_paused());
    for req in run.active_requirements_mut() {
        assert!(req.is_external_tool_execution());
        let args: ShellToolsRunCommandArgs = req.tool_execution.args().unwrap();
        // The host's runner (a sandbox, say); here the toolkit's own method.
        let out = shell.run_command(args.command, args.directory).await;
        req.set_external_execution_result(out);
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("exit status: 0\nstdout:\nhi\n\nstderr:\n")
    );
}

#[test]
fn modes_apply_to_a_selection_and_unknown_names_fail_the_build() {
    let mut tools = Vec::new();
    with_modes(
        FileTools::new(".")
            .into_toolkit()
            .include(["read_file", "write_file"]),
        [
            ("write_file", ExecutionMode::External),
            (
                "read_file",
                ExecutionMode::RequiresUserInput {
                    fields: vec!["path".into()],
                },
            ),
        ],
    )
    .into_tools(&mut tools)
    .unwrap();
    let modes: Vec<_> = tools.iter().map(|t| t.definition().mode.clone()).collect();
    assert_eq!(
        modes,
        [
            ExecutionMode::RequiresUserInput {
                fields: vec!["path".into()]
            },
            ExecutionMode::External
        ]
    );

    // Excluded, so unknown here.
    let excluded = Agent::builder()
        .model(script())
        .tool(with_modes(
            FileTools::new(".").into_toolkit().exclude(["write_file"]),
            [("write_file", ExecutionMode::Internal)],
        ))
        .build();
    assert!(matches!(excluded, Err(Error::Config(m)) if m.contains("no tool `write_file`")));

    let field = with_modes(
        FileTools::new("."),
        [(
            "read_file",
            ExecutionMode::RequiresUserInput {
                fields: vec!["nope".into()],
            },
        )],
    )
    .into_tools(&mut Vec::new());
    assert!(matches!(field, Err(Error::Config(m)) if m.contains("`nope` is not a parameter")));
}

#[tokio::test]
async fn a_remoded_tool_still_checks_arguments_before_it_pauses() {
    let tmp = tempfile::tempdir().unwrap();
    let model = FunctionModel::script([
        // `command` must be a string: the call goes back to the model, the host never sees it.
        ModelResponse::calls([ToolCall::new("c1", "run_command", r#"{"command":42}"#)]),
        ModelResponse::text("done"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(with_modes(
            ShellTools::new(tmp.path()),
            [("run_command", ExecutionMode::External)],
        ))
        .build()
        .unwrap();
    let run = agent.run("go").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.requirements.is_empty());
    assert!(run.tool_executions[0].is_error);
}
