//! Continuing a pause: validation before any change, the claim, the resolutions, the executor,
//! streaming and the blocking facade.

#[macro_use]
#[path = "common/delegate.rs"]
mod delegate;
mod common;

use std::sync::Arc;

use common::*;
use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt};
use kern_core::{
    Agent, Confirmation, Error, FunctionModel, MemoryStore, Message, ModelResponse, Requirement,
    RequirementKind, RunEvent, RunOutput, RunStatus, RunStore, StoredRun, TestModel, ToolCall,
    ToolError, ToolExecution, UserInputField,
};
use serde_json::{Value, json};

async fn paused_shell_run(agent: &Agent) -> RunOutput {
    let run = agent.run("List files").await.unwrap();
    assert!(run.is_paused());
    run
}

#[tokio::test]
async fn an_external_result_becomes_the_tools_message() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = paused_shell_run(&agent).await;
    for req in run.active_requirements_mut() {
        let command: String = req.tool_execution.tool_args["command"]
            .as_str()
            .unwrap()
            .into();
        assert_eq!(command, "example");
        req.set_external_execution_result(format!("ran {command}"));
    }
    assert_eq!(run.active_requirements().count(), 0);
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.requirements.is_empty());
    assert!(run.messages.iter().any(|m| matches!(
        m,
        Message::Tool { tool_name, content, is_error: false, .. }
            if tool_name == "shell" && content == "ran example"
    )));
    assert!(
        run.content
            .as_deref()
            .unwrap()
            .contains("- shell: ran example")
    );
    let (json, version) = stored_json(&agent, &run.run_id).await;
    assert_eq!(json, serde_json::to_string(&run).unwrap());
    assert_eq!(version, 3, "created paused, claimed, completed");

    // An error result goes to the model as a tool error.
    let mut run = paused_shell_run(&agent).await;
    run.requirements[0].set_external_execution_result(Err::<String, _>(ToolError::new("denied")));
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert!(run.content.unwrap().contains("- shell (error): denied"));
}

/// Two paused calls: an external one and a confirmation.
async fn two_requirement_pause() -> (Agent, RunOutput) {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .tool(
            TestTool::new(
                "delete",
                json!({"type": "object"}),
                |_| Ok("deleted".into()),
            )
            .confirm(),
        )
        .build()
        .unwrap();
    let run = agent.run("Do both").await.unwrap();
    assert_eq!(run.requirements.len(), 2);
    (agent, run)
}

fn resolved(run: &RunOutput) -> Vec<Requirement> {
    let mut reqs = run.requirements.clone();
    reqs[0].set_external_execution_result("out");
    reqs[1].confirm();
    reqs
}

#[tokio::test]
async fn a_refused_continue_leaves_the_stored_run_unchanged() {
    let (agent, run) = two_requirement_pause().await;
    let id = run.run_id.clone();
    let before = stored_json(&agent, &id).await;

    let check = |reqs: Vec<Requirement>, what: &'static str| {
        let agent = agent.clone();
        let id = id.clone();
        let before = before.clone();
        async move {
            let error = agent.continue_run(&id, reqs).await.unwrap_err();
            assert_eq!(
                stored_json(&agent, &id).await,
                before,
                "{what} changed the run"
            );
            error
        }
    };

    // Unknown run.
    let error = agent
        .continue_run("no-such-run", resolved(&run))
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::RunNotFound { run_id } if run_id == "no-such-run"));

    // A requirement that is not part of the pause.
    let mut reqs = resolved(&run);
    reqs[0].tool_execution.tool_call_id = "call_999".into();
    let error = check(reqs, "unknown id").await;
    assert!(
        matches!(&error, Error::UnknownToolCall { run_id, tool_call_id } if *run_id == id && tool_call_id == "call_999"),
        "{error}"
    );

    // The same requirement twice.
    let mut reqs = resolved(&run);
    reqs.push(reqs[0].clone());
    let error = check(reqs, "duplicate").await;
    assert!(
        matches!(&error, Error::DuplicateRequirement { tool_call_id, .. } if *tool_call_id == run.requirements[0].tool_execution.tool_call_id),
        "{error}"
    );

    // A requirement missing.
    let mut reqs = resolved(&run);
    reqs.pop();
    let error = check(reqs, "missing").await;
    assert!(
        matches!(&error, Error::MissingRequirement { tool_name, .. } if tool_name == "delete"),
        "{error}"
    );

    // Unresolved.
    let mut reqs = resolved(&run);
    reqs[1].confirmation = None;
    let error = check(reqs, "unresolved").await;
    assert!(
        matches!(&error, Error::UnresolvedRequirement { tool_name, needs, .. } if tool_name == "delete" && needs.contains("confirmation")),
        "{error}"
    );
    let mut reqs = resolved(&run);
    reqs[0].tool_execution.result = None;
    let error = check(reqs, "unresolved external").await;
    assert!(
        matches!(&error, Error::UnresolvedRequirement { tool_name, .. } if tool_name == "shell"),
        "{error}"
    );

    // Resolved in a way the kind does not allow.
    let mut reqs = resolved(&run);
    reqs[0].confirm();
    let error = check(reqs, "confirmed external").await;
    assert!(
        matches!(&error, Error::InvalidResolution { tool_name, .. } if tool_name == "shell"),
        "{error}"
    );
    let mut reqs = resolved(&run);
    reqs[1].set_external_execution_result("I did it myself");
    let error = check(reqs, "result for a confirmation").await;
    assert!(
        matches!(&error, Error::InvalidResolution { tool_name, .. } if tool_name == "delete"),
        "{error}"
    );
    let mut reqs = resolved(&run);
    reqs[1].kind = RequirementKind::ExternalExecution;
    reqs[1].confirmation = None;
    reqs[1].set_external_execution_result("x");
    let error = check(reqs, "changed kind").await;
    assert!(
        matches!(&error, Error::InvalidResolution { problem, .. } if problem.contains("another kind")),
        "{error}"
    );
    let mut reqs = resolved(&run);
    reqs[0].tool_execution.tool_name = "delete".into();
    let error = check(reqs, "renamed tool").await;
    assert!(matches!(&error, Error::InvalidResolution { .. }), "{error}");

    // Every message names the run.
    assert!(error.to_string().contains(&id));

    // After all that, a good continue still works.
    let done = agent.continue_run(&id, resolved(&run)).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
}

