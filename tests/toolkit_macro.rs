//! `#[derive(Toolkit)]` + `#[toolkit_methods]`: per-method execution modes, schemas and
//! descriptions as `#[tool]` makes them, invoke on sync and async methods, runtime selection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod strict_check;

use kern::prelude::*;
use kern::{Error, ToolErrorKind, ToolkitMethods};
use serde_json::json;

#[derive(Toolkit, Default)]
#[toolkit(external = [list_dir], requires_confirmation = [delete_file], requires_user_input = [rename])]
struct ShellTools {
    root: String,
    calls: Arc<AtomicUsize>,
}

#[toolkit_methods]
impl ShellTools {
    /// Makes one (not a tool: no receiver).
    fn new(root: &str) -> Self {
        ShellTools {
            root: root.to_owned(),
            calls: Arc::default(),
        }
    }

    /// Lists the contents of a directory.
    ///
    /// # Arguments
    /// * `directory` - The directory, relative to the root
    async fn list_dir(&self, directory: String) -> Result<String, ToolError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(format!("{}/{directory}: a b c", self.root))
    }

    /// Gets an environment variable.
    ///
    /// Args:
    ///     var_name: The variable's name.
    fn get_env(&self, var_name: &str, ctx: ToolContext) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("{var_name}={} ({})", self.root, ctx.tool_call_id)
    }

    /// Deletes a file under the root.
    fn delete_file(&self, path: String) -> Result<(), ToolError> {
        if path.contains("..") {
            return Err(ToolError::new("path escapes the root"));
        }
        Ok(())
    }

    /// Renames a file.
    #[toolkit(name = "rename_file", strict, stop_after_tool_call)]
    fn rename(&self, from: String, to: Option<String>) -> Vec<String> {
        vec![from, to.unwrap_or_default()]
    }

    /// A helper that is not a tool.
    #[toolkit(skip)]
    fn helper(&mut self) {
        self.root.push('/');
    }
}

fn tools(t: impl IntoTools) -> Result<Vec<Arc<dyn Tool>>, Error> {
    let mut out = Vec::new();
    t.into_tools(&mut out)?;
    Ok(out)
}

