//! Support for the code `#[tool]` and `#[derive(Toolkit)]` generate: parsing the arguments, and
//! turning a function's return value into a [`ToolResult`]. Not public API: the macros reach it
//! through `__private::output`.
//!
//! Autoref specialization (the technique of `anyhow!`): generated code writes
//!
//! ```text
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

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};

use crate::tool::{ToolContext, ToolError, ToolResult};

/// How many fields are kept on the stack while deserializing; args structs with more use the
/// heap.
const INLINE_FIELDS: usize = 8;

/// The values of an args struct's fields, by field index, taken from a JSON object in one pass
/// over its entries (cheaper than one map lookup per field).
pub struct Slots<V> {
    inline: [Option<V>; INLINE_FIELDS],
    heap: Vec<Option<V>>,
}

impl<V> Slots<V> {
    fn new(fields: usize) -> Self {
        Slots {
            inline: [const { None }; INLINE_FIELDS],
            heap: if fields > INLINE_FIELDS {
                (0..fields).map(|_| None).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Fills the slots in place (they are large: no moves). `index_of` is the generated
    /// `match` of the field names (constant comparisons, no `memcmp` calls).
    fn fill<K: AsRef<str>>(
        &mut self,
        index_of: impl Fn(&str) -> Option<usize>,
        entries: impl IntoIterator<Item = (K, V)>,
    ) {
        for (key, value) in entries {
            if let Some(i) = index_of(key.as_ref())
                && let Some(slot) = self.slot(i)
            {
                *slot = Some(value);
            }
        }
    }

    #[inline]
    fn slot(&mut self, index: usize) -> Option<&mut Option<V>> {
        if self.heap.is_empty() {
            self.inline.get_mut(index)
        } else {
            self.heap.get_mut(index)
        }
    }

    #[inline]
    fn take(&mut self, index: usize) -> Option<V> {
        self.slot(index).and_then(Option::take)
    }
}

/// How the fields of a generated args struct are visited: to build its schema, or to
/// deserialize it from a JSON object.
///
/// The generated code names each field's type exactly once, in a call of [`ToolArg::field`]; so
/// a type that is not `Deserialize` + `JsonSchema` gives one error, on that type (a derive would
/// give one per use of the type in its expansion).
pub enum Fields<'a> {
    /// Building the schema.
    Schema {
        /// The generator.
        generator: &'a mut SchemaGenerator,
        /// The properties so far.
        properties: Map<String, Value>,
        /// The required properties so far.
        required: Vec<Value>,
    },
    /// Deserializing from a borrowed object.
    Borrowed {
        /// The object's values, by field.
        slots: &'a mut Slots<&'a Value>,
        /// The first error.
        error: Option<String>,
    },
    /// Deserializing from an owned object (values are moved out).
    Owned {
        /// The object's values, by field.
        slots: &'a mut Slots<Value>,
        /// The first error.
        error: Option<String>,
    },
}

fn field_value<T: DeserializeOwned>(
    name: &str,
    value: Option<Value>,
    error: &mut Option<String>,
) -> Option<T> {
    let missing = value.is_none();
    match T::deserialize(value.unwrap_or(Value::Null)) {
        Ok(v) => Some(v),
        Err(_) if missing => {
            *error = Some(format!("missing field `{name}`"));
            None
        }
        Err(e) => {
            *error = Some(format!("field `{name}`: {e}"));
            None
        }
    }
}

/// The schema side of [`Fields::visit`], out of line (it runs once per tool).
#[inline(never)]
fn visit_schema<T: DeserializeOwned + JsonSchema>(
    generator: &mut SchemaGenerator,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
    name: &'static str,
    description: Option<&'static str>,
) {
    let mut schema = generator.subschema_for::<T>();
    if let Some(d) = description {
        schema
            .ensure_object()
            .insert("description".into(), d.into());
    }
    properties.insert(name.into(), schema.to_value());
    if T::deserialize(Value::Null).is_err() {
        required.push(name.into());
    }
}

impl<'a> Fields<'a> {
    /// Visits field number `index`. In schema mode it records the field and gives `None`; in
    /// deserialize mode it gives the value, or `None` after recording the (first) error. A
    /// missing field is deserialized from `null` (so `Option` fields are optional), and is
    /// required in the schema exactly when its type does not accept `null`.
    #[inline]
    pub fn visit<T: DeserializeOwned + JsonSchema>(
        &mut self,
        index: usize,
        name: &'static str,
        description: Option<&'static str>,
    ) -> Option<T> {
        match self {
            Fields::Schema {
                generator,
                properties,
                required,
            } => {
                visit_schema::<T>(generator, properties, required, name, description);
                None
            }
            Fields::Borrowed { slots, error } => {
                if error.is_some() {
                    return None;
                }
                match slots.take(index) {
                    Some(v) => match T::deserialize(v) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            *error = Some(format!("field `{name}`: {e}"));
                            None
                        }
                    },
                    None => field_value(name, None, error),
                }
            }
            Fields::Owned { slots, error } => {
                if error.is_some() {
                    return None;
                }
                field_value(name, slots.take(index), error)
            }
        }
    }

