//! Validation: every rule of the attributes and the signature, all errors collected (not just
//! the first), each spanned on the offending token. Produces the resolved [`Spec`] of a tool.

use proc_macro2::Span;

use crate::ast::ToolSig;
use crate::attr::{Flag, ToolArgs, is_set};

/// How a generated tool's execution mode is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Internal,
    External,
    RequiresConfirmation,
    RequiresUserInput(Vec<String>),
    /// Chosen by the toolkit struct's `#[toolkit(..)]` lists (through `ToolkitConfig`).
    Toolkit,
}

/// Everything about a tool besides its signature, resolved.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub description: String,
    /// Strict from the tool's own flag; a toolkit's `#[toolkit(strict)]` is added at run time.
    pub strict: bool,
    pub stop_after_tool_call: bool,
    pub show_result: bool,
    pub mode: Mode,
}

/// Whether the providers accept this tool name: `^[a-zA-Z0-9_-]{1,64}$`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The error for an invalid tool name.
pub fn tool_name_error(name: &str, span: Span) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "invalid tool name `{name}`: the providers accept 1 to 64 ASCII letters, digits, `_` and `-`"
        ),
    )
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if one is close enough to be a typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ", did you mean `x`?" or nothing.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// Checks the signature rules of a tool function. `method` is true for toolkit methods (which
/// take `&self`).
pub fn check_signature(sig: &ToolSig, method: bool, errors: &mut Vec<syn::Error>) {
    if let Some(span) = sig.unsafety {
        errors.push(syn::Error::new(
            span,
            "a tool cannot be `unsafe`: the agent calls it with the model's arguments, so nothing can uphold its safety contract; make the function safe (with an `unsafe` block inside)",
        ));
    }
    if let Some(span) = sig.abi {
        errors.push(syn::Error::new(
            span,
            "a tool cannot have an `extern` ABI: it is called from Rust; remove `extern \"..\"` (or wrap the extern function in a plain one)",
        ));
    }
    if let Some(span) = sig.variadic {
        errors.push(syn::Error::new(
            span,
            "a tool cannot be variadic: its arguments are the fields of one JSON object",
        ));
    }
    if let Some(span) = sig.generics {
        errors.push(syn::Error::new(
            span,
            "a tool cannot be generic: its arguments' schema is computed once, for concrete types",
        ));
    }
    match (sig.inputs.receiver, method) {
        (Some((span, _)), false) => errors.push(syn::Error::new(
            span,
            "`#[tool]` is for free functions and cannot take `self`; for methods use `#[derive(Toolkit)]` and `#[toolkit_methods]` on the impl block",
        )),
        (Some((span, false)), true) => errors.push(syn::Error::new(
            span,
            "a toolkit method takes `&self` (the toolkit is shared between its tools); mark the method `#[toolkit(skip)]` to keep it out of the toolkit",
        )),
        _ => {}
    }
}

/// Every documented parameter must be one: a name in the doc comment's arguments section that
/// no parameter has is an error on its doc line, with a "did you mean".
pub fn check_docs(sig: &ToolSig, errors: &mut Vec<syn::Error>) {
    let bound: Vec<String> = sig
        .inputs
        .bound
        .iter()
        .map(|i| i.to_string().trim_start_matches("r#").to_owned())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for p in &sig.docs.params {
        let span = sig
            .doc_spans
            .get(p.attr)
            .copied()
            .unwrap_or_else(|| sig.ident.span());
        if !bound.contains(&p.name) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "the doc comment documents `{}`, which is not a parameter of `{}`{}",
                    p.name,
                    sig.ident,
                    suggestion(&p.name, bound.iter().map(String::as_str))
                ),
            ));
        } else if seen.contains(&p.name.as_str()) {
            errors.push(syn::Error::new(
                span,
                format!("the doc comment documents `{}` twice", p.name),
            ));
        }
        seen.push(&p.name);
    }
}

/// What strict mode cannot express, seen in a parameter's type as written: a map, a tuple,
/// `serde_json::Value` (also inside `Option`/`Vec`/`Box`). Types that hide them (aliases, your
/// own structs) are caught when the agent is built.
fn strict_obstacle(ty: &syn::Type) -> Option<(Span, &'static str)> {
    let span = syn::spanned::Spanned::span(ty);
    match ty {
        syn::Type::Tuple(t) if !t.elems.is_empty() => Some((
            span,
            "a tuple, which strict mode cannot express (it has no `prefixItems`): use a struct",
        )),
        syn::Type::Paren(p) => strict_obstacle(&p.elem),
        syn::Type::Group(g) => strict_obstacle(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            let value_path = p.path.segments.len() >= 2
                && name == "Value"
                && p.path
                    .segments
                    .iter()
                    .rev()
                    .nth(1)
                    .is_some_and(|s| s.ident == "serde_json");
            if ["HashMap", "BTreeMap", "IndexMap"].contains(&name.as_str()) {
                return Some((
                    span,
                    "a map, which strict mode cannot express (a schema for `additionalProperties`): use a struct or a list of pairs",
                ));
            }
            if value_path {
                return Some((
                    span,
                    "any JSON value, which strict mode cannot express (it needs a type)",
                ));
            }
            if ["Option", "Vec", "Box"].contains(&name.as_str())
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return strict_obstacle(inner);
            }
            None
        }
        _ => None,
    }
}

