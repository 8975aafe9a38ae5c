//! A tool function's parameters: which become fields of the args type, which is the
//! [`ToolContext`](https://docs.rs/kern/latest/kern/struct.ToolContext.html), and how each is
//! passed.

use darling::FromMeta;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, Signature, Type};

use crate::attr::ArgAttr;
use crate::doc::Docs;

/// How the function takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `x: T`: the field itself.
    Owned,
    /// `x: &T`: a borrow of the field of type `<T as ToOwned>::Owned`.
    Ref,
    /// `x: &mut T`: a mutable borrow of the field.
    RefMut,
}

/// A parameter that is part of the tool's arguments.
#[derive(Debug, Clone)]
pub struct Param {
    /// The parameter's identifier, also the field's.
    pub ident: Ident,
    /// The name in JSON (the identifier without `r#`).
    pub name: String,
    /// The type the function takes (without the reference, for `&T`).
    pub ty: Type,
    pub pass: Pass,
    /// From `#[arg(description)]` or the doc comment.
    pub description: Option<String>,
}

impl Param {
    /// The field's type in the args struct.
    pub fn field_ty(&self, _krate: &TokenStream) -> TokenStream {
        let ty = &self.ty;
        match self.pass {
            Pass::Owned => quote!(#ty),
            Pass::Ref | Pass::RefMut => {
                quote_spanned!(ty.span()=> <#ty as ::std::borrow::ToOwned>::Owned)
            }
        }
    }

    /// The field's visit (schema or deserialization): the one place its type must be
    /// `Deserialize` + `JsonSchema`, so a type that is not gives one error, on the type.
    pub fn visit(&self, index: usize, krate: &TokenStream) -> TokenStream {
        let ident = &self.ident;
        let ty = self.field_ty(krate);
        let span = self.ty.span();
        let name = &self.name;
        let description = match &self.description {
            Some(d) => quote!(::std::option::Option::Some(#d)),
            None => quote!(::std::option::Option::None),
        };
        let field = quote_spanned!(span=> <#ty as #krate::__private::ToolArg>::field);
        quote! {
            let #ident = #field(__kern_fields, #index, #name, #description);
        }
    }

    /// The expression passing the (destructured) field to the function.
    pub fn pass_expr(&self) -> TokenStream {
        let ident = &self.ident;
        match self.pass {
            Pass::Owned => quote!(#ident),
            Pass::Ref => quote!(&#ident),
            Pass::RefMut => quote!(&mut #ident),
        }
    }
}

/// One input of the function.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    Arg(Param),
    /// A `ToolContext` parameter (by value or by reference).
    Context {
        by_ref: bool,
    },
}

/// The function's inputs, in order.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub inputs: Vec<Input>,
    /// The span of a `self` receiver, if there is one.
    pub receiver: Option<(Span, bool)>,
}

impl Inputs {
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.inputs.iter().filter_map(|i| match i {
            Input::Arg(p) => Some(p),
            Input::Context { .. } => None,
        })
    }

    /// The call's argument list, given the context expression.
    pub fn call_args(&self, ctx: &TokenStream) -> Vec<TokenStream> {
        self.inputs
            .iter()
            .map(|i| match i {
                Input::Arg(p) => p.pass_expr(),
                Input::Context { by_ref: false } => ctx.clone(),
                Input::Context { by_ref: true } => quote!(&#ctx),
            })
            .collect()
    }

    /// `Args { a, b, .. }` destructuring pattern.
    pub fn destructure(&self, args_ty: &Ident) -> TokenStream {
        let fields = self.params().map(|p| {
            let ident = &p.ident;
            if p.pass == Pass::RefMut {
                quote!(mut #ident)
            } else {
                quote!(#ident)
            }
        });
        quote!(#args_ty { #(#fields),* })
    }
}

/// Whether a type is `ToolContext` (by its last path segment).
fn is_context(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "ToolContext" && s.arguments.is_none()),
        Type::Group(g) => is_context(&g.elem),
        Type::Paren(p) => is_context(&p.elem),
        _ => false,
    }
}

/// Reads the inputs of a signature, removing the `#[arg(..)]` attributes from it.
pub fn parse_inputs(sig: &mut Signature, docs: &Docs, errors: &mut Vec<syn::Error>) -> Inputs {
    let mut out = Inputs::default();
    let mut context_seen = false;
    for input in sig.inputs.iter_mut() {
        let pat_ty = match input {
            FnArg::Receiver(r) => {
                let by_shared_ref = r.reference.is_some() && r.mutability.is_none();
                out.receiver = Some((r.self_token.span(), by_shared_ref));
                continue;
            }
            FnArg::Typed(t) => t,
        };

        let mut description = None;
        let mut kept = Vec::new();
        for attr in pat_ty.attrs.drain(..) {
            if attr.path().is_ident("arg") {
                match ArgAttr::from_meta(&attr.meta) {
                    Ok(a) => description = a.description.map(|d| d.value()),
                    Err(e) => errors.push(e.into()),
                }
            } else {
                kept.push(attr);
            }
        }
        pat_ty.attrs = kept;

        let (ty, pass) = match &*pat_ty.ty {
            Type::Reference(r) => (
                (*r.elem).clone(),
                if r.mutability.is_some() {
                    Pass::RefMut
                } else {
                    Pass::Ref
                },
            ),
            other => (other.clone(), Pass::Owned),
        };

        if let Type::ImplTrait(it) = &ty {
            errors.push(syn::Error::new(
                it.span(),
                "a tool parameter cannot be `impl Trait`: it is deserialized from JSON, so it needs a concrete type",
            ));
        }

        if is_context(&ty) {
            if context_seen {
                errors.push(syn::Error::new(
                    pat_ty.ty.span(),
                    "a tool takes at most one `ToolContext` parameter",
                ));
            }
            context_seen = true;
            out.inputs.push(Input::Context {
                by_ref: pass != Pass::Owned,
            });
            continue;
        }

        let ident = match &*pat_ty.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
            other => {
                errors.push(syn::Error::new(
                    other.span(),
                    "a tool parameter must be a plain name (`name: Type`): the name is the argument's name in the schema",
                ));
                format_ident!("__kern_invalid_{}", out.inputs.len())
            }
        };
        let name = ident.to_string().trim_start_matches("r#").to_owned();
        let description = description.or_else(|| docs.param(&name).map(str::to_owned));
        out.inputs.push(Input::Arg(Param {
            ident,
            name,
            ty,
            pass,
            description,
        }));
    }
    out
}
