//! `#[tool]` functions in an agent, end to end through the facade: what the examples and the
//! README show, checked. (The loop's own tests, in kern-core, use hand-written tools.)

use std::sync::atomic::{AtomicUsize, Ordering};

use kern::prelude::*;
use kern::{ModelResponse, ToolCall, ToolErrorKind};
use serde_json::json;

static DELETED: AtomicUsize = AtomicUsize::new(0);

/// Execute a shell command.
///
/// # Arguments
/// * `command` - The shell command to execute
#[tool(external_execution)]
fn execute_shell_command(command: String) -> Result<String, ToolError> {
    Ok(format!("ran `{command}`"))
}

/// Adds two numbers.
///
/// # Arguments
/// * `a` - The first
/// * `b` - The second
#[tool]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Deletes a file.
///
/// # Arguments
/// * `path` - The file
#[tool(requires_confirmation)]
fn delete_file(path: String) -> String {
    DELETED.fetch_add(1, Ordering::SeqCst);
    format!("deleted {path}")
}

/// Sends money.
///
/// # Arguments
/// * `to` - Who gets it
/// * `amount` - How much, in cents
#[tool(requires_user_input, user_input_fields = [to])]
fn send_money(to: String, amount: u32, ctx: ToolContext) -> String {
    format!("sent {amount} to {to} in run {}", ctx.run_id)
}