    /// The object schema the visit built.
    pub fn into_schema(self) -> Schema {
        let mut object = Map::new();
        object.insert("type".into(), "object".into());
        if let Fields::Schema {
            properties,
            required,
            ..
        } = self
        {
            object.insert("properties".into(), Value::Object(properties));
            object.insert("required".into(), Value::Array(required));
        }
        Schema::from(object)
    }

    fn error(&self) -> String {
        match self {
            Fields::Borrowed { error, .. } | Fields::Owned { error, .. } => error.clone(),
            Fields::Schema { .. } => None,
        }
        .unwrap_or_else(|| "invalid arguments".to_owned())
    }
}

/// A generated args struct: visited field by field (see [`Fields`]).
pub trait ToolArgs: Sized {
    /// The fields' names in JSON, in order (the `index` of [`Fields::visit`]).
    const FIELDS: &'static [&'static str];

    /// The index of a field name in [`Self::FIELDS`].
    fn index_of(name: &str) -> Option<usize>;

    /// Visits the fields; `Some` when deserializing succeeded.
    fn visit(fields: &mut Fields<'_>) -> Option<Self>;
}

/// The bound every argument type of a generated tool must meet: `Deserialize` + `JsonSchema`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool argument: it must implement `serde::Deserialize` and `schemars::JsonSchema`",
    label = "not `Deserialize` + `JsonSchema`",
    note = "derive both for your own types: `#[derive(serde::Deserialize, schemars::JsonSchema)]`"
)]
pub trait ToolArg: Sized {
    /// Visits a field of this type.
    fn field(
        fields: &mut Fields<'_>,
        index: usize,
        name: &'static str,
        description: Option<&'static str>,
    ) -> Option<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema> ToolArg for T {
    #[inline]
    fn field(
        fields: &mut Fields<'_>,
        index: usize,
        name: &'static str,
        description: Option<&'static str>,
    ) -> Option<Self> {
        fields.visit(index, name, description)
    }
}

fn not_an_object(args: &Value) -> ToolError {
    let kind = match args {
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Null | Value::Object(_) => "null",
    };
    ToolError::invalid_arguments(format!("expected an object, got {kind}"))
}

/// The args of a call from a borrowed JSON value; `null` counts as `{}` (models send it for
/// tools without parameters).
pub fn args_from_ref<T: ToolArgs>(args: &Value) -> Result<T, ToolError> {
    let mut slots = Slots::new(T::FIELDS.len());
    match args {
        Value::Object(map) => slots.fill(T::index_of, map),
        Value::Null => {}
        other => return Err(not_an_object(other)),
    }
    let mut fields = Fields::Borrowed {
        slots: &mut slots,
        error: None,
    };
    T::visit(&mut fields).ok_or_else(|| ToolError::invalid_arguments(fields.error()))
}

/// The args of a call from an owned JSON value; `null` counts as `{}`.
pub fn args_from_value<T: ToolArgs>(args: Value) -> Result<T, ToolError> {
    let mut slots = Slots::new(T::FIELDS.len());
    match args {
        Value::Object(map) => slots.fill(T::index_of, map),
        Value::Null => {}
        other => return Err(not_an_object(&other)),
    }
    let mut fields = Fields::Owned {
        slots: &mut slots,
        error: None,
    };
    T::visit(&mut fields).ok_or_else(|| ToolError::invalid_arguments(fields.error()))
}

/// `Deserialize` of a generated args struct (for `args::<T>()` and friends).
pub fn deserialize_args<'de, T: ToolArgs, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let map = Map::<String, Value>::deserialize(deserializer)?;
    let mut slots = Slots::new(T::FIELDS.len());
    slots.fill(T::index_of, map);
    let mut fields = Fields::Owned {
        slots: &mut slots,
        error: None,
    };
    T::visit(&mut fields).ok_or_else(|| D::Error::custom(fields.error()))
}

/// `JsonSchema::json_schema` of a generated args struct.
pub fn args_schema<T: ToolArgs>(generator: &mut SchemaGenerator) -> Schema {
    let mut fields = Fields::Schema {
        generator,
        properties: Map::new(),
        required: Vec::new(),
    };
    let _ = T::visit(&mut fields);
    fields.into_schema()
}

/// The wrapper the return kinds are implemented on; a reference to the value, so that a return
/// value that is itself a reference (`&str`) does not make the two impls overlap.
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

/// The `ToolContext` parameter of a generated tool: a parameter whose type is named
/// `ToolContext` is the tool's context, and this checks that it is kern's.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not kern's `ToolContext`",
    label = "a parameter whose type is named `ToolContext` is the tool's context",
    note = "to take a type of your own named `ToolContext` as an argument, name it through an alias (`type MyContext = my::ToolContext;`)"
)]
pub trait ContextParam: Sized {
    /// The context the function takes.
    fn from_context(ctx: ToolContext) -> Self;
}

impl ContextParam for ToolContext {
    #[inline]
    fn from_context(ctx: ToolContext) -> Self {
        ctx
    }
}

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
        assert_eq!(convert!(Ok::<_, std::io::Error>(42u8)), Ok("42".to_owned()));
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
