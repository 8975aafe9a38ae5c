//! [`WithModes`]: other execution modes than a toolkit's defaults, chosen at run time.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tool::{
    ExecutionMode, IntoTools, Tool, ToolContext, ToolDefinition, ToolError, ToolResult,
};
use futures::future::BoxFuture;
use serde_json::Value;

/// Tools (a toolkit, a selection of one, or a single tool) with the execution mode of some of
/// them changed. Made by [`with_modes`].
#[derive(Debug, Clone)]
pub struct WithModes<T> {
    inner: T,
    modes: Vec<(String, ExecutionMode)>,
}

/// Changes the execution mode of the named tools of `tools`, when the agent is built.
///
/// A tool's mode is chosen where it is written (`#[tool(requires_confirmation)]`,
/// `#[toolkit(..)]`); the ready toolkits of `kern-toolkit` choose safe defaults (`run_command`,
/// `write_file` and `http_post` wait for confirmation). Where the host decides otherwise — the
/// agent runs in a throwaway container, or commands must go to a sandbox the host owns — it
/// changes them here, for a toolkit, a selection of one or a single tool. A name that is not
/// one of the tools, or a [`RequiresUserInput`](ExecutionMode::RequiresUserInput) field that is
/// not a parameter of the tool, makes building the agent fail with [`Error::Config`].
///
/// ```
/// use kern_core::{ExecutionMode, IntoTools, with_modes};
/// # use kern_core::{Tool, ToolContext, ToolDefinition, ToolResult};
/// # struct RunCommand(ToolDefinition);
/// # impl Tool for RunCommand {
/// #     fn definition(&self) -> &ToolDefinition { &self.0 }
/// #     fn invoke(&self, _: serde_json::Value, _: ToolContext)
/// #         -> futures::future::BoxFuture<'static, ToolResult> { Box::pin(async { Ok(String::new()) }) }
/// # }
/// # let schema = serde_json::json!({"type": "object", "properties": {"command": {"type": "string"}}});
/// # let run_command = || RunCommand(
/// #     ToolDefinition::new("run_command", "Runs a command", schema.clone())
/// #         .with_mode(ExecutionMode::RequiresConfirmation));
///
/// // In a sandbox: commands run without asking.
/// let tools = with_modes(run_command(), [("run_command", ExecutionMode::Internal)]);
/// let mut out = Vec::new();
/// tools.into_tools(&mut out)?;
/// assert_eq!(out[0].definition().mode, ExecutionMode::Internal);
///
/// // A name that is not one of the tools is an error.
/// let mut out = Vec::new();
/// let wrong = with_modes(run_command(), [("rm", ExecutionMode::External)]);
/// assert!(wrong.into_tools(&mut out).is_err());
/// # Ok::<(), kern_core::Error>(())
/// ```
pub fn with_modes<T, I, S>(tools: T, modes: I) -> WithModes<T>
where
    T: IntoTools,
    I: IntoIterator<Item = (S, ExecutionMode)>,
    S: Into<String>,
{
    WithModes {
        inner: tools,
        modes: modes.into_iter().map(|(n, m)| (n.into(), m)).collect(),
    }
}

impl<T: IntoTools> IntoTools for WithModes<T> {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> Result<()> {
        let mut tools = Vec::new();
        self.inner.into_tools(&mut tools)?;
        for (name, mode) in &self.modes {
            let Some(tool) = tools.iter_mut().find(|t| t.definition().name == *name) else {
                let names: Vec<_> = tools.iter().map(|t| t.definition().name.clone()).collect();
                return Err(Error::Config(format!(
                    "with_modes: there is no tool `{name}` (the tools: {})",
                    names.join(", ")
                )));
            };
            if let ExecutionMode::RequiresUserInput { fields } = mode {
                let properties = &tool.definition().parameters["properties"];
                if let Some(field) = fields.iter().find(|f| properties.get(f.as_str()).is_none()) {
                    return Err(Error::Config(format!(
                        "with_modes: `{field}` is not a parameter of `{name}`"
                    )));
                }
            }
            let definition = tool.definition().clone().with_mode(mode.clone());
            *tool = Arc::new(Remoded {
                inner: Arc::clone(tool),
                definition,
            });
        }
        out.extend(tools);
        Ok(())
    }
}

/// A tool with another definition (its mode changed).
struct Remoded {
    inner: Arc<dyn Tool>,
    definition: ToolDefinition,
}

impl Tool for Remoded {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn invoke(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        self.inner.invoke(args, ctx)
    }

    fn check_args(&self, args: &Value) -> Result<(), ToolError> {
        self.inner.check_args(args)
    }
}
