//! The run: internal tools, pauses, errors the model causes, limits, sessions.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use kern_core::{
    Agent, Error, ExecutionMode, FunctionModel, Message, ModelError, ModelResponse, RunInput,
    RunOutput, RunStatus, TestModel, ToolCall, ToolContext, ToolError,
};
use serde_json::json;

#[test]
fn agent_is_cheap_to_share() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Agent>();
    assert_traits::<RunOutput>();
    // One pointer: a clone is one reference count, and clones share tools, model and store.
    assert_eq!(std::mem::size_of::<Agent>(), std::mem::size_of::<usize>());
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(add_tool())
        .build()
        .unwrap();
    let clone = agent.clone();
    let (a, b) = (agent.tools().next().unwrap(), clone.tools().next().unwrap());
    assert!(Arc::ptr_eq(a, b));
    assert!(std::ptr::addr_eq(agent.store(), clone.store()));
}

#[tokio::test]
async fn run_without_tools_completes_and_is_stored() {
    let agent = Agent::builder().model(TestModel::new()).build().unwrap();
    let run = agent.run("Hello").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("TestModel's answer to: Hello"));
    assert_eq!(run.metrics.turns, 1);
    assert!(run.requirements.is_empty());
    let stored = agent.store().load(&run.run_id).await.unwrap();
    assert_eq!(stored.run, run);
}

#[tokio::test]
async fn internal_tool_runs_and_the_model_sees_its_result() {
    let add = add_tool();
    let count = add.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(add)
        .build()
        .unwrap();
    let run = agent.run("Add").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(calls(&count), 1);
    // TestModel generated {"a":1,"b":1} from the schema.
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(run.tool_executions[0].tool_args, json!({"a": 1, "b": 1}));
    assert_eq!(run.tool_executions[0].result.as_deref(), Some("2"));
    assert!(run.content.unwrap().contains("- add: 2"));
    assert_eq!(run.metrics.turns, 2);
    assert_eq!(run.metrics.tool_calls, 1);
    assert!(
        matches!(&run.messages[2], Message::Tool { content, is_error: false, .. } if content == "2")
    );
}

#[tokio::test]
async fn a_pause_is_stored_before_run_returns() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = agent.run("List files").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(run.requirements.len(), 1);
    let req = &run.requirements[0];
    assert!(req.is_external_tool_execution());
    assert!(!req.is_resolved());
    assert_eq!(req.tool_execution.tool_name, "shell");
    assert_eq!(req.tool_execution.tool_args, json!({"command": "example"}));
    assert_eq!(run.active_requirements().count(), 1);

    // Already in the store, exactly as returned, at version 1.
    let stored = agent.store().load(&run.run_id).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.run, run);
    assert_eq!(stored.run.status, RunStatus::Paused);

    // Plain serde data: JSON out, JSON in, the same run.
    let json = serde_json::to_string(&run).unwrap();
    let back: RunOutput = serde_json::from_str(&json).unwrap();
    assert_eq!(back, run);
    assert_eq!(back.schema_version, kern_core::SCHEMA_VERSION);
}

#[tokio::test]
async fn mixed_turn_keeps_internal_results_while_paused() {
    let add = add_tool();
    let add_calls = add.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(add)
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = agent.run("Add and list").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(calls(&add_calls), 1);
    assert_eq!(run.requirements.len(), 1);
    assert_eq!(run.requirements[0].tool_execution.tool_name, "shell");
    // The internal result is kept in the paused run (and in the store).
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(run.tool_executions[0].result.as_deref(), Some("2"));
    let stored = agent.store().load(&run.run_id).await.unwrap();
    assert_eq!(stored.run.tool_executions, run.tool_executions);

    run.requirements[0].set_external_execution_result("a.txt b.txt");
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(calls(&add_calls), 1, "the internal tool ran once");
    let content = run.content.unwrap();
    assert!(content.contains("- add: 2"), "{content}");
    assert!(content.contains("- shell: a.txt b.txt"), "{content}");
    assert_eq!(run.tool_executions.len(), 2);
}

fn sleepy_async(name: &'static str) -> common::TestTool {
    TestTool::new_async(
        name,
        json!({"type": "object", "properties": {}}),
        |_| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok("slept".to_owned())
        },
    )
}

