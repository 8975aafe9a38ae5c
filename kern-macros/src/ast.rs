//! What the macros read: a tool function (free or a toolkit method), parsed into a [`ToolSig`].

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, ReturnType, Signature};

use crate::doc::{self, Docs};
use crate::params::{self, Inputs};

/// The parts of a function signature and doc comment a tool is made of. Shared by `#[tool]` and
/// the toolkit methods.
#[derive(Debug, Clone)]
pub struct ToolSig {
    pub ident: syn::Ident,
    pub is_async: bool,
    pub inputs: Inputs,
    pub output: ReturnType,
    pub docs: Docs,
    /// The span of the generics, if the function has any (lifetimes, types, consts or a
    /// `where` clause).
    pub generics: Option<Span>,
    /// The spans of `unsafe`, of `extern "abi"` and of a variadic `...`, if present.
    pub unsafety: Option<Span>,
    pub abi: Option<Span>,
    pub variadic: Option<Span>,
    /// The span of each doc attribute (indexed like [`crate::doc::DocParam::attr`]).
    pub doc_spans: Vec<Span>,
}

impl ToolSig {
    /// Reads a signature and its doc attributes; removes the `#[arg]` attributes from it.
    /// Errors that keep the tool from being generated go to `errors`; those of the `#[arg]`
    /// attributes (the tool can still be generated) to `attr_errors`.
    pub fn parse(
        sig: &mut Signature,
        attrs: &[Attribute],
        errors: &mut Vec<syn::Error>,
        attr_errors: &mut Vec<syn::Error>,
    ) -> Self {
        let doc_attrs = doc::doc_attrs(attrs);
        let doc_spans = doc_attrs.iter().map(|(_, span)| *span).collect();
        let docs = doc::parse(
            &doc_attrs
                .into_iter()
                .map(|(text, _)| text)
                .collect::<Vec<_>>(),
        );
        let inputs = params::parse_inputs(sig, &docs, errors, attr_errors);
        let generics = if sig.generics.params.is_empty() && sig.generics.where_clause.is_none() {
            None
        } else {
            Some(sig.generics.span())
        };
        ToolSig {
            ident: sig.ident.clone(),
            is_async: sig.asyncness.is_some(),
            inputs,
            output: sig.output.clone(),
            docs,
            generics,
            unsafety: sig.unsafety.map(|u| u.span()),
            abi: sig.abi.as_ref().map(Spanned::span),
            variadic: sig.variadic.as_ref().map(|v| v.dots.span()),
            doc_spans,
        }
    }

    /// The tool's name when the attribute names none.
    pub fn default_name(&self) -> String {
        self.ident.to_string().trim_start_matches("r#").to_owned()
    }

    /// The span the return conversion's errors point at.
    pub fn output_span(&self) -> Span {
        match &self.output {
            ReturnType::Default => self.ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        }
    }
}

/// A free function under `#[tool]`.
pub struct ToolFn {
    pub item: ItemFn,
    pub sig: ToolSig,
    /// Where the function names `Self`: then it is an associated function of an impl block.
    pub uses_self: Option<Span>,
}

impl ToolFn {
    pub fn parse(
        mut item: ItemFn,
        errors: &mut Vec<syn::Error>,
        attr_errors: &mut Vec<syn::Error>,
    ) -> Self {
        let sig = ToolSig::parse(&mut item.sig, &item.attrs, errors, attr_errors);
        let uses_self = find_self(item.sig.to_token_stream(), false)
            .or_else(|| find_self(item.block.to_token_stream(), true));
        ToolFn {
            item,
            sig,
            uses_self,
        }
    }
}

/// The first `Self` in `tokens` outside nested items (`impl`, `trait`, `fn`, `struct`, `enum`,
/// `union` blocks, where `Self` is their own), when `skip_items`. A free function cannot name
/// `Self` elsewhere, so one that does is an associated function.
fn find_self(tokens: TokenStream, skip_items: bool) -> Option<Span> {
    let mut in_item = false;
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) if i == "Self" && !in_item => return Some(i.span()),
            TokenTree::Ident(i)
                if skip_items
                    && ["impl", "trait", "fn", "struct", "enum", "union"]
                        .iter()
                        .any(|k| i == k) =>
            {
                in_item = true;
            }
            TokenTree::Punct(p) if p.as_char() == ';' => in_item = false,
            TokenTree::Group(g) => {
                if in_item && g.delimiter() == Delimiter::Brace {
                    in_item = false;
                    continue;
                }
                if in_item {
                    continue;
                }
                if let Some(span) = find_self(g.stream(), skip_items) {
                    return Some(span);
                }
            }
            _ => {}
        }
    }
    None
}

/// `ExecuteShellCommand` from `execute_shell_command`.
pub fn pascal_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = true;
    for c in snake.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the function named `ident` is an associated function of an `impl` (or `trait`)
/// block. A free function's expansion is a unit struct and impl blocks, which an impl block
/// cannot hold; this turns rustc's errors about them into one error of ours. Only for an
/// indented function (a free one is usually not): the source file is read and parsed, and
/// looked through for functions of this name carrying `#[tool]`; true when those are all in
/// impl or trait blocks. False whenever the source cannot be read, as for generated code.
pub fn in_impl_block(ident: &syn::Ident) -> bool {
    if !proc_macro::is_available() {
        return false;
    }
    let span = ident.span().unwrap();
    if span.column() <= 1 {
        return false;
    }
    let Some(path) = span.local_file() else {
        return false;
    };
    let Ok(source) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(mut file) = syn::parse_file(&source) else {
        return false;
    };
    let mut finder = ToolFnFinder {
        name: ident.to_string(),
        in_impl: 0,
        free: 0,
    };
    syn::visit_mut::VisitMut::visit_file_mut(&mut finder, &mut file);
    finder.in_impl > 0 && finder.free == 0
}

/// Counts the functions of a name carrying `#[tool]`, in impl/trait blocks and free.
struct ToolFnFinder {
    name: String,
    in_impl: usize,
    free: usize,
}

fn has_tool_attr(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "tool"))
}

impl syn::visit_mut::VisitMut for ToolFnFinder {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        if f.sig.ident == self.name && has_tool_attr(&f.attrs) {
            self.in_impl += 1;
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }

    fn visit_trait_item_fn_mut(&mut self, f: &mut syn::TraitItemFn) {
        if f.sig.ident == self.name && has_tool_attr(&f.attrs) {
            self.in_impl += 1;
        }
        syn::visit_mut::visit_trait_item_fn_mut(self, f);
    }

    fn visit_item_fn_mut(&mut self, f: &mut syn::ItemFn) {
        if f.sig.ident == self.name && has_tool_attr(&f.attrs) {
            self.free += 1;
        }
        syn::visit_mut::visit_item_fn_mut(self, f);
    }
}
