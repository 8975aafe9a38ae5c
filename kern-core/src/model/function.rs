//! [`FunctionModel`]: an offline model whose turns a closure decides.

use std::fmt;

use futures::future::{BoxFuture, FutureExt};

use super::{Model, ModelError, ModelRequest, ModelResponse};
use crate::message::{Message, ToolCall};

type TurnFn = dyn Fn(&ModelRequest<'_>) -> Result<ModelResponse, ModelError> + Send + Sync;

/// An offline model: a closure gets each turn's request and gives the answer. Deterministic as
/// long as the closure is.
///
/// ```
/// use kern_core::{FunctionModel, ModelResponse, ToolCall};
///
/// // Turn 1 of every run calls `add`; turn 2 answers.
/// let model = FunctionModel::script([
///     ModelResponse::calls([ToolCall::new("c1", "add", r#"{"a":1,"b":2}"#)]),
///     ModelResponse::text("1 + 2 = 3"),
/// ]);
/// # let _ = model;
/// ```
pub struct FunctionModel {
    turn: Box<TurnFn>,
}

impl fmt::Debug for FunctionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionModel").finish_non_exhaustive()
    }
}

impl FunctionModel {
    /// A model whose every turn is `turn(request)`.
    pub fn new<F>(turn: F) -> Self
    where
        F: Fn(&ModelRequest<'_>) -> Result<ModelResponse, ModelError> + Send + Sync + 'static,
    {
        FunctionModel {
            turn: Box::new(turn),
        }
    }

    /// A model that answers turn *k* of every run (see [`FunctionModel::turn_of_run`]) with the
    /// *k*-th response; a run that takes more turns than the script gets
    /// [`ModelError::Other`].
    pub fn script(turns: impl IntoIterator<Item = ModelResponse>) -> Self {
        let turns: Vec<ModelResponse> = turns.into_iter().collect();
        FunctionModel::new(move |request| {
            let turn = Self::turn_of_run(request);
            turns.get(turn).cloned().ok_or_else(|| {
                ModelError::Other(format!(
                    "the FunctionModel script has {} turns; turn {} was asked for",
                    turns.len(),
                    turn + 1
                ))
            })
        })
    }

    /// Which turn of its run a request is, from 0: the model turns since the last user message
    /// (the run's input; earlier runs of the session come before it).
    pub fn turn_of_run(request: &ModelRequest<'_>) -> usize {
        request
            .messages
            .iter()
            .rev()
            .take_while(|m| !matches!(m, Message::User { .. }))
            .filter(|m| matches!(m, Message::Assistant { .. }))
            .count()
    }
}

impl Model for FunctionModel {
    fn name(&self) -> &str {
        "function"
    }

    fn invoke<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        futures::future::ready((self.turn)(&request)).boxed()
    }
}

/// Constructors for scripted turns.
impl ModelResponse {
    /// A turn that answers with this text.
    pub fn text(text: impl Into<String>) -> Self {
        ModelResponse {
            content: Some(text.into()),
            ..ModelResponse::default()
        }
    }

    /// A turn that makes these tool calls.
    pub fn calls(calls: impl IntoIterator<Item = ToolCall>) -> Self {
        ModelResponse {
            tool_calls: calls.into_iter().collect(),
            ..ModelResponse::default()
        }
    }
}
