//! Toolkits: a struct whose methods are tools (`#[derive(Toolkit)]` + `#[toolkit_methods]`), and
//! the runtime selection of its methods ([`Toolkit::include`], [`Toolkit::exclude`]).
//!
//! Each method becomes one [`Tool`]; the tools share one `Arc` of the struct.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tool::{ExecutionMode, IntoTools, Tool};

/// What `#[toolkit_methods]` implements for a toolkit struct: its tool methods.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no tool methods",
    label = "`{Self}` has no `#[toolkit_methods]` impl block",
    note = "put `#[toolkit_methods]` on the `impl` block that holds the toolkit's methods"
)]
pub trait ToolkitMethods: Send + Sync + Sized + 'static {
    /// The names of the tool methods, in declaration order.
    const METHODS: &'static [&'static str];

    /// One tool per method, paired with the method's name, in [`Self::METHODS`] order.
    fn tools(self: Arc<Self>) -> Vec<(&'static str, Arc<dyn Tool>)>;
}

/// What `#[derive(Toolkit)]` implements for a toolkit struct: the flags chosen on the struct.
/// Not public API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a toolkit",
    label = "`{Self}` does not derive `Toolkit`",
    note = "add `#[derive(Toolkit)]` to the struct (with its `#[toolkit(..)]` flags)"
)]
pub trait ToolkitConfig {
    /// `#[toolkit(strict)]`: every method's schema in strict form.
    const STRICT: bool;

    /// The execution mode of a method, given its parameters (the user input fields of a
    /// `requires_user_input` method).
    fn execution_mode(method: &str, params: &[&str]) -> ExecutionMode;
}

/// Whether `name` is in `list`, at compile time (for the derive's checks).
#[doc(hidden)]
pub const fn contains(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        let a = list[i].as_bytes();
        let b = name.as_bytes();
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// A toolkit with a selection of its methods. Made by [`IntoToolkit::into_toolkit`]; added to an
/// agent like a tool (it is [`IntoTools`]).
///
/// Names in [`include`](Self::include) and [`exclude`](Self::exclude) are method names; a name
/// the toolkit does not have makes [`IntoTools::into_tools`] (so building the agent) fail with
/// [`Error::Config`].
pub struct Toolkit<T> {
    inner: T,
    include: Option<Vec<String>>,
    exclude: Vec<String>,
}

impl<T: ToolkitMethods> Toolkit<T> {
    /// All the methods of `inner`.
    pub fn new(inner: T) -> Self {
        Toolkit {
            inner,
            include: None,
            exclude: Vec::new(),
        }
    }

    /// Only these methods (added to those of earlier calls).
    pub fn include<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include
            .get_or_insert_with(Vec::new)
            .extend(methods.into_iter().map(Into::into));
        self
    }

    /// Not these methods (added to those of earlier calls).
    pub fn exclude<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude.extend(methods.into_iter().map(Into::into));
        self
    }

    /// The toolkit struct.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The methods that will become tools, after the selection; fails on an unknown name.
    pub fn selected(&self) -> Result<Vec<&'static str>> {
        let unknown = self
            .include
            .iter()
            .flatten()
            .chain(&self.exclude)
            .find(|name| !T::METHODS.contains(&name.as_str()));
        if let Some(name) = unknown {
            return Err(Error::Config(format!(
                "toolkit `{}` has no tool method `{name}` (its methods: {})",
                short_type_name::<T>(),
                T::METHODS.join(", ")
            )));
        }
        Ok(T::METHODS
            .iter()
            .copied()
            .filter(|m| {
                self.include
                    .as_ref()
                    .is_none_or(|inc| inc.iter().any(|i| i == m))
                    && !self.exclude.iter().any(|e| e == m)
            })
            .collect())
    }
}

impl<T: ToolkitMethods + fmt::Debug> fmt::Debug for Toolkit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toolkit")
            .field("inner", &self.inner)
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .finish()
    }
}

impl<T: ToolkitMethods> IntoTools for Toolkit<T> {
    fn into_tools(self, out: &mut Vec<Arc<dyn Tool>>) -> Result<()> {
        let selected = self.selected()?;
        out.extend(
            Arc::new(self.inner)
                .tools()
                .into_iter()
                .filter(|(name, _)| selected.contains(name))
                .map(|(_, tool)| tool),
        );
        Ok(())
    }
}

/// `IntoTools` of a toolkit struct, all methods (what `#[derive(Toolkit)]` generates calls this:
/// one bound, so a struct without `#[toolkit_methods]` gives one error).
#[doc(hidden)]
pub fn toolkit_into_tools<T: ToolkitMethods>(
    toolkit: T,
    out: &mut Vec<Arc<dyn Tool>>,
) -> Result<()> {
    Toolkit::new(toolkit).into_tools(out)
}

/// `into_toolkit()` for every toolkit struct.
pub trait IntoToolkit: ToolkitMethods {
    /// The toolkit with all its methods, ready for [`Toolkit::include`] / [`Toolkit::exclude`].
    fn into_toolkit(self) -> Toolkit<Self> {
        Toolkit::new(self)
    }
}

impl<T: ToolkitMethods> IntoToolkit for T {}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_contains() {
        const LIST: &[&str] = &["list_dir", "get_env"];
        const _: () = assert!(contains(LIST, "get_env"));
        assert!(contains(LIST, "list_dir"));
        assert!(!contains(LIST, "list"));
        assert!(!contains(LIST, "list_dirs"));
        assert!(!contains(&[], "x"));
    }
}