fn tool_message<'a>(run: &'a RunOutput, call_id: &str) -> (&'a str, bool) {
    run.messages
        .iter()
        .find_map(|m| match m {
            Message::Tool {
                tool_call_id,
                content,
                is_error,
                ..
            } if tool_call_id == call_id => Some((content.as_str(), *is_error)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tool message for `{call_id}`: {:#?}", run.messages))
}

#[tokio::test]
async fn an_external_tool_pauses_and_its_entrypoint_resolves_it() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(execute_shell_command)
        .tool(add)
        .build()
        .unwrap();
    let mut run = agent.run("List my files and add").await.unwrap();
    assert!(run.is_paused());
    // The internal tool of the same turn ran; its result is kept.
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(run.tool_executions[0].tool_name, add::NAME);
    assert_eq!(run.tool_executions[0].result.as_deref(), Some("2"));

    let req = &mut run.requirements[0];
    assert!(req.is_external_tool_execution());
    assert_eq!(req.tool_execution.tool_name, "execute_shell_command");
    // Typed access through the generated args type.
    let args: ExecuteShellCommandArgs = req.tool_execution.args().unwrap();
    assert_eq!(args.command, "example");
    let out = execute_shell_command
        .entrypoint(&req.tool_execution.tool_args)
        .await;
    req.set_external_execution_result(out);
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let content = run.content.unwrap();
    assert!(
        content.contains("- execute_shell_command: ran `example`"),
        "{content}"
    );
    assert!(content.contains("- add: 2"), "{content}");
}

#[tokio::test]
async fn confirmation_and_user_input_run_the_tool_with_the_stored_and_supplied_args() {
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([
                ToolCall::new("c1", "delete_file", r#"{"path": "a.txt"}"#),
                ToolCall::new("c2", "delete_file", r#"{"path": "b.txt"}"#),
                ToolCall::new("c3", "send_money", r#"{"amount": 500}"#),
            ]),
            ModelResponse::text("done"),
        ]))
        .tool(delete_file)
        .tool(send_money)
        .build()
        .unwrap();
    let before = DELETED.load(Ordering::SeqCst);
    let mut run = agent.run("Clean up and pay Bob").await.unwrap();
    assert_eq!(run.requirements.len(), 3);
    run.requirements[0].confirm();
    run.requirements[1].reject("keep b");
    let fields = run.requirements[2].user_input_fields();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].name, "to");
    assert_eq!(fields[0].description.as_deref(), Some("Who gets it"));
    assert!(run.requirements[2].set_user_input("to", "bob"));
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(DELETED.load(Ordering::SeqCst) - before, 1, "only c1 ran");
    assert_eq!(tool_message(&run, "c1"), ("deleted a.txt", false));
    let (rejected, is_error) = tool_message(&run, "c2");
    assert!(is_error && rejected.contains("keep b"), "{rejected}");
    // The agent fills in the tool's context: the run id reaches the function.
    let expected = format!("sent 500 to bob in run {}", run.run_id);
    assert_eq!(tool_message(&run, "c3"), (expected.as_str(), false));
}

#[tokio::test]
async fn arguments_that_do_not_fit_a_paused_tool_go_back_to_the_model_not_to_the_host() {
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([
                // A number where the schema wants a string: nothing the host could run.
                ToolCall::new("c1", "execute_shell_command", r#"{"command": 5}"#),
                ToolCall::new("c2", "delete_file", r#"{"path": ["a", "b"]}"#),
                // A good call in the same turn still pauses.
                ToolCall::new("c3", "execute_shell_command", r#"{"command": "ls"}"#),
            ]),
            ModelResponse::text("sorry"),
        ]))
        .tool(execute_shell_command)
        .tool(delete_file)
        .build()
        .unwrap();
    let mut run = agent.run("Go").await.unwrap();
    assert!(run.is_paused());
    let paused: Vec<&str> = run
        .requirements
        .iter()
        .map(|r| r.tool_execution.tool_call_id.as_str())
        .collect();
    assert_eq!(paused, ["c3"], "only the call with good arguments pauses");
    for (id, field) in [("c1", "command"), ("c2", "path")] {
        let failed = run
            .tool_executions
            .iter()
            .find(|e| e.tool_call_id == id)
            .unwrap();
        assert!(failed.is_error);
        let message = failed.result.as_deref().unwrap();
        assert!(
            message.starts_with("invalid arguments") && message.contains(field),
            "{id}: {message}"
        );
    }
    run.requirements[0].set_external_execution_result("a.txt");
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(tool_message(&run, "c1").1);
    assert_eq!(tool_message(&run, "c3"), ("a.txt", false));
}

#[test]
fn generated_tools_check_arguments_like_a_call_would() {
    assert_eq!(
        Tool::check_args(&execute_shell_command, &json!({"command": "ls"})),
        Ok(())
    );
    for bad in [json!({}), json!({"command": 5}), json!([1])] {
        let error = Tool::check_args(&execute_shell_command, &bad).unwrap_err();
        assert_eq!(error.kind(), ToolErrorKind::InvalidArguments, "{bad}");
    }
    // Unknown extra properties are ignored, as by a call.
    assert_eq!(
        Tool::check_args(&add, &json!({"a": 1, "b": 2, "c": 3})),
        Ok(())
    );
}

#[derive(Toolkit)]
#[toolkit(external = [list_dir])]
struct ShellTools {
    root: String,
}

#[toolkit_methods]
impl ShellTools {
    /// Lists the contents of a directory.
    ///
    /// # Arguments
    /// * `directory` - The directory, under the root
    async fn list_dir(&self, directory: String) -> Result<String, ToolError> {
        Ok(format!("{}/{directory}: a.txt b.txt", self.root))
    }

    /// Gets an environment variable.
    ///
    /// # Arguments
    /// * `var_name` - The variable
    fn get_env(&self, var_name: String) -> String {
        format!("{var_name} is unset under {}", self.root)
    }
}

#[tokio::test]
async fn a_toolkit_with_one_external_method_in_an_agent() {
    let agent = Agent::builder()
        .model(TestModel::new())
        .tool(ShellTools {
            root: "/srv".into(),
        })
        .build()
        .unwrap();
    let names: Vec<&str> = agent
        .tools()
        .map(|t| t.definition().name.as_ref())
        .collect();
    assert_eq!(names, ["list_dir", "get_env"]);
    let mut run = agent.run("Look around").await.unwrap();
    assert!(run.is_paused());
    // The internal method ran; the external one waits on the host.
    assert_eq!(run.tool_executions.len(), 1);
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("example is unset under /srv")
    );
    assert_eq!(run.requirements.len(), 1);
    let req = &mut run.requirements[0];
    assert_eq!(req.tool_execution.tool_name, "list_dir");
    assert_eq!(
        req.tool_execution.tool_args,
        json!({"directory": "example"})
    );
    req.set_external_execution_result("host listing: c.txt");
    let run = agent
        .continue_run(&run.run_id, &run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert!(
        run.content
            .as_deref()
            .unwrap()
            .contains("- list_dir: host listing: c.txt")
    );
}