fn find(tools: &[Arc<dyn Tool>], name: &str) -> Arc<dyn Tool> {
    tools
        .iter()
        .find(|t| t.definition().name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {name}"))
}

fn ctx(id: &str) -> ToolContext {
    ToolContext {
        tool_call_id: id.into(),
        ..Default::default()
    }
}

#[test]
fn each_method_is_a_tool_with_its_mode() {
    let tools = tools(ShellTools::new("/r")).unwrap();
    let names: Vec<_> = tools
        .iter()
        .map(|t| t.definition().name.to_string())
        .collect();
    assert_eq!(names, ["list_dir", "get_env", "delete_file", "rename_file"]);
    assert_eq!(
        <ShellTools as ToolkitMethods>::METHODS,
        ["list_dir", "get_env", "delete_file", "rename"]
    );

    let list = find(&tools, "list_dir");
    assert_eq!(list.definition().mode, ExecutionMode::External);
    assert_eq!(
        list.definition().description,
        "Lists the contents of a directory."
    );
    assert_eq!(
        list.definition().parameters,
        json!({
            "type": "object",
            "properties": {"directory": {"type": "string", "description": "The directory, relative to the root"}},
            "required": ["directory"]
        })
    );
    let env = find(&tools, "get_env");
    assert_eq!(env.definition().mode, ExecutionMode::Internal);
    assert_eq!(
        env.definition().parameters["properties"]["var_name"]["description"],
        "The variable's name."
    );
    assert!(
        env.definition().parameters["properties"]
            .get("ctx")
            .is_none()
    );
    assert_eq!(
        find(&tools, "delete_file").definition().mode,
        ExecutionMode::RequiresConfirmation
    );
    let rename = find(&tools, "rename_file");
    assert_eq!(
        rename.definition().mode,
        ExecutionMode::RequiresUserInput {
            fields: vec!["from".into(), "to".into()]
        }
    );
    assert!(rename.definition().strict && rename.definition().stop_after_tool_call);
    let v = strict_check::violations(&rename.definition().parameters);
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(
        rename.definition().parameters["additionalProperties"],
        false
    );
    assert_eq!(
        rename.definition().parameters["required"],
        json!(["from", "to"])
    );
    // Every schema is a valid JSON schema.
    for t in &tools {
        jsonschema::validator_for(&t.definition().parameters).unwrap();
    }
}

#[tokio::test]
async fn invoke_runs_sync_and_async_methods_on_one_shared_struct() {
    let calls = Arc::new(AtomicUsize::new(0));
    let tools = tools(ShellTools {
        root: "/r".into(),
        calls: Arc::clone(&calls),
    })
    .unwrap();
    let out = find(&tools, "list_dir")
        .invoke(json!({"directory": "src"}), ctx("1"))
        .await
        .unwrap();
    assert_eq!(out, "/r/src: a b c");
    let out = find(&tools, "get_env")
        .invoke(json!({"var_name": "HOME"}), ctx("call-2"))
        .await
        .unwrap();
    assert_eq!(out, "HOME=/r (call-2)");
    let out = find(&tools, "rename_file")
        .invoke(json!({"from": "a", "to": null}), ctx("3"))
        .await
        .unwrap();
    assert_eq!(out, r#"["a",""]"#);
    let err = find(&tools, "delete_file")
        .invoke(json!({"path": "../x"}), ctx("4"))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "path escapes the root");
    let err = find(&tools, "list_dir")
        .invoke(json!({"dir": "x"}), ctx("5"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);

    // Both methods counted on the same struct: the tools share it.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn selection_by_method_name() {
    let names = |t: Vec<Arc<dyn Tool>>| -> Vec<String> {
        t.iter().map(|t| t.definition().name.to_string()).collect()
    };
    let only = tools(
        ShellTools::new("/")
            .into_toolkit()
            .include(["list_dir", "get_env"]),
    )
    .unwrap();
    assert_eq!(names(only), ["list_dir", "get_env"]);
    let without = tools(ShellTools::new("/").into_toolkit().exclude(["delete_file"])).unwrap();
    assert_eq!(names(without), ["list_dir", "get_env", "rename_file"]);
    let both = tools(
        ShellTools::new("/")
            .into_toolkit()
            .include(["rename", "get_env"])
            .exclude(["get_env"]),
    )
    .unwrap();
    assert_eq!(names(both), ["rename_file"]);
}

#[test]
fn an_unknown_name_in_the_selection_is_a_config_error() {
    let err = tools(ShellTools::new("/").into_toolkit().include(["list_dirs"]));
    match err.err().expect("an error") {
        Error::Config(message) => {
            assert!(message.contains("`list_dirs`"), "{message}");
            assert!(message.contains("ShellTools"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let mut skipped = ShellTools::new("/");
    skipped.helper(); // still an ordinary method
    assert!(matches!(
        tools(skipped.into_toolkit().exclude(["helper"])),
        Err(Error::Config(_))
    ));
}

#[derive(Toolkit)]
#[toolkit(strict, requires_confirmation = ["ping"])]
struct Tiny;

#[toolkit_methods]
impl Tiny {
    /// Pings.
    async fn ping(&self) -> &'static str {
        "pong"
    }
}

#[tokio::test]
async fn toolkit_wide_strict_and_string_lists() {
    let tools = tools(Tiny).unwrap();
    let d = tools[0].definition();
    assert!(d.strict);
    assert_eq!(d.mode, ExecutionMode::RequiresConfirmation);
    assert_eq!(d.parameters["additionalProperties"], false);
    assert!(strict_check::violations(&d.parameters).is_empty());
    assert_eq!(tools[0].invoke(json!(null), ctx("")).await.unwrap(), "pong");
}

#[test]
fn methods_check_arguments_without_running() {
    let kit = ShellTools::new("/srv");
    let calls = kit.calls.clone();
    let all = tools(kit).unwrap();
    let list_dir = find(&all, "list_dir");
    assert_eq!(list_dir.check_args(&json!({"directory": "src"})), Ok(()));
    let error = list_dir.check_args(&json!({"directory": 7})).unwrap_err();
    assert_eq!(error.kind(), ToolErrorKind::InvalidArguments);
    assert!(error.message().contains("directory"), "{error}");
    let error = find(&all, "delete_file")
        .check_args(&json!({}))
        .unwrap_err();
    assert!(error.message().contains("path"), "{error}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "checking runs nothing");
}
