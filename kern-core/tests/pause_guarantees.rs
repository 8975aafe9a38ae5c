//! A continue answers exactly the pause it was given, and no tool runs twice: requirements bound
//! to their run and pause, host-supplied arguments checked before the claim, tool outcomes stored
//! as they happen, continues that survive a dropped future, failed turns that can be retried,
//! pauses that cannot be stored given back, refused requirements left with the host.

#[macro_use]
#[path = "common/delegate.rs"]
mod delegate;
mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt};
use kern_core::{
    Agent, Error, FunctionModel, InFlightCall, MemoryStore, Message, ModelError, ModelResponse,
    RequirementKind, RunEvent, RunOutput, RunStatus, RunStore, StoredRun, TestModel, ToolCall,
};
use serde_json::{Value, json};

/// `{ target: string }`, required.
fn target_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "target": { "type": "string" } },
        "required": ["target"]
    })
}

/// A confirmed `deploy` that reports its target.
fn deploy() -> TestTool {
    TestTool::new("deploy", target_schema(), |args| {
        Ok(format!(
            "deployed to {}",
            args["target"].as_str().unwrap_or("?")
        ))
    })
    .confirm()
}

/// Two turns calling `tool` with the same call id (`c1`, as a provider that numbers calls per
/// turn would), then an answer.
fn same_id_twice(tool: &str, first: &str, second: &str) -> FunctionModel {
    FunctionModel::script([
        ModelResponse::calls([ToolCall::new("c1", tool, first)]),
        ModelResponse::calls([ToolCall::new("c1", tool, second)]),
        ModelResponse::text("done"),
    ])
}

/// The stored run, as it is.
async fn stored(agent: &Agent, run_id: &str) -> StoredRun {
    agent.store().load(run_id).await.unwrap()
}

/// Waits (polling the store) until the run is no longer `running`; fails after 20 s.
async fn settled(agent: &Agent, run_id: &str) -> StoredRun {
    for _ in 0..2000 {
        let now = stored(agent, run_id).await;
        if now.run.status != RunStatus::Running {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {run_id} stayed running");
}

fn tool_results(run: &RunOutput) -> Vec<&str> {
    run.messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Requirements are bound to their run and pause.

#[tokio::test]
async fn an_approval_kept_from_an_earlier_pause_does_not_approve_a_later_call() {
    let tool = deploy();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(same_id_twice(
            "deploy",
            r#"{"target":"staging"}"#,
            r#"{"target":"prod"}"#,
        ))
        .tool(tool)
        .build()
        .unwrap();
    let mut first = agent.run("Deploy").await.unwrap();
    first.requirements[0].confirm();
    let second = agent
        .continue_run(&first.run_id, &first.requirements)
        .await
        .unwrap();
    assert!(second.is_paused());
    assert_eq!(calls(&count), 1);
    assert_eq!(
        second.requirements[0].tool_execution.tool_args,
        json!({"target": "prod"})
    );
    assert_ne!(
        second.requirements[0].tool_execution.tool_call_id, "c1",
        "call ids are unique within a run"
    );
    assert_ne!(second.pause_id, first.pause_id);
    let before = stored(&agent, &first.run_id).await;

    // The staging approval, passed again, is of the first pause: refused, nothing runs.
    let error = agent
        .continue_run(&first.run_id, &first.requirements)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::StaleRequirement { run_id, tool_call_id, reason }
            if *run_id == first.run_id && tool_call_id == "c1" && reason.contains(&first.pause_id)),
        "{error}"
    );
    assert_eq!(calls(&count), 1);
    assert_eq!(stored(&agent, &first.run_id).await, before);
}

#[tokio::test]
async fn a_stale_external_result_is_not_taken_for_a_later_call() {
    let agent = Agent::builder()
        .model(same_id_twice(
            "shell",
            r#"{"command":"ls"}"#,
            r#"{"command":"rm -rf /tmp/x"}"#,
        ))
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut first = agent.run("Go").await.unwrap();
    first.requirements[0].set_external_execution_result("a.txt");
    let second = agent
        .continue_run(&first.run_id, &first.requirements)
        .await
        .unwrap();
    assert!(second.is_paused());
    let before = stored(&agent, &first.run_id).await;
    let error = agent
        .continue_run(&first.run_id, &first.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StaleRequirement { .. }), "{error}");
    assert_eq!(stored(&agent, &first.run_id).await, before);
}

