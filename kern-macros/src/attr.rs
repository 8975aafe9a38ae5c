//! The attributes' arguments, parsed with darling: `#[tool(..)]`, `#[arg(..)]`, `#[toolkit(..)]`.
//!
//! darling reports unknown keys (with a "did you mean"), duplicate keys and wrong value types,
//! each spanned on the key. Every flag keeps the span of its key, so a conflict points at the word.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, Lit, LitStr, Meta};

/// A boolean flag: `flag` (true), `flag = true` or `flag = false`, with the span of its key.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub value: bool,
    pub span: Span,
}

impl FromMeta for Flag {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let value = bool::from_meta(item)?;
        Ok(Flag {
            value,
            span: item.path().span(),
        })
    }
}

/// Whether an optional flag is set to true.
pub fn is_set(flag: &Option<Flag>) -> bool {
    flag.is_some_and(|f| f.value)
}

/// A string value with its span: `name = "..."`.
#[derive(Debug, Clone)]
pub struct SpannedStr {
    pub value: String,
    pub span: Span,
}

impl FromMeta for SpannedStr {
    fn from_value(value: &Lit) -> darling::Result<Self> {
        match value {
            Lit::Str(s) => Ok(SpannedStr {
                value: s.value(),
                span: s.span(),
            }),
            other => Err(darling::Error::unexpected_lit_type(other)),
        }
    }
}

/// One name in a list, with its span.
#[derive(Debug, Clone)]
pub struct Name {
    pub value: String,
    pub span: Span,
}

/// A list of names: `[a, b]` or `["a", "b"]`; the key's span is kept for errors about the list.
#[derive(Debug, Clone)]
pub struct NameList {
    pub names: Vec<Name>,
    pub span: Span,
}

impl FromMeta for NameList {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let Meta::NameValue(nv) = item else {
            return Err(
                darling::Error::custom("expected a list: `key = [name, ..]`").with_span(item),
            );
        };
        let Expr::Array(array) = &nv.value else {
            return Err(
                darling::Error::custom("expected a list: `[name, ..]`").with_span(&nv.value)
            );
        };
        let mut errors = darling::Error::accumulator();
        let mut names = Vec::new();
        for elem in &array.elems {
            let name = match elem {
                Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                    let ident = p.path.get_ident().expect("checked");
                    Some(Name {
                        value: ident.to_string().trim_start_matches("r#").to_owned(),
                        span: ident.span(),
                    })
                }
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(Name {
                    value: s.value(),
                    span: s.span(),
                }),
                other => {
                    errors.push(
                        darling::Error::custom("expected a name or a string literal")
                            .with_span(other),
                    );
                    None
                }
            };
            names.extend(name);
        }
        errors.finish()?;
        Ok(NameList {
            names,
            span: item.path().span(),
        })
    }
}

/// The arguments of `#[tool(..)]`.
#[derive(Debug, Default, FromMeta)]
pub struct ToolArgs {
    pub external_execution: Option<Flag>,
    pub requires_confirmation: Option<Flag>,
    pub requires_user_input: Option<Flag>,
    pub user_input_fields: Option<NameList>,
    pub name: Option<SpannedStr>,
    pub description: Option<SpannedStr>,
    pub stop_after_tool_call: Option<Flag>,
    pub show_result: Option<Flag>,
    pub strict: Option<Flag>,
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
}

impl ToolArgs {
    /// Parses the attribute's tokens.
    pub fn parse(tokens: TokenStream) -> darling::Result<Self> {
        let items = NestedMeta::parse_meta_list(tokens)?;
        ToolArgs::from_list(&items)
    }
}

/// The arguments of `#[arg(..)]` on a parameter.
#[derive(Debug, Default, FromMeta)]
pub struct ArgAttr {
    pub description: Option<LitStr>,
}

/// The arguments of `#[toolkit(..)]` on a toolkit struct.
#[derive(Debug, Default, FromMeta)]
pub struct ToolkitArgs {
    pub external: Option<NameList>,
    pub requires_confirmation: Option<NameList>,
    pub requires_user_input: Option<NameList>,
    pub strict: Option<Flag>,
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
}

/// The arguments of `#[toolkit(..)]` on a method of a toolkit's impl block.
#[derive(Debug, Default, FromMeta)]
pub struct MethodArgs {
    pub skip: Option<Flag>,
    pub name: Option<SpannedStr>,
    pub description: Option<SpannedStr>,
    pub stop_after_tool_call: Option<Flag>,
    pub show_result: Option<Flag>,
    pub strict: Option<Flag>,
}

/// The path generated code reaches kern through: `::kern` unless `crate = "..."` says otherwise.
pub fn krate(path: &Option<syn::Path>) -> TokenStream {
    match path {
        Some(p) => quote::quote!(#p),
        None => quote::quote!(::kern),
    }
}
