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
}

impl ToolExecution {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Confirmation {
    /// Run the tool.
    Confirmed,
    /// Do not run it; the model is told so, with the note.
    Rejected {
        /// Why, for the model.
        #[serde(default)]
        note: Option<String>,
    },
}

/// One tool call a paused run waits on, and the host's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// What the call needs.
    pub kind: RequirementKind,
    /// The call (and, for an external execution, the result the host set).
    pub tool_execution: ToolExecution,
    /// The host's answer to a confirmation.
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
}

impl Requirement {
    /// A requirement of the given kind for a call.
    pub fn new(kind: RequirementKind, tool_execution: ToolExecution) -> Self {
        Requirement {
            kind,
            tool_execution,
            confirmation: None,
        }
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

    /// Rejects the call: the tool does not run and the model is told so, with the note.
    pub fn reject(&mut self, note: impl Into<String>) {
        self.confirmation = Some(Confirmation::Rejected {
            note: Some(note.into()),
        });
    }

    /// Supplies one argument of a user input requirement. Returns `false` (and changes nothing)
    /// when the requirement asks for no field of that name.
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