#[tokio::test]
async fn requirements_of_another_run_are_refused_even_with_the_same_call_ids() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let alice = agent.run("Alice's files").await.unwrap();
    let mut bob = agent.run("Bob's files").await.unwrap();
    assert_eq!(
        alice.requirements[0].tool_execution.tool_call_id,
        bob.requirements[0].tool_execution.tool_call_id,
        "the ids collide"
    );
    bob.requirements[0].set_external_execution_result("bob's secrets");
    let before = stored(&agent, &alice.run_id).await;
    let error = agent
        .continue_run(&alice.run_id, &bob.requirements)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::StaleRequirement { run_id, reason, .. }
            if *run_id == alice.run_id && reason.contains(&bob.run_id)),
        "{error}"
    );
    assert_eq!(stored(&agent, &alice.run_id).await, before);
    // Bob's run takes them.
    let bob_done = agent
        .continue_run(&bob.run_id, &bob.requirements)
        .await
        .unwrap();
    assert_eq!(bob_done.status, RunStatus::Completed);
}

#[tokio::test]
async fn requirements_made_by_hand_name_no_pause_and_are_refused() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = agent.run("Go").await.unwrap();
    let mut forged = kern_core::Requirement::new(
        RequirementKind::ExternalExecution,
        run.requirements[0].tool_execution.clone(),
    );
    forged.set_external_execution_result("x");
    let error = agent.continue_run(&run.run_id, [forged]).await.unwrap_err();
    assert!(
        matches!(&error, Error::StaleRequirement { reason, .. } if reason.contains("names no run")),
        "{error}"
    );
}

#[tokio::test]
async fn a_pause_stored_in_layout_version_1_is_continued_with_its_unbound_requirements() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let paused = agent.run("Go").await.unwrap();
    // The same pause as a kern of layout version 1 stored it, in another agent's store.
    let mut v1 = paused.clone();
    v1.schema_version = 1;
    v1.pause_id.clear();
    for req in &mut v1.requirements {
        req.run_id.clear();
        req.pause_id.clear();
    }
    let json = serde_json::to_string(&v1).unwrap();
    let other = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut stored_v1: RunOutput = serde_json::from_str(&json).unwrap();
    other.store().create(&stored_v1).await.unwrap();
    assert_eq!(
        stored(&other, &v1.run_id).await.run.schema_version,
        kern_core::SCHEMA_VERSION
    );
    stored_v1.requirements[0].set_external_execution_result("a.txt");
    let done = other
        .continue_run(&v1.run_id, &stored_v1.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.schema_version, kern_core::SCHEMA_VERSION);
}

#[tokio::test]
async fn a_streamed_continue_refuses_a_stale_requirement_too() {
    let tool = deploy();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(same_id_twice(
            "deploy",
            r#"{"target":"staging"}"#,
            r#"{"target":"prod"}"#,
        ))
        .tool(tool)
        .build()
        .unwrap();
    let mut first = agent.run("Deploy").await.unwrap();
    first.requirements[0].confirm();
    let events = stream_events(agent.continue_run_stream(&first.run_id, &first.requirements)).await;
    assert!(ended_paused(&events).is_paused());
    let items: Vec<_> = agent
        .continue_run_stream(&first.run_id, &first.requirements)
        .collect()
        .await;
    assert!(
        matches!(items.as_slice(), [Err(Error::StaleRequirement { .. })]),
        "{items:?}"
    );
    assert_eq!(calls(&count), 1);
}

// ---------------------------------------------------------------------------------------------
// Arguments the host supplies are checked before the claim.

#[tokio::test]
async fn wrong_typed_user_input_is_refused_the_pause_stays_and_can_be_answered_again() {
    let send = TestTool::new(
        "send",
        json!({
            "type": "object",
            "properties": { "to": {"type": "string"}, "amount": {"type": "integer"} },
            "required": ["to", "amount"]
        }),
        |args| Ok(args.to_string()),
    )
    .user_input(&["to"]);
    let count = send.counter();
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "send", r#"{"amount": 5}"#)]),
            ModelResponse::text("sent"),
        ]))
        .tool(send)
        .build()
        .unwrap();
    let mut run = agent.run("Pay").await.unwrap();
    let before = stored(&agent, &run.run_id).await;
    assert!(run.requirements[0].set_user_input("to", 42));
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidToolArgs { tool_name, message, .. }
            if tool_name == "send" && message.contains("`to`")),
        "{error}"
    );
    assert_eq!(calls(&count), 0);
    assert_eq!(stored(&agent, &run.run_id).await, before, "the pause stays");

    // The host still has its requirements and answers again.
    assert!(run.requirements[0].set_user_input("to", "bob"));
    let done = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(
        done.tool_executions[0].tool_args,
        json!({"amount": 5, "to": "bob"})
    );
}

