//! Procedural macros of kern. Use them through the `kern` facade (`use kern::prelude::*;`): the
//! generated code names `::kern::…` paths. (The examples here are not doctests: a proc-macro
//! crate cannot run its own macros in doctests; the facade's docs have runnable ones.)
//!
//! # `#[tool]`
//!
//! Turns a free function, sync or async, into a tool:
//!
//! ```text
//! /// Execute a shell command.
//! ///
//! /// # Arguments
//! /// * `command` - The shell command to execute
//! #[tool(external_execution)]
//! pub fn execute_shell_command(command: String, ctx: ToolContext) -> Result<String, ToolError> {
//!     ..
//! }
//! ```
//!
//! expands to
//!
//! - `pub struct execute_shell_command;` — a unit struct carrying the function's visibility and
//!   docs: the name *is* the tool (`agent.tool(execute_shell_command)`). It implements
//!   `kern::Tool`, and has `NAME`, `name()`, `definition()` (a `&'static ToolDefinition` built
//!   once), `async entrypoint(&Value) -> ToolResult`, and `call(..)`: the function itself, with
//!   its original signature and body.
//! - `pub struct ExecuteShellCommandArgs { pub command: String }`: the arguments, deriving
//!   `Deserialize` + `JsonSchema` (through `kern::__private`, so users need neither crate). Its
//!   schema is the tool's `parameters`. A `ToolContext` parameter (matched by the last path
//!   segment; by value, `&` or `&mut`) is filled in by the agent and is not an argument;
//!   `Option<T>` arguments are optional; a `&T` parameter is a `<T as ToOwned>::Owned` field
//!   passed borrowed (`&str` works); a `Cow<str>` is deserialized owned.
//!
//! ## The tool is a value; the function is `name::call`
//!
//! Keeping the function's name for the tool is what makes `agent.tool(add)` and
//! `add.entrypoint(&args)` read as they do. The price: `add(1, 2)` is rustc's E0618 ("expected
//! function, found `add`", pointing at the function's name); the typed function is
//! `add::call(1, 2)`. (rig makes the other choice, keeping the function and naming the tool
//! `Add`; kern keeps one name for the one thing the model calls.)
//!
//! Since the tool is a unit struct, its name is a pattern where it is in scope. Generated code
//! never binds a parameter under its own name, and `call`'s body binds its parameters after
//! shadowing the tool's name and theirs, so a parameter or a local named like the tool, in this
//! tool or in another, compiles (`fn date(date: String)`). A `let date = ..` in an unrelated
//! function of the same module is still a pattern matching the unit struct (rustc: "`date` is
//! interpreted as a unit struct, not a new binding"): rename the local, or the function
//! (`#[tool(name = "date")]` keeps the name the model sees).
//!
//! ## Argument types of your own
//!
//! They derive `Deserialize` + `JsonSchema`. A crate that depends only on kern reaches both
//! through kern's re-exports:
//!
//! ```text
//! #[derive(kern::serde::Deserialize, kern::schemars::JsonSchema)]
//! #[serde(crate = "kern::serde")]
//! #[schemars(crate = "kern::schemars")]
//! struct Point { x: f64, y: f64 }
//! ```
//!
//! Generated code names everything by absolute path (`::core`, `::std`, `::kern`), so it
//! compiles under `#![no_implicit_prelude]`. When `Cargo.toml` renames kern
//! (`agents = { package = "kern", .. }`), the macros find the new name there; `crate = "path"`
//! names it explicitly.
//!
//! The description is the doc comment's text before its first section; parameter descriptions
//! come from a rustdoc `# Arguments` list (`` * `name` - text ``) or a Google-style `Args:` block
//! (`name (type): text`); `# Returns`, `# Errors`, `# Examples` and other sections are not sent.
//!
//! The return value becomes the tool's result: `String`/`&str` as is, any other `Serialize`
//! value as JSON text (`()` is `null`), and for `Result<T, E>` with `E: Into<ToolError>` an `Err`
//! is a tool error (the model sees its message).
//!
//! ## Flags
//!
//! A bare flag means `= true`.
//!
//! | flag | meaning |
//! |---|---|
//! | `external_execution` | the agent never runs the tool: the run pauses and the host runs it |
//! | `requires_confirmation` | the run pauses until the host confirms or rejects the call |
//! | `requires_user_input` | the run pauses until the host supplies arguments (all parameters, or those of `user_input_fields`) |
//! | `user_input_fields = [a, b]` | the arguments the host supplies; needs `requires_user_input` |
//! | `name = "…"` | the tool's name (default: the function's), `^[a-zA-Z0-9_-]{1,64}$` |
//! | `description = "…"` | the description (default: from the doc comment) |
//! | `stop_after_tool_call` | stop the run after this tool ran |
//! | `show_result` | show the tool's result as the run's content |
//! | `strict` | a schema in the form OpenAI's strict function calling accepts (see below) |
//! | `crate = "path"` | where kern is (default `::kern`; e.g. `kern_core` from a crate without the facade) |
//!
//! A parameter may carry `#[arg(description = "…")]`, which wins over the doc comment.
//!
//! The three execution flags are exclusive.
//!
//! With `strict`, the schema is rewritten only in ways that keep every value it allows
//! decodable (every property required; an optional property keeps its schema, so an `Option`
//! takes `null` and a `#[serde(default)]` field must be sent; sets lose `uniqueItems`; a `char`
//! is a one-character `pattern`; integer bounds stay). What strict mode cannot express (maps,
//! `serde_json::Value`, tuples) is a compile error on the parameter's type when the signature
//! shows it, and otherwise (an alias, a field of your own struct) makes `Agent::build` fail
//! with `kern::Error::Config`, naming the parameter.
//!
//! ## Compile errors
//!
//! Each mistake is one error, spanned on the offending token, and on every error the macro
//! still emits the tool (a stand-in with the same items when the signature cannot be
//! expanded), so code using it adds no error. The errors: two or three exclusive flags;
//! `user_input_fields` without `requires_user_input`, empty, naming no parameter (with "did
//! you mean"), or a name twice; an unknown key (with "did you mean"); a duplicate key; a value
//! of the wrong form (`name = ident`, a bare `description`, `strict = "yes"`, a bare `#[arg]`,
//! `#[arg(description)]` twice); `#[tool]` twice (or flags split over two attributes); a
//! generic, `unsafe`, `extern "C"` or variadic function; a `self` parameter or a function
//! naming `Self`, or one in an impl block (use `#[toolkit_methods]`); a pattern parameter; a parameter of type
//! `impl Trait`, `dyn Trait`, `fn(..)` or `&'static T`; two `ToolContext`s, or a type named
//! `ToolContext` that is not kern's; a parameter type that is not `Deserialize` +
//! `JsonSchema`, a return type that is not `Serialize`, an error type that is not
//! `Into<ToolError>` (each on the type); a documented parameter that is not one (on its doc
//! line, with "did you mean"); an invalid tool name.
//!
//! # Toolkits
//!
//! A struct whose methods are tools, with the execution mode of each method chosen on the
//! struct:
//!
//! ```text
//! #[derive(Toolkit)]
//! #[toolkit(external = [list_dir], requires_confirmation = [delete_file])]
//! struct ShellTools { root: PathBuf }
//!
//! #[toolkit_methods]
//! impl ShellTools {
//!     /// Lists the contents of a directory.
//!     async fn list_dir(&self, directory: String) -> Result<String, ToolError> { .. }
//!     /// Gets an environment variable.
//!     fn get_env(&self, var_name: String) -> String { .. }
//!     /// Deletes a file under the root.
//!     fn delete_file(&self, path: String) -> Result<(), ToolError> { .. }
//! }
//!
//! agent.tool(ShellTools { root })                                   // every method
//! agent.tool(ShellTools { root }.into_toolkit().include(["list_dir"]))  // a selection
//! ```
//!
//! Every `&self` method of the `#[toolkit_methods]` block, sync or async, is a tool, with its
//! description, parameter descriptions, args struct (`ShellToolsListDirArgs`), schema and return
//! conversion made by the same code as `#[tool]`'s. Methods without a receiver (constructors)
//! are not tools; `#[toolkit(skip)]` keeps any other method out; a method taking `&mut self` or
//! `self` is an error (the tools share the struct behind one `Arc`). A method may carry
//! `#[toolkit(name = "…", description = "…", strict, stop_after_tool_call, show_result)]`.
//!
//! On the struct, `#[toolkit(..)]` takes `external = [..]`, `requires_confirmation = [..]`,
//! `requires_user_input = [..]` (the host supplies all of the method's parameters), `strict`
//! (every method) and `crate = "path"`; methods in no list are internal. Names are method
//! names, as identifiers or strings.
//!
//! Why `#[toolkit_methods]`: a derive only sees the struct, so the methods need an attribute of
//! their own; it names what it marks (the methods of a toolkit) and pairs with the derive the
//! way pyo3's `#[pyclass]` + `#[pymethods]` do, which users coming from Python tooling know.
//!
//! Compile errors: two methods whose tools have one name; `#[toolkit(..)]` on a field; a
//! listed name that is no method (rustc's own error, on the name, with its
//! "a method with a similar name exists" suggestion); a listed method that is not a tool; a
//! method in two lists; a name listed twice; an unknown key (with "did you mean"); the derive
//! on an enum or a union; a generic toolkit struct or impl block (refused: each definition is
//! a `static`, built once for concrete types); a method parameter type that is not
//! `Deserialize` + `JsonSchema`; a struct without `#[toolkit_methods]` when it is used as tools.
//!
//! At run time, an unknown name in `include`/`exclude` is a `kern::Error::Config` from
//! `IntoTools::into_tools`, so from building the agent.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod doc;
mod expand;
mod params;
mod toolkit;
mod valid;

