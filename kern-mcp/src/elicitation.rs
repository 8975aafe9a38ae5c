//! Elicitation: an MCP server asking the user for input in the middle of a tool call, answered by
//! the host's [`ElicitationHandler`].
//!
//! # Why this is not a kern pause
//!
//! A kern pause happens *before* a tool runs: the agent sees the tool's mode, stores the run
//! and returns it to the host, who may continue it later, even in another process. An MCP
//! elicitation (`elicitation/create`) arrives *during* a `tools/call`: the server is suspended
//! inside its tool, on this connection, waiting for the answer. That answer cannot wait for a
//! continue: the run may be continued from a store by a process that has no such connection,
//! and kern has no state for "a tool that has started and waits" other than "outcome unknown".
//! So an elicitation is answered while the call is in flight, by the host's handler, which gets
//! the request as kern [`UserInputField`]s (the same fields a `requires_user_input` pause has,
//! so a host asks a person the same way) and answers with [`ElicitationAnswer`].
//!
//! When the host wants the run to pause instead, it marks the tool
//! [`requires_user_input`](crate::McpTools::requires_user_input) with the arguments a person
//! must supply: the pause comes before the call, and the call then runs with them.
//!
//! Without a handler the client does not declare the elicitation capability, so a server that
//! follows the protocol does not elicit.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use kern_core::UserInputField;
use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::{Map, Value};

/// A server's request for user input, as the host's handler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Elicitation {
    /// What the server asks, for the user.
    pub message: String,
    /// The fields asked for, in name order, with their descriptions (a property's `description`, else its
    /// `title`); the handler fills in their values.
    pub fields: Vec<UserInputField>,
    /// The fields the server requires.
    pub required: Vec<String>,
    /// The requested JSON schema, as the server sent it (an object of primitive properties).
    pub schema: Value,
}