#[tokio::test]
async fn user_input_the_tools_own_check_refuses_is_refused() {
    // `add_tool` checks its arguments itself, as generated tools do.
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "add", r#"{"a": 1}"#)]),
            ModelResponse::text("ok"),
        ]))
        .tool(
            add_tool().mode(kern_core::ExecutionMode::RequiresUserInput {
                fields: vec!["b".into()],
            }),
        )
        .build()
        .unwrap();
    let mut run = agent.run("Add").await.unwrap();
    run.requirements[0].set_user_input("b", 2.5);
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidToolArgs { .. }), "{error}");
    run.requirements[0].set_user_input("b", 2);
    let done = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(done.tool_executions[0].result.as_deref(), Some("3"));
}

#[tokio::test]
async fn edited_tool_args_are_refused_and_approve_with_args_runs_checked_recorded_args() {
    let tool = deploy();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "deploy", r#"{"target":"prod"}"#)]),
            ModelResponse::text("done"),
        ]))
        .tool(tool)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    let before = stored(&agent, &run.run_id).await;

    // Silently different arguments: refused.
    run.requirements[0].tool_execution.tool_args = json!({"target": "staging"});
    run.requirements[0].confirm();
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidResolution { problem, .. } if problem.contains("approve_with_args")),
        "{error}"
    );
    run.requirements[0].tool_execution.tool_args = json!({"target": "prod"});

    // Other arguments through the explicit API, checked against the tool.
    run.requirements[0].approve_with_args(json!({"target": 7}));
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidToolArgs { .. }), "{error}");
    run.requirements[0].approve_with_args(json!({}));
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidToolArgs { message, .. } if message.contains("target")),
        "{error}"
    );
    assert_eq!(calls(&count), 0);
    assert_eq!(stored(&agent, &run.run_id).await, before);

    run.requirements[0].approve_with_args(json!({"target": "staging"}));
    let done = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(calls(&count), 1);
    let execution = &done.tool_executions[0];
    assert_eq!(execution.result.as_deref(), Some("deployed to staging"));
    assert_eq!(execution.tool_args, json!({"target": "staging"}));
    assert_eq!(execution.model_args, Some(json!({"target": "prod"})));
}

// ---------------------------------------------------------------------------------------------
// Durable outcomes, cancellation, recovery.

/// A confirmed `deploy` whose body signals that it started and then waits to be released.
fn gated_deploy() -> (TestTool, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
    let started = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (s, r) = (started.clone(), release.clone());
    let tool = TestTool::new_async("deploy", target_schema(), move |_args| {
        let (s, r) = (s.clone(), r.clone());
        async move {
            s.notify_one();
            r.notified().await;
            Ok("deployed".to_owned())
        }
    })
    .confirm();
    (tool, started, release)
}