#[tokio::test]
async fn a_second_continue_of_the_same_pause_is_refused_and_nothing_runs_twice() {
    let delete = TestTool::new(
        "delete",
        json!({"type": "object"}),
        |_| Ok("deleted".into()),
    )
    .confirm();
    let count = delete.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(delete)
        .build()
        .unwrap();
    let mut run = agent.run("Delete").await.unwrap();
    run.requirements[0].confirm();
    let reqs = run.requirements.clone();
    agent.continue_run(&run.run_id, reqs.clone()).await.unwrap();
    assert_eq!(calls(&count), 1);
    let before = stored_json(&agent, &run.run_id).await;
    let error = agent.continue_run(&run.run_id, reqs).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::RunNotPaused {
                status: RunStatus::Completed,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(calls(&count), 1);
    assert_eq!(stored_json(&agent, &run.run_id).await, before);
}

/// A store whose `load` waits until `n` loads have happened: continues that race are made to
/// load the same version before any of them claims.
#[derive(Clone)]
struct RacingStore {
    inner: MemoryStore,
    barrier: Arc<tokio::sync::Barrier>,
}

impl RunStore for RacingStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, kern_core::Result<StoredRun>> {
        async move {
            let loaded = self.inner.load(run_id).await;
            self.barrier.wait().await;
            loaded
        }
        .boxed()
    }
    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, kern_core::Result<u64>> {
        self.inner.create(run)
    }
    fn update<'a>(&'a self, run: &'a RunOutput, v: u64) -> BoxFuture<'a, kern_core::Result<u64>> {
        self.inner.update(run, v)
    }
    delegate_to_inner!();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_continues_one_wins_the_others_get_conflict() {
    const RACERS: usize = 4;
    let delete = TestTool::new(
        "delete",
        json!({"type": "object"}),
        |_| Ok("deleted".into()),
    )
    .confirm();
    let count = delete.counter();
    let store = RacingStore {
        inner: MemoryStore::new(),
        barrier: Arc::new(tokio::sync::Barrier::new(RACERS)),
    };
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(delete)
        .store(store)
        .build()
        .unwrap();
    let mut run = agent.run("Delete").await.unwrap();
    run.requirements[0].confirm();
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let agent = agent.clone();
            let id = run.run_id.clone();
            let reqs = run.requirements.clone();
            tokio::spawn(async move { agent.continue_run(&id, reqs).await })
        })
        .collect();
    let mut won = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(run) => {
                assert_eq!(run.status, RunStatus::Completed);
                won += 1;
            }
            Err(Error::Conflict { expected: 1, .. }) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, RACERS - 1));
    assert_eq!(calls(&count), 1, "the confirmed tool ran exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_continues_on_tasks_exactly_one_wins() {
    let delete = TestTool::new_async("delete", json!({"type": "object"}), |_| async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok("deleted".to_owned())
    })
    .confirm();
    let count = delete.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(delete)
        .build()
        .unwrap();
    let mut run = agent.run("Delete").await.unwrap();
    run.requirements[0].confirm();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let agent = agent.clone();
            let id = run.run_id.clone();
            let reqs = run.requirements.clone();
            tokio::spawn(async move { agent.continue_run(&id, reqs).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(Error::Conflict { .. } | Error::RunNotPaused { .. }) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(calls(&count), 1);
}

#[tokio::test]
async fn confirm_runs_the_tool_and_reject_tells_the_model() {
    let delete = TestTool::new(
        "delete",
        json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
        |args| Ok(format!("deleted {}", args["path"].as_str().unwrap_or("?"))),
    )
    .confirm();
    let count = delete.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(delete)
        .build()
        .unwrap();

    let mut run = agent.run("Delete").await.unwrap();
    assert!(run.requirements[0].needs_confirmation());
    // Arguments edited in place are refused (`approve_with_args` is the way to change them).
    run.requirements[0].tool_execution.tool_args = json!({"path": "/etc/passwd"});
    run.requirements[0].confirm();
    let refused = agent.continue_run(&run.run_id, &run.requirements).await;
    assert!(
        matches!(refused, Err(Error::InvalidResolution { .. })),
        "{refused:?}"
    );
    assert_eq!(calls(&count), 0);
    run.requirements[0].tool_execution.tool_args = json!({"path": "example"});
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(calls(&count), 1);
    assert!(run.content.unwrap().contains("- delete: deleted example"));

    let mut run = agent.run("Delete").await.unwrap();
    run.requirements[0].reject("not today");
    assert_eq!(
        run.requirements[0].confirmation,
        Some(Confirmation::Rejected {
            note: Some("not today".into())
        })
    );
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(calls(&count), 1, "a rejected call does not run");
    let content = run.content.unwrap();
    assert!(
        content.contains("- delete (error): The user rejected this call of `delete`"),
        "{content}"
    );
    assert!(content.contains("Note: not today"), "{content}");
}

#[tokio::test]
async fn user_input_is_merged_into_the_arguments() {
    let send = TestTool::new(
        "send",
        json!({
            "type": "object",
            "properties": {
                "to": {"type": "string", "description": "Recipient"},
                "amount": {"type": "integer"}
            },
            "required": ["to", "amount"]
        }),
        |args| Ok(args.to_string()),
    )
    .user_input(&["to"]);
    let agent = Agent::builder()
        .model(FunctionModel::script([
            // The model does not know `to`.
            ModelResponse::calls([ToolCall::new("c1", "send", r#"{"amount": 5}"#)]),
            ModelResponse::text("sent"),
        ]))
        .tool(send)
        .build()
        .unwrap();
    let mut run = agent.run("Pay").await.unwrap();
    let req = &mut run.requirements[0];
    assert!(req.needs_user_input());
    assert_eq!(
        req.user_input_fields(),
        &[UserInputField {
            name: "to".into(),
            description: Some("Recipient".into()),
            value: None
        }]
    );
    assert!(
        !req.set_user_input("amount", 1000),
        "not a field the pause asked for"
    );
    assert!(req.set_user_input("to", "bob"));
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let args: Value =
        serde_json::from_str(run.tool_executions[0].result.as_deref().unwrap()).unwrap();
    assert_eq!(args, json!({"amount": 5, "to": "bob"}));
    assert_eq!(run.tool_executions[0].tool_args, args);
}

#[tokio::test]
async fn a_continue_may_pause_again_and_a_loop_handles_it() {
    let model = FunctionModel::script([
        ModelResponse::calls([ToolCall::new("c1", "shell", r#"{"command":"ls"}"#)]),
        ModelResponse::calls([
            ToolCall::new("c2", "shell", r#"{"command":"cat a.txt"}"#),
            ToolCall::new("c3", "shell", r#"{"command":"cat b.txt"}"#),
        ]),
        ModelResponse::text("a.txt says hi, b.txt says bye"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = agent.run("Read my files").await.unwrap();
    let mut pauses = 0;
    let mut commands = Vec::new();
    while run.is_paused() {
        pauses += 1;
        for req in run.active_requirements_mut() {
            #[derive(serde::Deserialize)]
            struct Args {
                command: String,
            }
            let args: Args = req.tool_execution.args().unwrap();
            commands.push(args.command.clone());
            req.set_external_execution_result(format!("output of {}", args.command));
        }
        run = agent
            .continue_run(&run.run_id, run.requirements)
            .await
            .unwrap();
    }
    assert_eq!(pauses, 2);
    assert_eq!(commands, ["ls", "cat a.txt", "cat b.txt"]);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.tool_executions.len(), 3);
    assert_eq!(run.metrics.turns, 3);
}

fn shell_executor(
    declined: &'static str,
) -> impl Fn(&ToolExecution) -> BoxFuture<'static, Option<kern_core::ToolResult>> + Send + Sync + 'static
{
    move |call: &ToolExecution| {
        let command = call.tool_args["command"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        async move { (command != declined).then(|| Ok(format!("auto: {command}"))) }.boxed()
    }
}

#[tokio::test]
async fn the_builder_executor_resolves_external_calls_and_pauses_only_for_the_declined() {
    let model = FunctionModel::script([
        ModelResponse::calls([
            ToolCall::new("c1", "shell", r#"{"command":"ls"}"#),
            ToolCall::new("c2", "shell", r#"{"command":"rm -rf /"}"#),
        ]),
        ModelResponse::text("done"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(shell_tool())
        .executor(shell_executor("rm -rf /"))
        .build()
        .unwrap();
    let mut run = agent.run("x").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(run.requirements.len(), 1);
    assert_eq!(
        run.requirements[0].tool_execution.tool_args,
        json!({"command": "rm -rf /"})
    );
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(run.tool_executions[0].result.as_deref(), Some("auto: ls"));
    run.requirements[0].set_external_execution_result(Err::<String, _>(ToolError::new("refused")));
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);

    // With nothing declined, the run never pauses.
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .executor(shell_executor("never"))
        .build()
        .unwrap();
    let run = agent.run("x").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.content.unwrap().contains("- shell: auto: example"));
}

#[tokio::test]
async fn continue_run_with_resolves_later_calls_and_unresolved_ones_passed_back() {
    let model = FunctionModel::script([
        ModelResponse::calls([ToolCall::new("c1", "shell", r#"{"command":"ls"}"#)]),
        ModelResponse::calls([ToolCall::new("c2", "shell", r#"{"command":"pwd"}"#)]),
        ModelResponse::calls([ToolCall::new("c3", "shell", r#"{"command":"whoami"}"#)]),
        ModelResponse::text("done"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = agent.run("x").await.unwrap();
    assert!(run.is_paused());
    // Passed back unresolved: the executor gets it, and every later external call.
    let run = agent
        .continue_run_with(&run.run_id, run.requirements, shell_executor("whoami"))
        .await
        .unwrap();
    assert!(run.is_paused(), "the executor declined `whoami`");
    assert_eq!(
        run.requirements[0].tool_execution.tool_args,
        json!({"command": "whoami"})
    );
    let results: Vec<&str> = run
        .tool_executions
        .iter()
        .filter_map(|e| e.result.as_deref())
        .collect();
    assert_eq!(results, ["auto: ls", "auto: pwd"]);

    // Without an executor, an unresolved requirement is still refused.
    let error = agent
        .continue_run(&run.run_id, run.requirements.clone())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnresolvedRequirement { .. }));

    // A panicking executor is a failing tool, not a crash.
    let run = agent
        .continue_run_with(
            &run.run_id,
            run.requirements,
            |_: &ToolExecution| -> BoxFuture<'static, Option<kern_core::ToolResult>> {
                panic!("executor bug")
            },
        )
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let last = run.tool_executions.last().unwrap();
    assert!(last.is_error);
    assert!(last.result.as_deref().unwrap().contains("executor bug"));
}

#[tokio::test]
async fn streaming_pauses_and_the_pause_can_be_continued_as_a_stream() {
    let agent = Agent::builder()
        .model(TestModel::new().with_answer("All done here."))
        .tool(add_tool())
        .tool(shell_tool())
        .build()
        .unwrap();
    let events: Vec<RunEvent> = agent
        .run_stream("Add and list")
        .map(|e| e.unwrap())
        .collect()
        .await;
    assert!(matches!(&events[0], RunEvent::RunStarted { .. }));
    assert!(
        events.iter().any(
            |e| matches!(e, RunEvent::ToolCallStarted { tool_name, .. } if tool_name == "add")
        )
    );
    assert!(events.iter().any(|e| matches!(e, RunEvent::ToolCallCompleted(x) if x.tool_name == "add" && x.result.as_deref() == Some("2"))));
    assert!(
        !events.iter().any(
            |e| matches!(e, RunEvent::ToolCallStarted { tool_name, .. } if tool_name == "shell")
        )
    );
    let mut paused = ended_paused(&events);
    assert_eq!(paused.requirements[0].tool_execution.tool_name, "shell");
    assert_eq!(
        agent.store().load(&paused.run_id).await.unwrap().run,
        paused
    );

    paused.requirements[0].set_external_execution_result("a.txt");
    let events: Vec<RunEvent> = agent
        .continue_run_stream(&paused.run_id, paused.requirements)
        .map(|e| e.unwrap())
        .collect()
        .await;
    // A continue is the same run going on, not a new one: it starts with `RunContinued`,
    // naming the pause it answers, and no `RunStarted`.
    assert!(
        matches!(&events[0], RunEvent::RunContinued { run_id, session_id, pause_id }
        if *run_id == paused.run_id
            && *session_id == paused.session_id
            && *pause_id == paused.pause_id)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RunEvent::RunStarted { .. }))
    );
    assert!(content_deltas(&events).len() > 1);
    let deltas = content_deltas(&events).concat();
    let done = ended_completed(&events);
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.content.as_deref(), Some(deltas.as_str()));
    assert!(deltas.starts_with("All done here."));

    // A continue refused by validation ends the stream with the error.
    let events: Vec<_> = agent
        .continue_run_stream(&paused.run_id, vec![])
        .collect()
        .await;
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], Err(Error::RunNotPaused { .. })));
}

#[test]
fn the_blocking_facade_runs_pauses_and_continues() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(add_tool())
        .tool(shell_tool())
        .build_blocking()
        .unwrap();
    let mut run = agent.run("Add and list").unwrap();
    assert!(run.is_paused());
    run.requirements[0].set_external_execution_result("a.txt");
    let run = agent.continue_run(&run.run_id, run.requirements).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.content.unwrap().contains("- add: 2"));
}

#[tokio::test]
async fn the_blocking_facade_refuses_to_block_inside_a_runtime() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .build_blocking()
        .unwrap();
    let error = agent.run("x").unwrap_err();
    assert!(
        matches!(&error, Error::Config(m) if m.contains("inside an async runtime")),
        "{error}"
    );
    drop(agent); // dropping it here must not panic either
}

#[tokio::test]
async fn another_agent_with_the_runs_json_continues_it() {
    // "Process" one pauses; its run travels as JSON.
    let first = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = paused_shell_run(&first).await;
    let json = serde_json::to_string(&run).unwrap();
    drop(first);

    // "Process" two: a fresh store holding only that JSON, an agent with the same tools.
    let store = MemoryStore::new();
    let mut run: RunOutput = serde_json::from_str(&json).unwrap();
    store.create(&run).await.unwrap();
    let second = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .store(store)
        .build()
        .unwrap();
    run.requirements[0].set_external_execution_result("from process two");
    let run = second
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert!(run.content.unwrap().contains("- shell: from process two"));
}

/// The child half of the cross-process test: continue the run in the JSON file, write the result.
async fn resume_in_child(path: &str) {
    let json = std::fs::read_to_string(path).unwrap();
    let mut run: RunOutput = serde_json::from_str(&json).unwrap();
    let store = MemoryStore::new();
    store.create(&run).await.unwrap();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .store(store)
        .build()
        .unwrap();
    let pid = std::process::id();
    run.requirements[0].set_external_execution_result(format!("resumed by process {pid}"));
    let done = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    std::fs::write(format!("{path}.out"), serde_json::to_string(&done).unwrap()).unwrap();
}

#[tokio::test]
async fn a_second_process_continues_a_run_paused_by_the_first() {
    const TEST: &str = "a_second_process_continues_a_run_paused_by_the_first";
    if let Ok(path) = std::env::var("KERN_RESUME_CHILD") {
        return resume_in_child(&path).await;
    }
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = paused_shell_run(&agent).await;
    let path = std::env::temp_dir().join(format!(
        "kern-resume-{}-{}.json",
        std::process::id(),
        run.run_id
    ));
    std::fs::write(&path, serde_json::to_string(&run).unwrap()).unwrap();

    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--test-threads=1"])
        .env("KERN_RESUME_CHILD", &path)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&child.stdout)
    );
    let out = std::fs::read_to_string(format!("{}.out", path.display())).unwrap();
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(format!("{}.out", path.display()));
    let done: RunOutput = serde_json::from_str(&out).unwrap();
    assert_eq!(done.run_id, run.run_id);
    assert_eq!(done.status, RunStatus::Completed);
    let content = done.content.unwrap();
    assert!(content.contains("resumed by process"), "{content}");
    assert!(
        !content.contains(&format!("process {}", std::process::id())),
        "resumed in another process"
    );
}
