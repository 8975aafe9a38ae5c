//! Support for the code `#[tool]` and `#[derive(Toolkit)]` generate: parsing the arguments, and
//! turning a function's return value into a [`ToolResult`]. Not public API: the macros reach it
//! through `__private::output`.
//!
//! Autoref specialization (the technique of `anyhow!`): generated code writes
//!
//! ```ignore
//! let out = (&Wrap(&out)).__kern_result_kind().split(out);        // Result<T, E> or plain T
//! match out {
//!     Ok(v) => (&Wrap(&v)).__kern_output_kind().into_result(v),   // text or JSON
//!     Err(e) => Err(e),
//! }
//! ```
//!
//! Method resolution picks the impl on `Wrap<&Result<..>>`, `Wrap<&String>`, … (receiver
//! `&Wrap<_>`) before the blanket impl on `&Wrap<T>` (receiver `&&Wrap<_>`); this needs no `'static` bound and costs nothing at run time.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned};
use serde_json::Value;

use crate::tool::{ToolError, ToolResult};

/// The bound every argument type of a generated tool must meet. The args struct's fields are
/// written `<T as ToolArg>::Type`, so a type that does not meet it gives one error, on the type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool argument: it must implement `serde::Deserialize` and `schemars::JsonSchema`",
    label = "not `Deserialize` + `JsonSchema`",
    note = "derive both for your own types: `#[derive(serde::Deserialize, schemars::JsonSchema)]`"
)]
pub trait ToolArg {
    /// `Self`.
    type Type;
}

impl<T: DeserializeOwned + JsonSchema> ToolArg for T {
    type Type = T;
}

/// The args of a call from a borrowed JSON value; `null` counts as `{}` (models send it for
/// tools without parameters).
#[inline]
pub fn args_from_ref<'a, T: Deserialize<'a>>(args: &'a Value) -> Result<T, ToolError> {
    match args {
        Value::Null => T::deserialize(Value::Object(Default::default())),
        other => T::deserialize(other),
    }
    .map_err(ToolError::invalid_arguments)
}

/// The args of a call from an owned JSON value; `null` counts as `{}`.
#[inline]
pub fn args_from_value<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    match args {
        Value::Null => T::deserialize(Value::Object(Default::default())),
        other => T::deserialize(other),
    }
    .map_err(ToolError::invalid_arguments)
}

/// The wrapper the kinds are implemented on; a reference to the value, so that a return value
/// that is itself a reference (`&str`) does not make the two impls overlap.
pub struct Wrap<T>(pub T);

/// Tag for `Result<T, E>` returns: `Err` becomes the tool's error.
pub struct ResultTag;
/// Tag for every other return: always `Ok`.
pub struct PlainTag;

impl ResultTag {
    /// Splits the result.
    #[inline]
    pub fn split<T, E: Into<ToolError>>(self, result: Result<T, E>) -> Result<T, ToolError> {
        result.map_err(Into::into)
    }
}

impl PlainTag {
    /// Wraps a plain value.
    #[inline]
    pub fn split<T>(self, value: T) -> Result<T, ToolError> {
        Ok(value)
    }
}

/// Picks [`ResultTag`] for `Result`s.
pub trait ResultKind {
    /// The tag.
    #[inline]
    fn __kern_result_kind(&self) -> ResultTag {
        ResultTag
    }
}
impl<T, E> ResultKind for Wrap<&Result<T, E>> {}

/// Picks [`PlainTag`] for everything else.
pub trait PlainKind {
    /// The tag.
    #[inline]
    fn __kern_result_kind(&self) -> PlainTag {
        PlainTag
    }
}
impl<T> PlainKind for &Wrap<T> {}

/// Tag for text returns, sent as they are.
pub struct TextTag;
/// Tag for other `Serialize` returns, sent as JSON text.
pub struct JsonTag;

impl TextTag {
    /// The text itself.
    #[inline]
    pub fn into_result<T: Into<String>>(self, value: T) -> ToolResult {
        Ok(value.into())
    }
}

impl JsonTag {
    /// The value as JSON text.
    #[inline]
    pub fn into_result<T: Serialize>(self, value: T) -> ToolResult {
        serde_json::to_string(&value)
            .map_err(|e| ToolError::new(format!("the tool's result could not be serialized: {e}")))
    }
}

/// Picks [`TextTag`] for `String`, `&str`, `Cow<str>` and `Box<str>`.
pub trait TextKind {
    /// The tag.
    #[inline]
    fn __kern_output_kind(&self) -> TextTag {
        TextTag
    }
}
impl TextKind for Wrap<&String> {}
impl TextKind for Wrap<&&str> {}
impl TextKind for Wrap<&Cow<'_, str>> {}
impl TextKind for Wrap<&Box<str>> {}

/// Picks [`JsonTag`] for everything else.
pub trait JsonKind {
    /// The tag.
    #[inline]
    fn __kern_output_kind(&self) -> JsonTag {
        JsonTag
    }
}
impl<T> JsonKind for &Wrap<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolErrorKind;

    macro_rules! convert {
        ($e:expr) => {{
            let out = $e;
            let out = (&Wrap(&out)).__kern_result_kind().split(out);
            match out {
                Ok(v) => (&Wrap(&v)).__kern_output_kind().into_result(v),
                Err(e) => Err(e),
            }
        }};
    }

    #[test]
    fn text_is_sent_as_is() {
        assert_eq!(convert!(String::from("hi")), Ok("hi".to_owned()));
        assert_eq!(convert!("hi"), Ok("hi".to_owned()));
        assert_eq!(convert!(Cow::Borrowed("hi")), Ok("hi".to_owned()));
        assert_eq!(
            convert!(Ok::<_, ToolError>(String::from("ok"))),
            Ok("ok".to_owned())
        );
    }

    #[test]
    fn other_values_are_json() {
        assert_eq!(convert!(vec![1, 2]), Ok("[1,2]".to_owned()));
        assert_eq!(convert!(()), Ok("null".to_owned()));
        assert_eq!(convert!(Some("x")), Ok("\"x\"".to_owned()));
        assert_eq!(
            convert!(Ok::<_, std::io::Error>(42u8)),
            Ok("42".to_owned())
        );
    }

    #[test]
    fn errors_become_tool_errors() {
        let err = convert!(Err::<String, _>(std::io::Error::other("disk full"))).unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::Failed);
        assert_eq!(err.message(), "disk full");
        let err = convert!(Err::<(), _>(ToolError::invalid_arguments("x"))).unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
    }

    #[test]
    fn unserializable_values_are_errors_not_panics() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1u8); // JSON object keys must be strings
        let err = convert!(map).unwrap_err();
        assert!(err.message().contains("could not be serialized"), "{err}");
    }
}