/// A strict tool's parameters whose types strict mode cannot express: an error on each type.
pub fn check_strict_params(sig: &ToolSig, errors: &mut Vec<syn::Error>) {
    for p in sig.inputs.params() {
        if let Some((span, what)) = strict_obstacle(&p.ty) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "the tool is `strict`, and parameter `{}` is {what}; or remove `strict`",
                    p.name
                ),
            ));
        }
    }
}

/// The three exclusive flags: when more than one is set, one error (one mistake), on the
/// second, naming the others.
pub fn check_exclusive(flags: &[(&str, Option<Flag>)], errors: &mut Vec<syn::Error>) {
    let set: Vec<(&str, Flag)> = flags
        .iter()
        .filter_map(|(name, flag)| flag.filter(|f| f.value).map(|f| (*name, f)))
        .collect();
    if let [(first, _), (second, flag), rest @ ..] = set.as_slice() {
        let more: String = rest.iter().map(|(n, _)| format!(" and `{n}`")).collect();
        errors.push(syn::Error::new(
            flag.span,
            format!(
                "`{second}`{more} cannot be combined with `{first}`: a tool has one execution mode; keep one"
            ),
        ));
    }
}

/// Validates `#[tool(..)]` against the function, returning the resolved spec.
pub fn validate_tool(args: &ToolArgs, sig: &ToolSig, errors: &mut Vec<syn::Error>) -> Spec {
    check_exclusive(
        &[
            ("external_execution", args.external_execution),
            ("requires_confirmation", args.requires_confirmation),
            ("requires_user_input", args.requires_user_input),
        ],
        errors,
    );

    let params: Vec<&str> = sig.inputs.params().map(|p| p.name.as_str()).collect();
    let mode = if is_set(&args.external_execution) {
        Mode::External
    } else if is_set(&args.requires_confirmation) {
        Mode::RequiresConfirmation
    } else if is_set(&args.requires_user_input) {
        let fields = match &args.user_input_fields {
            None => params.iter().map(|p| (*p).to_owned()).collect(),
            Some(list) => {
                if list.names.is_empty() {
                    errors.push(syn::Error::new(
                        list.span,
                        "`user_input_fields` is empty: list the parameters the host supplies, or remove it and the host supplies them all",
                    ));
                }
                let mut seen: Vec<&str> = Vec::new();
                for field in &list.names {
                    if !params.contains(&field.value.as_str()) {
                        errors.push(syn::Error::new(
                            field.span,
                            format!(
                                "`{}` is not a parameter of this tool{}",
                                field.value,
                                suggestion(&field.value, params.iter().copied())
                            ),
                        ));
                    } else if seen.contains(&field.value.as_str()) {
                        errors.push(syn::Error::new(
                            field.span,
                            format!("`{}` is listed twice", field.value),
                        ));
                    }
                    seen.push(&field.value);
                }
                list.names.iter().map(|n| n.value.clone()).collect()
            }
        };
        Mode::RequiresUserInput(fields)
    } else {
        Mode::Internal
    };
    if let Some(list) = &args.user_input_fields
        && !is_set(&args.requires_user_input)
    {
        errors.push(syn::Error::new(
            list.span,
            "`user_input_fields` needs `requires_user_input`: the fields are what the host must supply",
        ));
    }

    let name = match &args.name {
        Some(n) => {
            if !valid_tool_name(&n.value) {
                errors.push(tool_name_error(&n.value, n.span));
            }
            n.value.clone()
        }
        None => {
            let name = sig.default_name();
            if !valid_tool_name(&name) {
                errors.push(tool_name_error(&name, sig.ident.span()));
            }
            name
        }
    };

    if is_set(&args.strict) {
        check_strict_params(sig, errors);
    }

    Spec {
        name,
        description: args
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_else(|| sig.docs.description.clone()),
        strict: is_set(&args.strict),
        stop_after_tool_call: is_set(&args.stop_after_tool_call),
        show_result: is_set(&args.show_result),
        mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_tool_name("get_weather-2"));
        assert!(valid_tool_name(&"a".repeat(64)));
        assert!(!valid_tool_name(&"a".repeat(65)));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("has space"));
        assert!(!valid_tool_name("ünïcode"));
        assert!(!valid_tool_name("dot.ted"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("comand", ["command", "timeout"]),
            Some("command")
        );
        assert_eq!(did_you_mean("xyz", ["command", "timeout"]), None);
        assert_eq!(
            suggestion("lst_dir", ["list_dir"]),
            "; did you mean `list_dir`?"
        );
    }
}
