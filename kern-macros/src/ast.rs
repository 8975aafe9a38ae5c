//! What the macros read: a tool function (free or a toolkit method), parsed into a [`ToolSig`].

use proc_macro2::Span;
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
}

impl ToolSig {
    /// Reads a signature and its doc attributes; removes the `#[arg]` attributes from it.
    pub fn parse(sig: &mut Signature, attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> Self {
        let docs = doc::parse_attrs(attrs);
        let inputs = params::parse_inputs(sig, &docs, errors);
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
}

impl ToolFn {
    pub fn parse(mut item: ItemFn, errors: &mut Vec<syn::Error>) -> Self {
        let sig = ToolSig::parse(&mut item.sig, &item.attrs, errors);
        ToolFn { item, sig }
    }
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