/// Turns a free function into a tool. The function's name becomes the tool (a value:
/// `agent.tool(add)`, `add.entrypoint(&args)`), and the function itself is `add::call(..)`;
/// calling `add(..)` is rustc's E0618. See the [crate docs](crate) for the flags, what is
/// generated and the compile errors.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tool_impl(args.into(), item.into()).into()
}

fn tool_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                format!("`#[tool]` goes on a function ({e}); for a struct whose methods are tools use `#[derive(Toolkit)]`"),
            )
            .into_compile_error();
            return quote::quote!(#item #e);
        }
    };
    let mut errors = Vec::new();
    // A second `#[tool]` (flags split over two attributes, or the attribute applied twice).
    item.attrs.retain(|a| {
        let again = a.path().segments.last().is_some_and(|s| s.ident == "tool");
        if again {
            errors.push(syn::Error::new_spanned(
                a,
                "`#[tool]` is applied twice: put every flag in one `#[tool(..)]`",
            ));
        }
        !again
    });
    let mut sig_errors = Vec::new();
    let tool = ast::ToolFn::parse(item, &mut sig_errors, &mut errors);
    let args = match attr::ToolArgs::parse(args) {
        Ok(args) => args,
        Err(e) => {
            errors.push(attr::darling_error(e));
            attr::ToolArgs::default()
        }
    };
    // A method or an associated function: no tool value can be emitted inside an impl block.
    let associated = tool.sig.inputs.receiver.is_none()
        && tool.uses_self.is_none()
        && ast::in_impl_block(&tool.sig.ident);
    let in_impl = tool.sig.inputs.receiver.is_some() || tool.uses_self.is_some() || associated;
    if let (None, Some(span)) = (tool.sig.inputs.receiver, tool.uses_self) {
        sig_errors.push(syn::Error::new(
            span,
            "`#[tool]` is for free functions, and this one names `Self`: for associated functions and methods, use `#[derive(Toolkit)]` on the type and `#[toolkit_methods]` on the impl block",
        ));
    } else if associated {
        sig_errors.push(syn::Error::new(
            tool.sig.ident.span(),
            "`#[tool]` is for free functions, and this one is in an impl block: for associated functions and methods, use `#[derive(Toolkit)]` on the type and `#[toolkit_methods]` on the impl block",
        ));
    }
    valid::check_signature(&tool.sig, false, &mut sig_errors);
    valid::check_docs(&tool.sig, &mut errors);
    let spec = valid::validate_tool(&args, &tool.sig, &mut errors);
    let krate = attr::krate(&args.krate);
    let structural = !sig_errors.is_empty();
    errors.extend(sig_errors);
    let errors = errors.into_iter().map(|e| e.into_compile_error());
    // A signature that cannot be expanded: a stand-in tool with the same items, so that code
    // using the tool gives no further errors. Otherwise (flag errors only) expand as well as we
    // can, for the same reason.
    let body = if in_impl {
        expand::plain(&tool)
    } else if structural {
        expand::fallback(&tool, &spec, &krate)
    } else {
        expand::tool(tool, &spec, &krate)
    };
    quote::quote!(#body #(#errors)*)
}

/// Makes a struct a toolkit: its methods (in a `#[toolkit_methods]` impl block) are tools, with
/// the execution mode of each chosen here:
/// `#[toolkit(external = [..], requires_confirmation = [..], requires_user_input = [..])]`
/// (and `strict`, `crate = "path"`). See the [crate docs](crate#toolkits).
#[proc_macro_derive(Toolkit, attributes(toolkit))]
pub fn derive_toolkit(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => toolkit::derive(input).into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// Marks the impl block whose `&self` methods are the tools of a `#[derive(Toolkit)]` struct.
/// See the [crate docs](crate#toolkits).
#[proc_macro_attribute]
pub fn toolkit_methods(args: TokenStream, item: TokenStream) -> TokenStream {
    match syn::parse::<syn::ItemImpl>(item.clone()) {
        Ok(item) => toolkit::methods(args.into(), item).into(),
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                format!("`#[toolkit_methods]` goes on the impl block of a toolkit struct ({e})"),
            )
            .into_compile_error();
            let item = proc_macro2::TokenStream::from(item);
            quote::quote!(#item #e).into()
        }
    }
}
