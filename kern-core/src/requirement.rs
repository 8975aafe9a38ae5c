//! What a paused run needs from the host before it can go on.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tool::{IntoToolResult, ToolError};

/// A tool call and, once it ran, its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolExecution {
    /// The id the model gave the call.
    pub tool_call_id: String,
    /// The tool.
    pub tool_name: String,
    /// The arguments (a JSON object).
    pub tool_args: Value,
    /// The result, once there is one.
    #[serde(default)]
    pub result: Option<String>,
    /// Whether `result` is an error message.
    #[serde(default)]
    pub is_error: bool,
    /// The arguments the model gave, when the host approved the call with others
    /// ([`Requirement::approve_with_args`]; `tool_args` are then the ones it ran with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_args: Option<Value>,
}

impl ToolExecution {
    /// A call that has not run yet.
    pub fn new(
        tool_call_id: impl Into<String>,
        tool_name: impl Into<String>,
        tool_args: Value,
    ) -> Self {
        ToolExecution {
            tool_call_id: tool_call_id.into(),
            tool_name: tool_name.into(),
            tool_args,
            result: None,
            is_error: false,
            model_args: None,
        }
    }

    /// The arguments deserialized into `T` (a tool's generated args type, or any type of yours).
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, ToolError> {
        T::deserialize(&self.tool_args).map_err(ToolError::invalid_arguments)
    }
}

/// What kind of help a paused tool call needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequirementKind {
    /// The host executes the tool and sets the result.
    ExternalExecution,
    /// The host confirms (the agent then runs the tool) or rejects the call.
    Confirmation,
    /// The host supplies these arguments; the agent then runs the tool.
    UserInput {
        /// The fields, with the values supplied so far.
        fields: Vec<UserInputField>,
    },
}

/// One argument the host must supply for a [`RequirementKind::UserInput`] requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInputField {
    /// The argument's name.
    pub name: String,
    /// The argument's description, from the tool's schema.
    #[serde(default)]
    pub description: Option<String>,
    /// The value the host supplied.
    #[serde(default)]
    pub value: Option<Value>,
}

/// The host's answer to a [`RequirementKind::Confirmation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Confirmation {
    /// Run the tool.
    Confirmed,
    /// Run the tool with these arguments instead of the model's
    /// ([`Requirement::approve_with_args`]). They are checked against the tool before the pause
    /// is claimed, and recorded in the run.
    ConfirmedWithArgs {
        /// The arguments to run the tool with (a JSON object).
        tool_args: Value,
    },
    /// Do not run it; the model is told so, with the note.
    Rejected {
        /// Why, for the model.
        #[serde(default)]
        note: Option<String>,
    },
}

/// One tool call a paused run waits on, and the host's answer to it.
///
/// A requirement is bound to its run and its pause ([`run_id`](Self::run_id),
/// [`pause_id`](Self::pause_id)): a continue refuses one of another run or of an earlier pause
/// ([`Error::StaleRequirement`](crate::Error::StaleRequirement)), even when the tool call ids
/// are the same.
///
/// The host answers each requirement by its kind:
///
/// ```
/// # extern crate kern_core as kern;
/// # use kern_macros::tool;
/// use kern_core::{Agent, Requirement, TestModel, ToolError};
///
/// /// Delete a file.
/// #[tool(requires_confirmation)]
/// fn delete_file(path: String) -> Result<String, ToolError> {
///     Ok(format!("deleted {path}"))
/// }
///
/// /// Book a flight.
/// #[tool(requires_user_input, user_input_fields = ["seat"])]
/// fn book(destination: String, seat: String) -> Result<String, ToolError> {
///     Ok(format!("{destination}, seat {seat}"))
/// }
///
/// /// Look up an order in the host's own database.
/// #[tool(external_execution)]
/// fn lookup_order(order_id: u32) -> Result<String, ToolError> {
///     unreachable!("the host runs it")
/// }
///
/// fn answer(req: &mut Requirement) {
///     if req.needs_confirmation() {
///         if req.tool_execution.tool_args["path"] == "/etc/passwd" {
///             req.reject("not that file");
///         } else {
///             req.confirm();
///         }
///     } else if req.needs_user_input() {
///         req.set_user_input("seat", "12A");
///     } else if req.is_external_tool_execution() {
///         req.set_external_execution_result("order 7: shipped");
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
/// let agent = Agent::builder()
///     .model(TestModel::new())
///     .tool(delete_file)
///     .tool(book)
///     .tool(lookup_order)
///     .build()?;
/// let mut run = agent.run("Tidy up, book my flight, check my order").await?;
/// assert_eq!(run.requirements.len(), 3);
/// run.active_requirements_mut().for_each(answer);
/// assert!(run.requirements.iter().all(Requirement::is_resolved));
/// let run = agent.continue_run(&run.run_id, &run.requirements).await?;
/// assert!(run.is_finished());
/// assert_eq!(run.tool_executions.len(), 3);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// The run whose pause this is.
    #[serde(default)]
    pub run_id: String,
    /// The pause ([`RunOutput::pause_id`](crate::RunOutput::pause_id)).
    #[serde(default)]
    pub pause_id: String,
    /// What the call needs.
    pub kind: RequirementKind,
    /// The call (and, for an external execution, the result the host set).
    pub tool_execution: ToolExecution,
    /// The host's answer to a confirmation.
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
    /// The call was started before and its outcome is unknown: the process working on it died
    /// (or its work was abandoned) after the call started and before its result was stored, and
    /// the run was then reopened ([`Agent::reopen_run`](crate::Agent::reopen_run)). The tool body
    /// may have run, in part or whole. The host decides: [`confirm`](Self::confirm) runs it again,
    /// [`reject`](Self::reject) tells the model it did not complete, and (for an external call)
    /// [`set_external_execution_result`](Self::set_external_execution_result) gives the result
    /// the host knows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// A worker started on this requirement ([`mark_started`](Self::mark_started), stored with
    /// [`Agent::save_progress`](crate::Agent::save_progress)) and has not stored its resolution
    /// yet. A later claim of the run ([`RunStore::claim`](crate::RunStore::claim)) turns a
    /// started requirement that is still unresolved into an [`interrupted`](Self::interrupted)
    /// one: the worker may have died in the middle of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub started: bool,
}