fn deploy_then_answer() -> FunctionModel {
    FunctionModel::script([
        ModelResponse::calls([ToolCall::new("c1", "deploy", r#"{"target":"prod"}"#)]),
        ModelResponse::text("done"),
    ])
}

#[tokio::test]
async fn a_dropped_continue_finishes_in_the_background_and_is_stored() {
    let (tool, started, release) = gated_deploy();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(deploy_then_answer())
        .tool(tool)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    run.requirements[0].confirm();
    {
        let continued = agent.continue_run(&run.run_id, &run.requirements);
        tokio::select! {
            _ = continued => panic!("the tool is gated: the continue cannot end yet"),
            () = started.notified() => {}
        }
        // The future is dropped here, as a timeout or a gone client would drop it.
    }
    release.notify_one();
    let done = settled(&agent, &run.run_id).await;
    assert_eq!(done.run.status, RunStatus::Completed);
    assert_eq!(done.run.content.as_deref(), Some("done"));
    assert_eq!(calls(&count), 1);
    assert!(matches!(
        agent.reopen_run(&run.run_id).await,
        Err(Error::RunNotClaimed {
            status: RunStatus::Completed,
            ..
        })
    ));
}

#[tokio::test]
async fn a_dropped_continue_stream_finishes_in_the_background_and_is_stored() {
    let (tool, _started, release) = gated_deploy();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(deploy_then_answer())
        .tool(tool)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    run.requirements[0].confirm();
    let mut stream = agent.continue_run_stream(&run.run_id, &run.requirements);
    loop {
        match stream.next().await {
            Some(Ok(RunEvent::ToolCallStarted { .. })) => break,
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    drop(stream);
    release.notify_one();
    let done = settled(&agent, &run.run_id).await;
    assert_eq!(done.run.status, RunStatus::Completed);
    assert_eq!(calls(&count), 1);
}

#[tokio::test]
async fn every_call_of_a_batch_is_stored_as_started_before_it_runs_and_as_finished_when_done() {
    let store = MemoryStore::new();
    let seen: Arc<std::sync::Mutex<Vec<StoredRun>>> = Arc::default();
    let run_id: Arc<std::sync::Mutex<String>> = Arc::default();
    // The tool looks at the store from inside its body.
    let (s, id) = (store.clone(), run_id.clone());
    let log = seen.clone();
    let tool = TestTool::new_async("deploy", target_schema(), move |_| {
        let (s, id, log) = (s.clone(), id.clone(), log.clone());
        async move {
            let id = id.lock().unwrap().clone();
            let now = s.load(&id).await.unwrap();
            log.lock().unwrap().push(now);
            Ok("deployed".to_owned())
        }
    })
    .confirm();
    let (s, id) = (store.clone(), run_id.clone());
    let model_saw: Arc<std::sync::Mutex<Option<StoredRun>>> = Arc::default();
    let saw = model_saw.clone();
    let model = FunctionModel::new(move |request| {
        if FunctionModel::turn_of_run(request) == 0 {
            return Ok(ModelResponse::calls([
                ToolCall::new("c1", "deploy", r#"{"target":"a"}"#),
                ToolCall::new("c2", "deploy", r#"{"target":"b"}"#),
            ]));
        }
        let id = id.lock().unwrap().clone();
        let now = s.load(&id).now_or_never().unwrap().unwrap();
        *saw.lock().unwrap() = Some(now);
        Ok(ModelResponse::text("done"))
    });
    let agent = Agent::builder()
        .model(model)
        .tool(tool)
        .store(store)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    *run_id.lock().unwrap() = run.run_id.clone();
    for req in &mut run.requirements {
        req.confirm();
    }
    let done = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);

    // Inside the bodies: the run was claimed and both calls were stored as started (or the
    // first already as finished).
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for inside in seen.iter() {
        assert_eq!(inside.run.status, RunStatus::Running);
        assert_eq!(inside.run.in_flight.len(), 2);
        assert!(inside.run.requirements.is_empty());
    }
    assert!(
        seen[0].run.in_flight.iter().all(|c| matches!(
            c,
            InFlightCall::Started {
                by_executor: false,
                ..
            }
        )),
        "{:?}",
        seen[0].run.in_flight
    );
    // The second body ran after the first result was stored (one write per result while others
    // still run).
    assert_eq!(
        seen[1]
            .run
            .in_flight
            .iter()
            .filter(|c| matches!(c, InFlightCall::Finished { .. }))
            .count(),
        1,
        "{:?}",
        seen[1].run.in_flight
    );
    // The model's next turn: both results stored, nothing in flight.
    let at_model = model_saw.lock().unwrap().clone().unwrap();
    assert_eq!(at_model.run.status, RunStatus::Running);
    assert!(at_model.run.in_flight.is_empty());
    assert_eq!(tool_results(&at_model.run), ["deployed", "deployed"]);
}

/// A model whose first turn after a tool result never ends (while `hang` is set); the others are
/// `inner`'s.
struct HangOnce {
    inner: FunctionModel,
    hang: Arc<AtomicBool>,
    hanging: Arc<tokio::sync::Notify>,
}

impl kern_core::Model for HangOnce {
    fn name(&self) -> &str {
        "hang-once"
    }
    fn invoke<'a>(
        &'a self,
        request: kern_core::ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        if FunctionModel::turn_of_run(&request) > 0 && self.hang.swap(false, Ordering::SeqCst) {
            self.hanging.notify_one();
            return futures::future::pending().boxed();
        }
        self.inner.invoke(request)
    }
}

#[tokio::test]
async fn a_later_turns_internal_calls_are_stored_as_started_before_they_run() {
    let store = MemoryStore::new();
    let run_id: Arc<std::sync::Mutex<String>> = Arc::default();
    let inside: Arc<std::sync::Mutex<Option<StoredRun>>> = Arc::default();
    let (s, id, log) = (store.clone(), run_id.clone(), inside.clone());
    let lookup = TestTool::new_async("lookup", json!({"type": "object"}), move |_| {
        let (s, id, log) = (s.clone(), id.clone(), log.clone());
        async move {
            let id = id.lock().unwrap().clone();
            let now = s.load(&id).await.unwrap();
            *log.lock().unwrap() = Some(now);
            Ok("found".to_owned())
        }
    });
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "deploy", r#"{"target":"prod"}"#)]),
            ModelResponse::calls([ToolCall::new("c1", "lookup", "{}")]),
            ModelResponse::text("done"),
        ]))
        .tool(deploy())
        .tool(lookup)
        .store(store)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    *run_id.lock().unwrap() = run.run_id.clone();
    run.requirements[0].confirm();
    let done = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    let inside = inside.lock().unwrap().clone().unwrap();
    // The later turn is stored (its assistant message, its call as started) before the body.
    assert_eq!(inside.run.status, RunStatus::Running);
    assert!(
        matches!(inside.run.in_flight.as_slice(),
            [InFlightCall::Started { execution, .. }] if execution.tool_name == "lookup"),
        "{:?}",
        inside.run.in_flight
    );
    assert_eq!(tool_results(&inside.run), ["deployed to prod"]);
    assert!(matches!(
        inside.run.messages.last(),
        Some(Message::Assistant { tool_calls, .. }) if tool_calls[0].name == "lookup"
    ));
}

#[tokio::test]
async fn a_continue_that_dies_in_the_next_model_turn_is_reopened_without_running_its_tools() {
    let tool = deploy();
    let count = tool.counter();
    // The first model turn after the tools never ends (the process "dies" there).
    let hang = Arc::new(AtomicBool::new(true));
    let hanging = Arc::new(tokio::sync::Notify::new());
    let agent = Agent::builder()
        .model(HangOnce {
            inner: deploy_then_answer(),
            hang,
            hanging: hanging.clone(),
        })
        .tool(tool)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    run.requirements[0].confirm();
    tokio::select! {
        _ = agent.continue_run(&run.run_id, &run.requirements) => panic!("the model turn hangs"),
        () = hanging.notified() => {}
    }
    assert_eq!(calls(&count), 1);

    // The store has the tool's result; the host, taking the process for dead, reopens.
    let claimed = stored(&agent, &run.run_id).await;
    assert_eq!(claimed.run.status, RunStatus::Running);
    assert!(claimed.run.in_flight.is_empty());
    assert_eq!(tool_results(&claimed.run), ["deployed to prod"]);
    let reopened = agent.reopen_run(&run.run_id).await.unwrap();
    assert!(reopened.is_paused());
    assert!(reopened.requirements.is_empty(), "nothing to decide");
    // The pause it was claimed from is gone: its requirements are refused.
    assert!(matches!(
        agent.continue_run(&run.run_id, &run.requirements).await,
        Err(Error::StaleRequirement { .. })
    ));
    let done = agent
        .continue_run(&run.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(calls(&count), 1, "the finished call did not run again");
}

#[tokio::test]
async fn a_call_whose_outcome_is_unknown_is_surfaced_as_interrupted_not_run_again() {
    // The first call of the tool never ends: the process "dies" in its body.
    let first = Arc::new(AtomicBool::new(true));
    let in_body = Arc::new(tokio::sync::Notify::new());
    let (f, b) = (first.clone(), in_body.clone());
    let tool = TestTool::new_async("deploy", target_schema(), move |_| {
        let hang = f.swap(false, Ordering::SeqCst);
        let b = b.clone();
        async move {
            if hang {
                b.notify_one();
                futures::future::pending::<()>().await;
            }
            Ok("deployed".to_owned())
        }
    })
    .confirm();
    let count = tool.counter();
    let agent = Agent::builder()
        .model(deploy_then_answer())
        .tool(tool)
        .build()
        .unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    run.requirements[0].confirm();
    tokio::select! {
        _ = agent.continue_run(&run.run_id, &run.requirements) => panic!("the tool hangs"),
        () = in_body.notified() => {}
    }
    let claimed = stored(&agent, &run.run_id).await;
    assert!(matches!(
        claimed.run.in_flight.as_slice(),
        [InFlightCall::Started {
            by_executor: false,
            ..
        }]
    ));

    let mut reopened = agent.reopen_run(&run.run_id).await.unwrap();
    assert_eq!(reopened.requirements.len(), 1);
    let req = &mut reopened.requirements[0];
    assert!(req.interrupted);
    assert!(req.needs_confirmation());
    assert!(!req.is_resolved(), "the host decides");
    assert_eq!(calls(&count), 1);
    // The host knows it did not complete and rejects it: the tool does not run again.
    req.reject("it did not finish");
    let done = agent
        .continue_run(&run.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(calls(&count), 1);
}

#[tokio::test]
async fn an_executor_call_whose_outcome_is_unknown_is_surfaced_as_an_interrupted_external_call() {
    let offered = Arc::new(tokio::sync::Notify::new());
    let o = offered.clone();
    let executor = move |_: &kern_core::ToolExecution| {
        let o = o.clone();
        async move {
            o.notify_one();
            futures::future::pending::<Option<kern_core::ToolResult>>().await
        }
    };
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "shell", r#"{"command":"ls"}"#)]),
            ModelResponse::text("done"),
        ]))
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = agent.run("Go").await.unwrap();
    // Passed back unresolved: the executor takes it, and never answers.
    tokio::select! {
        _ = agent.continue_run_with(&run.run_id, &run.requirements, executor) => {
            panic!("the executor hangs")
        }
        () = offered.notified() => {}
    }
    let claimed = stored(&agent, &run.run_id).await;
    assert!(matches!(
        claimed.run.in_flight.as_slice(),
        [InFlightCall::Started {
            by_executor: true,
            ..
        }]
    ));
    let mut reopened = agent.reopen_run(&run.run_id).await.unwrap();
    let req = &mut reopened.requirements[0];
    assert!(req.interrupted && req.is_external_tool_execution() && !req.is_resolved());
    req.set_external_execution_result("a.txt");
    let done = agent
        .continue_run(&run.run_id, &reopened.requirements)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(tool_results(&done), ["a.txt"]);
}

#[tokio::test]
async fn a_model_error_after_the_tools_ran_leaves_a_run_that_retries_without_running_them() {
    let tool = deploy();
    let count = tool.counter();
    let fail = Arc::new(AtomicUsize::new(1));
    let f = fail.clone();
    let model = FunctionModel::new(move |request| {
        if FunctionModel::turn_of_run(request) == 0 {
            return Ok(ModelResponse::calls([ToolCall::new(
                "c1",
                "deploy",
                r#"{"target":"prod"}"#,
            )]));
        }
        if f.load(Ordering::SeqCst) > 0 {
            f.fetch_sub(1, Ordering::SeqCst);
            return Err(ModelError::Other("503 from the provider".into()));
        }
        Ok(ModelResponse::text("done"))
    });
    let agent = Agent::builder().model(model).tool(tool).build().unwrap();
    let mut run = agent.run("Deploy").await.unwrap();
    run.requirements[0].confirm();
    let error = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Model(_)), "{error}");
    let failed = stored(&agent, &run.run_id).await.run;
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(tool_results(&failed), ["deployed to prod"]);

    let done = agent.retry_run(&run.run_id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.content.as_deref(), Some("done"));
    assert_eq!(done.error, None);
    assert_eq!(calls(&count), 1, "the tool did not run again");
    assert!(matches!(
        agent.retry_run(&run.run_id).await,
        Err(Error::RunNotFailed {
            status: RunStatus::Completed,
            ..
        })
    ));
    assert!(matches!(
        agent.retry_run("nope").await,
        Err(Error::RunNotFound { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// A pause that cannot be stored is given back.

/// A memory store whose writes fail once its budget of writes is spent.
#[derive(Clone)]
struct FlakyStore {
    inner: MemoryStore,
    writes_left: Arc<AtomicUsize>,
}

impl FlakyStore {
    /// Spends one write; `false` when none is left.
    fn spend(&self) -> bool {
        self.writes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

fn disk_full<'a, T: Send + 'a>() -> BoxFuture<'a, kern_core::Result<T>> {
    async {
        Err(Error::Store {
            message: "disk full".into(),
            source: None,
        })
    }
    .boxed()
}

impl RunStore for FlakyStore {
    fn load<'a>(&'a self, run_id: &'a str) -> BoxFuture<'a, kern_core::Result<StoredRun>> {
        self.inner.load(run_id)
    }
    fn create<'a>(&'a self, run: &'a RunOutput) -> BoxFuture<'a, kern_core::Result<u64>> {
        if !self.spend() {
            return disk_full();
        }
        self.inner.create(run)
    }
    fn update<'a>(
        &'a self,
        run: &'a RunOutput,
        expected_version: u64,
    ) -> BoxFuture<'a, kern_core::Result<u64>> {
        if !self.spend() {
            return disk_full();
        }
        self.inner.update(run, expected_version)
    }
    delegate_to_inner!();
}

#[tokio::test]
async fn a_pause_whose_write_fails_comes_back_with_the_error() {
    let store = FlakyStore {
        inner: MemoryStore::new(),
        writes_left: Arc::new(AtomicUsize::new(0)),
    };
    let writes_left = store.writes_left.clone();
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([ToolCall::new("c1", "shell", r#"{"command":"ls"}"#)]),
            ModelResponse::calls([ToolCall::new("c2", "shell", r#"{"command":"pwd"}"#)]),
            ModelResponse::text("done"),
        ]))
        .tool(shell_tool())
        .store(store)
        .build()
        .unwrap();
    let error = agent.run("Go").await.unwrap_err();
    let Error::NotStored { run, source } = error else {
        panic!("{error}")
    };
    assert!(matches!(*source, Error::Store { .. }));
    assert!(matches!(
        agent.store().load(&run.run_id).await,
        Err(Error::RunNotFound { .. })
    ));
    assert!(run.is_paused());
    assert_eq!(run.requirements.len(), 1);
    assert_eq!(
        run.requirements[0].tool_execution.tool_args["command"],
        "ls"
    );

    // A continue whose claim is stored and whose next pause is not: the run comes back.
    writes_left.store(1, Ordering::SeqCst);
    let mut paused = agent.run("Go").await.unwrap();
    paused.requirements[0].set_external_execution_result("a.txt");
    writes_left.store(1, Ordering::SeqCst);
    let error = agent
        .continue_run(&paused.run_id, &paused.requirements)
        .await
        .unwrap_err();
    let Error::NotStored { run, .. } = error else {
        panic!("{error}")
    };
    assert!(run.is_paused());
    assert_eq!(
        run.requirements[0].tool_execution.tool_args["command"],
        "pwd"
    );
    assert_eq!(tool_results(&run), ["a.txt"]);
    // The store kept the claim, with the result: a reopen recovers the run from there.
    let reopened = agent.reopen_run(&paused.run_id).await;
    assert!(reopened.is_err(), "the store is still full");
    writes_left.store(usize::MAX, Ordering::SeqCst);
    let reopened = agent.reopen_run(&paused.run_id).await.unwrap();
    assert_eq!(tool_results(&reopened), ["a.txt"]);
    assert!(reopened.requirements.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Call ids.

#[tokio::test]
async fn thousands_of_calls_with_one_id_in_a_turn_get_distinct_ids() {
    const CALLS: usize = 3000;
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls(
                (0..CALLS).map(|i| ToolCall::new("dup", "add", format!(r#"{{"a":{i},"b":1}}"#))),
            ),
            ModelResponse::text("done"),
        ]))
        .tool(add_tool())
        .build()
        .unwrap();
    let run = agent.run("Add").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let ids: HashSet<&str> = run
        .tool_executions
        .iter()
        .map(|e| e.tool_call_id.as_str())
        .collect();
    assert_eq!(ids.len(), CALLS);
    assert_eq!(
        run.tool_executions[CALLS - 1].result.as_deref(),
        Some("3000")
    );
}

#[tokio::test]
async fn call_ids_repeated_across_turns_are_made_unique_within_the_run() {
    let agent = Agent::builder()
        .model(same_id_twice(
            "shell",
            r#"{"command":"ls"}"#,
            r#"{"command":"pwd"}"#,
        ))
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = agent.run("Go").await.unwrap();
    while run.is_paused() {
        for req in run.active_requirements_mut() {
            req.set_external_execution_result("ok");
        }
        run = agent
            .continue_run(&run.run_id, &run.requirements)
            .await
            .unwrap();
    }
    let ids: Vec<&str> = run
        .messages
        .iter()
        .flat_map(|m| match m {
            Message::Assistant { tool_calls, .. } => tool_calls.as_slice(),
            _ => &[],
        })
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], "c1");
    assert_ne!(ids[0], ids[1]);
}