#[tokio::test]
async fn three_async_tools_of_one_turn_run_concurrently() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(sleepy_async("sleep_a"))
        .tool(sleepy_async("sleep_b"))
        .tool(sleepy_async("sleep_c"))
        .build()
        .unwrap();
    let started = Instant::now();
    let run = agent.run("Sleep three times").await.unwrap();
    let elapsed = started.elapsed();
    eprintln!("three async tools sleeping 1 s each: {elapsed:?}");
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.tool_executions.len(), 3);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sync_tools_of_one_turn_run_concurrently_on_the_blocking_pool() {
    let sleepy = |name| {
        TestTool::new(name, json!({"type": "object"}), |_| {
            std::thread::sleep(Duration::from_secs(1));
            Ok("slept".to_owned())
        })
    };
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(sleepy("sleep_a"))
        .tool(sleepy("sleep_b"))
        .tool(sleepy("sleep_c"))
        .build()
        .unwrap();
    let started = Instant::now();
    let run = agent.run("Sleep three times").await.unwrap();
    let elapsed = started.elapsed();
    eprintln!("three sync tools sleeping 1 s each: {elapsed:?}");
    assert_eq!(run.tool_executions.len(), 3);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

/// Records every request's messages, and answers with a script.
fn recording_script(turns: Vec<ModelResponse>) -> (FunctionModel, Arc<Mutex<Vec<Vec<Message>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let model = FunctionModel::new(move |request| {
        recorded.lock().unwrap().push(request.messages.to_vec());
        let turn = FunctionModel::turn_of_run(request);
        turns
            .get(turn)
            .cloned()
            .ok_or_else(|| ModelError::Other("out of script".into()))
    });
    (model, seen)
}

#[tokio::test]
async fn errors_the_model_causes_go_back_to_it_and_the_run_goes_on() {
    let failing = TestTool::new("failing", json!({"type": "object"}), |_| {
        Err(ToolError::new("disk full"))
    });
    let panicking = TestTool::new("panicking", json!({"type": "object"}), |_| {
        panic!("boom in body")
    });
    let panicking_async =
        TestTool::new_async("panicking_async", json!({"type": "object"}), |_| async {
            panic!("boom in future")
        });
    let panicking_invoke =
        TestTool::with_body("panicking_invoke", json!({"type": "object"}), |_, _| {
            panic!("boom in invoke")
        });
    let calls_in_turn = vec![
        ToolCall::new("c1", "nope", "{}"),
        ToolCall::new("c2", "add", r#"{"a": 1,"#),
        ToolCall::new("c3", "add", r#"{"a": "one", "b": 2}"#),
        ToolCall::new("c4", "add", "[1, 2]"),
        ToolCall::new("c5", "failing", "{}"),
        ToolCall::new("c6", "panicking", ""),
        ToolCall::new("c7", "panicking_async", "{}"),
        ToolCall::new("c8", "panicking_invoke", "{}"),
        ToolCall::new("c9", "shell", r#"{"cmd": "ls"}"#),
        ToolCall::new("c10", "add", r#"{"a": 2, "b": 3}"#),
    ];
    let (model, seen) = recording_script(vec![
        ModelResponse::calls(calls_in_turn),
        ModelResponse::text("sorry"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(add_tool())
        .tool(failing)
        .tool(panicking)
        .tool(panicking_async)
        .tool(panicking_invoke)
        .tool(shell_tool())
        .build()
        .unwrap();
    let run = agent.run("Misbehave").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.content.as_deref(), Some("sorry"));

    let results: Vec<(String, bool, String)> = run
        .tool_executions
        .iter()
        .map(|e| {
            (
                e.tool_call_id.clone(),
                e.is_error,
                e.result.clone().unwrap(),
            )
        })
        .collect();
    let expect = |id: &str, is_error: bool, needle: &str| {
        let (_, err, text) = results.iter().find(|(i, ..)| i == id).unwrap();
        assert_eq!(*err, is_error, "{id}: {text}");
        assert!(text.contains(needle), "{id}: `{text}` lacks `{needle}`");
    };
    expect("c1", true, "unknown tool `nope`");
    expect("c2", true, "not valid JSON");
    expect("c3", true, "invalid arguments");
    expect("c4", true, "expected a JSON object, got an array");
    expect("c5", true, "disk full");
    expect("c6", true, "the tool panicked: boom in body");
    expect("c7", true, "the tool panicked: boom in future");
    expect("c8", true, "the tool panicked: boom in invoke");
    expect("c9", true, "missing required argument `command`");
    expect("c10", false, "5");

    // The model's second turn saw every error as a tool message.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let tool_messages: Vec<&Message> = seen[1]
        .iter()
        .filter(|m| matches!(m, Message::Tool { .. }))
        .collect();
    assert_eq!(tool_messages.len(), 10);
    assert_eq!(
        tool_messages
            .iter()
            .filter(|m| matches!(m, Message::Tool { is_error: true, .. }))
            .count(),
        9
    );
}

#[tokio::test]
async fn the_turn_limit_stops_a_looping_model() {
    let model = FunctionModel::new(|_| {
        Ok(ModelResponse::calls([ToolCall::new(
            "c",
            "add",
            r#"{"a":1,"b":1}"#,
        )]))
    });
    let agent = Agent::builder()
        .model(model)
        .tool(add_tool())
        .max_turns(3)
        .build()
        .unwrap();
    let run = agent.run("Loop").await.unwrap();
    assert_eq!(run.status, RunStatus::TurnLimitReached);
    assert!(run.is_finished());
    assert_eq!(run.metrics.turns, 3);
    assert_eq!(run.tool_executions.len(), 3);
    let stored = agent.store().load(&run.run_id).await.unwrap();
    assert_eq!(stored.run.status, RunStatus::TurnLimitReached);
}

#[tokio::test]
async fn a_model_error_fails_the_run_and_stores_it() {
    let model = FunctionModel::new(|_| Err(ModelError::Other("provider down".into())));
    let agent = Agent::builder().model(model).build().unwrap();
    let mut input = RunInput::new("Hi").session_id("s-fail");
    input.user_id = Some("u".into());
    let error = agent.run(input).await.unwrap_err();
    assert!(matches!(error, Error::Model(ModelError::Other(ref m)) if m == "provider down"));
    let runs = agent.store().session_runs("s-fail").await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].error.as_deref(), Some("provider down"));
}

#[tokio::test]
async fn later_runs_of_a_session_see_the_earlier_runs_messages() {
    let (model, seen) = recording_script(vec![ModelResponse::text("noted")]);
    let agent = Agent::builder().model(model).build().unwrap();
    let first = agent
        .run(
            RunInput::new("My name is Ada")
                .session_id("s1")
                .user_id("ada"),
        )
        .await
        .unwrap();
    assert_eq!(first.session_id, "s1");
    assert_eq!(first.user_id.as_deref(), Some("ada"));
    let second = agent
        .run(RunInput::new("What is my name?").session_id("s1"))
        .await
        .unwrap();
    agent.run("Unrelated").await.unwrap();
    // The store groups runs by user too: only the first run named its user.
    let ada = agent.store().user_runs("ada").await.unwrap();
    assert_eq!(ada, vec![first.clone()]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], vec![Message::user("My name is Ada")]);
    assert_eq!(
        seen[1],
        vec![
            Message::user("My name is Ada"),
            Message::assistant(Some("noted".into()), vec![]),
            Message::user("What is my name?"),
        ]
    );
    assert_eq!(seen[2], vec![Message::user("Unrelated")]);
    // A run's own messages do not include the history.
    assert_eq!(second.messages.len(), 2);
    assert_ne!(first.run_id, second.run_id);
}

#[tokio::test]
async fn the_model_gets_the_agents_instructions_on_every_turn() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let model = FunctionModel::new(move |request| {
        recorded
            .lock()
            .unwrap()
            .push(request.instructions.map(str::to_owned));
        Ok(match FunctionModel::turn_of_run(request) {
            0 => ModelResponse::calls([ToolCall::new("c1", "add", r#"{"a":1,"b":2}"#)]),
            _ => ModelResponse::text("3"),
        })
    });
    let agent = Agent::builder()
        .model(model)
        .instructions("Answer in one word.")
        .tool(add_tool())
        .build()
        .unwrap();
    agent.run("1 + 2?").await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Some("Answer in one word.".to_owned()); 2]
    );

    // Without instructions the model gets none.
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    let agent = Agent::builder()
        .model(FunctionModel::new(move |request| {
            *record.lock().unwrap() = Some(request.instructions.map(str::to_owned));
            Ok(ModelResponse::text("hi"))
        }))
        .build()
        .unwrap();
    agent.run("x").await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(None));
}

#[tokio::test]
async fn a_paused_run_of_a_session_is_not_history() {
    let (model, seen) = recording_script(vec![
        ModelResponse::calls([ToolCall::new("c", "shell", r#"{"command":"ls"}"#)]),
        ModelResponse::text("done"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(shell_tool())
        .build()
        .unwrap();
    let paused = agent
        .run(RunInput::new("first").session_id("s2"))
        .await
        .unwrap();
    assert!(paused.is_paused());
    agent
        .run(RunInput::new("second").session_id("s2"))
        .await
        .unwrap();
    // The second run's first request holds only its own input.
    assert_eq!(seen.lock().unwrap()[1], vec![Message::user("second")]);
}

#[tokio::test]
async fn stop_after_tool_call_and_show_result() {
    let stopper = TestTool::new("lookup", json!({"type": "object"}), |_| Ok("42".into()))
        .stop_after()
        .show_result();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(stopper)
        .build()
        .unwrap();
    let run = agent.run("Look up").await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        run.metrics.turns, 1,
        "no model turn after the stopping tool"
    );
    assert_eq!(run.content.as_deref(), Some("42"));

    // show_result without stopping: the result comes before the model's answer.
    let shown =
        TestTool::new("lookup", json!({"type": "object"}), |_| Ok("42".into())).show_result();
    let agent = Agent::builder()
        .model(TestModel::new().with_answer("The answer."))
        .tool(shown)
        .build()
        .unwrap();
    let run = agent.run("Look up").await.unwrap();
    assert_eq!(run.metrics.turns, 2);
    assert_eq!(
        run.content.as_deref(),
        Some("42\n\nThe answer.\n- lookup: 42")
    );

    // A failing stopping tool does not stop the run: the model hears the error.
    let failing = TestTool::new("lookup", json!({"type": "object"}), |_| {
        Err(ToolError::new("no"))
    })
    .stop_after();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(failing)
        .build()
        .unwrap();
    let run = agent.run("Look up").await.unwrap();
    assert_eq!(run.metrics.turns, 2);
}

#[tokio::test]
async fn the_tool_context_names_the_run_and_the_call() {
    let seen = Arc::new(Mutex::new(None::<ToolContext>));
    let record = seen.clone();
    let tool = TestTool::with_body("ctx", json!({"type": "object"}), move |_, ctx| {
        *record.lock().unwrap() = Some(ctx);
        Box::pin(async { Ok("ok".to_owned()) })
    });
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(tool)
        .build()
        .unwrap();
    let run = agent
        .run(RunInput::new("ctx").session_id("s3").user_id("u3"))
        .await
        .unwrap();
    let ctx = seen.lock().unwrap().clone().unwrap();
    assert_eq!(ctx.run_id, run.run_id);
    assert_eq!(ctx.session_id, "s3");
    assert_eq!(ctx.user_id.as_deref(), Some("u3"));
    assert_eq!(ctx.tool_call_id, run.tool_executions[0].tool_call_id);
}

#[tokio::test]
async fn duplicate_call_ids_from_a_model_are_made_unique() {
    let model = FunctionModel::script([
        ModelResponse::calls([
            ToolCall::new("same", "shell", r#"{"command":"a"}"#),
            ToolCall::new("same", "shell", r#"{"command":"b"}"#),
            ToolCall::new("", "shell", r#"{"command":"c"}"#),
        ]),
        ModelResponse::text("ok"),
    ]);
    let agent = Agent::builder()
        .model(model)
        .tool(shell_tool())
        .build()
        .unwrap();
    let mut run = agent.run("x").await.unwrap();
    let ids: Vec<&str> = run
        .requirements
        .iter()
        .map(|r| r.tool_execution.tool_call_id.as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], "same");
    assert!(ids[1] != ids[0] && ids[2] != ids[0] && ids[2] != ids[1] && !ids[2].is_empty());
    for req in run.active_requirements_mut() {
        req.set_external_execution_result("done");
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
}

#[test]
fn build_refuses_bad_configurations() {
    let no_model = Agent::builder().tool(add_tool()).build().unwrap_err();
    assert!(
        matches!(&no_model, Error::Config(m) if m.contains("no model")),
        "{no_model}"
    );
    let twice = Agent::builder()
        .model(TestModel::new())
        .tool(add_tool())
        .tool(add_tool())
        .build()
        .unwrap_err();
    assert!(matches!(&twice, Error::Config(m) if m.contains("two tools are named `add`")));
    let bad_name = Agent::builder()
        .model(TestModel::new())
        .tool(TestTool::new("bad name", json!({}), |_| Ok(String::new())))
        .build()
        .unwrap_err();
    assert!(matches!(&bad_name, Error::Config(m) if m.contains("`bad name`")));
    // A toolkit that fails to add its tools fails the build.
    struct BrokenKit;
    impl kern_core::IntoTools for BrokenKit {
        fn into_tools(self, _: &mut Vec<Arc<dyn kern_core::Tool>>) -> kern_core::Result<()> {
            Err(Error::Config(
                "toolkit `BrokenKit` has no method `nope`".into(),
            ))
        }
    }
    let broken = Agent::builder()
        .model(TestModel::new())
        .tool(BrokenKit)
        .build()
        .unwrap_err();
    assert!(matches!(&broken, Error::Config(m) if m.contains("BrokenKit")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_runs_at_once_on_one_agent() {
    let add = add_tool();
    let count = add.counter();
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(add)
        .tool(shell_tool())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let agent = agent.clone();
            tokio::spawn(async move {
                let mut run = agent.run(format!("run {i}")).await.unwrap();
                run.requirements[0].set_external_execution_result(format!("out {i}"));
                agent
                    .continue_run(&run.run_id, run.requirements)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let run = task.await.unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert!(run.content.unwrap().contains(&format!("- shell: out {i}")));
        ids.insert(run.run_id);
    }
    assert_eq!(ids.len(), 32);
    assert_eq!(calls(&count), 32);
}

#[tokio::test]
async fn execution_mode_decides_the_requirement_kind() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(TestTool::new("ext", json!({"type":"object"}), |_| Ok(String::new())).external())
        .tool(TestTool::new("conf", json!({"type":"object"}), |_| Ok(String::new())).confirm())
        .tool(
            TestTool::new(
                "ask",
                json!({
                    "type": "object",
                    "properties": {
                        "to": {"type": "string", "description": "Who gets it"},
                        "amount": {"type": "integer"}
                    },
                    "required": ["to", "amount"]
                }),
                |_| Ok(String::new()),
            )
            .user_input(&["to"]),
        )
        .tool(
            TestTool::new(
                "ask_all",
                json!({"type":"object","properties":{"x":{"type":"string"},"y":{"type":"string"}}}),
                |_| Ok(String::new()),
            )
            .mode(ExecutionMode::RequiresUserInput { fields: vec![] }),
        )
        .build()
        .unwrap();
    let run = agent.run("x").await.unwrap();
    let kinds: Vec<(bool, bool, bool)> = run
        .requirements
        .iter()
        .map(|r| {
            (
                r.is_external_tool_execution(),
                r.needs_confirmation(),
                r.needs_user_input(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (false, false, true)
        ]
    );
    let fields = run.requirements[2].user_input_fields();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].name, "to");
    assert_eq!(fields[0].description.as_deref(), Some("Who gets it"));
    // No fields named: every parameter is asked for.
    let all: Vec<&str> = run.requirements[3]
        .user_input_fields()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(all, vec!["x", "y"]);
}

#[test]
fn an_execution_mode_is_exactly_one_mode() {
    // One enum: a tool's mode is one of four, in memory and in JSON.
    let modes = [
        ExecutionMode::Internal,
        ExecutionMode::External,
        ExecutionMode::RequiresConfirmation,
        ExecutionMode::RequiresUserInput {
            fields: vec!["to".into()],
        },
    ];
    for mode in &modes {
        let json = serde_json::to_value(mode).unwrap();
        assert_eq!(
            &serde_json::from_value::<ExecutionMode>(json).unwrap(),
            mode
        );
        assert_eq!(mode.pauses(), *mode != ExecutionMode::Internal);
    }
    // Two modes at once do not deserialize.
    for two in [
        r#"{"kind":"external","kind":"requires_confirmation"}"#,
        r#"{"kind":["external","requires_confirmation"]}"#,
    ] {
        assert!(serde_json::from_str::<ExecutionMode>(two).is_err(), "{two}");
    }
}