impl Requirement {
    /// A requirement of the given kind for a call.
    pub fn new(kind: RequirementKind, tool_execution: ToolExecution) -> Self {
        Requirement {
            run_id: String::new(),
            pause_id: String::new(),
            kind,
            tool_execution,
            confirmation: None,
            interrupted: false,
            started: false,
        }
    }

    /// Marks the requirement as started: a worker is about to execute it. Store the mark with
    /// [`Agent::save_progress`](crate::Agent::save_progress) *before* executing, so that if the
    /// worker dies, the next claimer gets the requirement back as
    /// [`interrupted`](Self::interrupted) (to decide) instead of executing it a second time.
    ///
    /// ```
    /// use kern_core::{Requirement, RequirementKind, ToolExecution};
    ///
    /// let call = ToolExecution::new("c1", "deploy", serde_json::json!({}));
    /// let mut requirement = Requirement::new(RequirementKind::ExternalExecution, call);
    /// requirement.mark_started();
    /// assert!(requirement.started);
    /// ```
    pub fn mark_started(&mut self) {
        self.started = true;
    }

    /// Whether the host must execute the tool.
    pub fn is_external_tool_execution(&self) -> bool {
        matches!(self.kind, RequirementKind::ExternalExecution)
    }

    /// Whether the host must confirm or reject the call.
    pub fn needs_confirmation(&self) -> bool {
        matches!(self.kind, RequirementKind::Confirmation)
    }

    /// Whether the host must supply arguments.
    pub fn needs_user_input(&self) -> bool {
        matches!(self.kind, RequirementKind::UserInput { .. })
    }

    /// The fields a user input requirement asks for (empty for the other kinds).
    pub fn user_input_fields(&self) -> &[UserInputField] {
        match &self.kind {
            RequirementKind::UserInput { fields } => fields,
            _ => &[],
        }
    }

    /// Whether the host has given everything this requirement needs.
    pub fn is_resolved(&self) -> bool {
        self.unresolved_reason().is_none()
    }

    /// What the requirement still needs, in words; `None` once resolved.
    pub fn unresolved_reason(&self) -> Option<String> {
        match &self.kind {
            RequirementKind::ExternalExecution => self
                .tool_execution
                .result
                .is_none()
                .then(|| "it needs an external execution result".to_owned()),
            RequirementKind::Confirmation => self
                .confirmation
                .is_none()
                .then(|| "it needs a confirmation or a rejection".to_owned()),
            RequirementKind::UserInput { fields } => {
                let missing: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.value.is_none())
                    .map(|f| f.name.as_str())
                    .collect();
                (!missing.is_empty())
                    .then(|| format!("it needs user input for `{}`", missing.join("`, `")))
            }
        }
    }

    /// Sets the result of an external execution: a string, a JSON value, or a
    /// `Result` such as the one a tool's `entrypoint` returns (an `Err` is sent to the model as a
    /// tool error).
    pub fn set_external_execution_result(&mut self, result: impl IntoToolResult) {
        let (content, is_error) = match result.into_tool_result() {
            Ok(content) => (content, false),
            Err(error) => (error.message().to_owned(), true),
        };
        self.tool_execution.result = Some(content);
        self.tool_execution.is_error = is_error;
    }

    /// Confirms the call: the agent runs the tool when the run continues.
    pub fn confirm(&mut self) {
        self.confirmation = Some(Confirmation::Confirmed);
    }

    /// Confirms the call with other arguments than the model's (a JSON object): the agent runs
    /// the tool with them when the run continues. They are checked against the tool first; ones
    /// that do not fit are refused ([`Error::InvalidToolArgs`](crate::Error::InvalidToolArgs))
    /// and the pause stays. The run records both ([`ToolExecution::model_args`]).
    ///
    /// This is the one way to change a call's arguments: a continue refuses a requirement whose
    /// `tool_args` were edited in place.
    pub fn approve_with_args(&mut self, tool_args: impl Into<Value>) {
        self.confirmation = Some(Confirmation::ConfirmedWithArgs {
            tool_args: tool_args.into(),
        });
    }

    /// Rejects the call: the tool does not run and the model is told so, with the note.
    pub fn reject(&mut self, note: impl Into<String>) {
        self.confirmation = Some(Confirmation::Rejected {
            note: Some(note.into()),
        });
    }

    /// Supplies one argument of a user input requirement. Returns `false` (and changes nothing)
    /// when the requirement asks for no field of that name.
    ///
    /// The value is checked against the tool (with the model's other arguments) when the run
    /// continues, before the pause is claimed: one that does not fit (`42` for a `String`) is
    /// refused with [`Error::InvalidToolArgs`](crate::Error::InvalidToolArgs), the pause stays,
    /// and the host can set it again.
    pub fn set_user_input(&mut self, field: &str, value: impl Into<Value>) -> bool {
        if let RequirementKind::UserInput { fields } = &mut self.kind
            && let Some(f) = fields.iter_mut().find(|f| f.name == field)
        {
            f.value = Some(value.into());
            return true;
        }
        false
    }
}