impl Elicitation {
    /// The request of a form-mode `elicitation/create` (`None` for a URL-mode one, which asks
    /// the user to open a page and has no fields).
    pub fn from_request(params: &ElicitRequestParams) -> Option<Self> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = params
        else {
            return None;
        };
        let schema = serde_json::to_value(requested_schema).ok()?;
        Some(Self::from_schema(message.clone(), schema))
    }

    /// A request with this message and requested schema.
    ///
    /// ```
    /// use kern_mcp::Elicitation;
    /// use serde_json::json;
    ///
    /// let schema = json!({
    ///     "type": "object",
    ///     "properties": {
    ///         "name": {"type": "string", "description": "Your name"},
    ///         "age": {"type": "integer", "title": "Age"}
    ///     },
    ///     "required": ["name"]
    /// });
    /// let request = Elicitation::from_schema("Who are you?", schema);
    /// // Fields in name order.
    /// assert_eq!(request.fields[0].name, "age");
    /// assert_eq!(request.fields[0].description.as_deref(), Some("Age"));
    /// assert_eq!(request.fields[1].name, "name");
    /// assert_eq!(request.fields[1].description.as_deref(), Some("Your name"));
    /// assert_eq!(request.required, ["name"]);
    /// ```
    pub fn from_schema(message: impl Into<String>, schema: Value) -> Self {
        let fields = schema["properties"]
            .as_object()
            .map(|properties| {
                properties
                    .iter()
                    .map(|(name, property)| UserInputField {
                        name: name.clone(),
                        description: property["description"]
                            .as_str()
                            .or_else(|| property["title"].as_str())
                            .map(str::to_owned),
                        value: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let required = schema["required"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Elicitation {
            message: message.into(),
            fields,
            required,
            schema,
        }
    }

    /// Sets a field's value. Returns `false` (and changes nothing) when no field has that name.
    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> bool {
        match self.fields.iter_mut().find(|f| f.name == field) {
            Some(f) => {
                f.value = Some(value.into());
                true
            }
            None => false,
        }
    }

    /// Accepts with the values set so far; a required field without a value makes it a
    /// [`ElicitationAnswer::Decline`] (the server would refuse the incomplete answer).
    ///
    /// ```
    /// use kern_mcp::{Elicitation, ElicitationAnswer};
    /// use serde_json::json;
    ///
    /// let schema = json!({"type": "object", "properties": {"name": {"type": "string"}},
    ///                     "required": ["name"]});
    /// let mut request = Elicitation::from_schema("Who are you?", schema);
    /// assert_eq!(request.clone().accept(), ElicitationAnswer::Decline);
    /// request.set("name", "Ada");
    /// let ElicitationAnswer::Accept(content) = request.accept() else { panic!() };
    /// assert_eq!(content["name"], "Ada");
    /// ```
    pub fn accept(self) -> ElicitationAnswer {
        let missing = self.required.iter().any(|name| {
            !self
                .fields
                .iter()
                .any(|f| f.name == *name && f.value.is_some())
        });
        if missing {
            return ElicitationAnswer::Decline;
        }
        ElicitationAnswer::Accept(
            self.fields
                .into_iter()
                .filter_map(|f| Some((f.name, f.value?)))
                .collect(),
        )
    }
}

/// The host's answer to an [`Elicitation`].
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationAnswer {
    /// The user gave these values (an object fitting the requested schema).
    Accept(Map<String, Value>),
    /// The user declined to answer; the server's tool goes on without the input.
    Decline,
    /// The user dismissed the request; the server's tool is cancelled.
    Cancel,
}

impl ElicitationAnswer {
    /// The MCP result for this answer.
    pub(crate) fn into_result(self) -> ElicitResult {
        match self {
            ElicitationAnswer::Accept(content) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
            }
            ElicitationAnswer::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationAnswer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        }
    }
}

/// Answers the elicitation requests of an MCP server while its tool call is in flight (see
/// [`McpClient::on_elicitation`](crate::McpClient::on_elicitation)).
///
/// Every `Fn(Elicitation) -> impl Future<Output = ElicitationAnswer>` closure is a handler:
///
/// ```
/// use kern_mcp::{Elicitation, ElicitationAnswer, ElicitationHandler};
///
/// fn takes(_: impl ElicitationHandler) {}
/// takes(|mut request: Elicitation| async move {
///     // A person would be asked here, field by field.
///     let names: Vec<String> = request.fields.iter().map(|f| f.name.clone()).collect();
///     for name in names {
///         request.set(&name, "example");
///     }
///     request.accept()
/// });
/// ```
pub trait ElicitationHandler: Send + Sync + 'static {
    /// The answer to one request.
    fn elicit(&self, request: Elicitation) -> BoxFuture<'static, ElicitationAnswer>;
}

impl<F, Fut> ElicitationHandler for F
where
    F: Fn(Elicitation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ElicitationAnswer> + Send + 'static,
{
    fn elicit(&self, request: Elicitation) -> BoxFuture<'static, ElicitationAnswer> {
        Box::pin(self(request))
    }
}

/// The answer to an `elicitation/create` request: the handler's, or a decline for a URL-mode
/// request (it has no fields to fill in).
pub(crate) async fn answer(
    handler: &Arc<dyn ElicitationHandler>,
    params: &ElicitRequestParams,
) -> ElicitResult {
    match Elicitation::from_request(params) {
        Some(request) => handler.elicit(request).await.into_result(),
        None => ElicitResult::new(ElicitationAction::Decline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_without_properties_has_no_fields() {
        let request = Elicitation::from_schema("ok?", json!({"type": "object"}));
        assert!(request.fields.is_empty());
        assert_eq!(request.accept(), ElicitationAnswer::Accept(Map::new()));
    }

    #[test]
    fn answers_become_elicit_results() {
        let accept = ElicitationAnswer::Accept(Map::from_iter([("a".to_owned(), json!(1))]));
        let wire = serde_json::to_value(accept.into_result()).unwrap();
        assert_eq!(wire, json!({"action": "accept", "content": {"a": 1}}));
        let wire = serde_json::to_value(ElicitationAnswer::Cancel.into_result()).unwrap();
        assert_eq!(wire, json!({"action": "cancel"}));
    }

    #[test]
    fn set_refuses_an_unknown_field() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut request = Elicitation::from_schema("?", schema);
        assert!(!request.set("b", "x"));
        assert!(request.set("a", "x"));
        assert_eq!(request.fields[0].value, Some(json!("x")));
    }
}
