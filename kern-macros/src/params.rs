//! A tool function's parameters: which become fields of the args type, which is the
//! [`ToolContext`](https://docs.rs/kern/latest/kern/struct.ToolContext.html), and how each is
//! passed.
//!
//! Generated code never binds a parameter under its own name (`__kern_a0`, `__kern_f0`, …): a
//! parameter named like a tool (a unit struct, which a pattern would match) still compiles.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, Pat, Signature, Token, Type};

use crate::attr::{self, ArgAttr};
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
    /// The type the function takes (without the reference, for `&T`), elided lifetimes made
    /// `'static` (`Cow<str>` is stored as `Cow<'static, str>`).
    pub ty: Type,
    pub pass: Pass,
    /// From `#[arg(description)]` or the doc comment.
    pub description: Option<String>,
    /// The position among the function's inputs.
    pub position: usize,
}

impl Param {
    /// The field's type in the args struct.
    pub fn field_ty(&self) -> TokenStream {
        let ty = &self.ty;
        match self.pass {
            Pass::Owned => quote!(#ty),
            Pass::Ref | Pass::RefMut => {
                quote_spanned!(ty.span()=> <#ty as ::std::borrow::ToOwned>::Owned)
            }
        }
    }

    /// The local the field's value is bound to in generated code.
    pub fn local(&self) -> Ident {
        format_ident!("__kern_a{}", self.position)
    }

    /// The field's visit (schema or deserialization): the one place its type must be
    /// `Deserialize` + `JsonSchema`, so a type that is not gives one error, on the type. Binds
    /// [`Param::local`].
    pub fn visit(&self, index: usize, krate: &TokenStream) -> TokenStream {
        let local = self.local();
        let ty = self.field_ty();
        let span = self.ty.span();
        let name = &self.name;
        let description = match &self.description {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        let field = quote_spanned!(span=> <#ty as #krate::__private::ToolArg>::field);
        quote! {
            let #local = #field(__kern_fields, #index, #name, #description);
        }
    }

    /// The expression passing the (destructured) field to the function.
    pub fn pass_expr(&self) -> TokenStream {
        let local = self.local();
        match self.pass {
            Pass::Owned => quote!(#local),
            Pass::Ref => quote!(&#local),
            Pass::RefMut => quote!(&mut #local),
        }
    }
}

/// One input of the function.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    Arg(Param),
    /// A `ToolContext` parameter: its type (without the reference) and how it is passed.
    Context {
        ty: Type,
        pass: Pass,
    },
}

/// The function's inputs, in order.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub inputs: Vec<Input>,
    /// The span of a `self` receiver, and whether it is `&self`, if there is one.
    pub receiver: Option<(Span, bool)>,
    /// The names bound by the parameters' patterns (plain identifiers), context included.
    pub bound: Vec<Ident>,
}

impl Inputs {
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.inputs.iter().filter_map(|i| match i {
            Input::Arg(p) => Some(p),
            Input::Context { .. } => None,
        })
    }

    /// Binds `__kern_ctx` to the context the function takes (checked to be kern's
    /// `ToolContext`, spanned on the parameter's type), from the `ToolContext` in `__kern_ctx`.
    pub fn context_setup(&self, krate: &TokenStream) -> TokenStream {
        self.inputs
            .iter()
            .find_map(|i| match i {
                Input::Context { ty, .. } => {
                    let convert = quote_spanned! {ty.span()=>
                        <#ty as #krate::__private::ContextParam>::from_context
                    };
                    Some(quote! {
                        #[allow(unused_mut)]
                        let mut __kern_ctx = #convert(__kern_ctx);
                    })
                }
                Input::Arg(_) => None,
            })
            .unwrap_or_default()
    }

    /// The call's argument list (the context is `__kern_ctx`).
    pub fn call_args(&self) -> Vec<TokenStream> {
        self.inputs
            .iter()
            .map(|i| match i {
                Input::Arg(p) => p.pass_expr(),
                Input::Context { pass, .. } => match pass {
                    Pass::Owned => quote!(__kern_ctx),
                    Pass::Ref => quote!(&__kern_ctx),
                    Pass::RefMut => quote!(&mut __kern_ctx),
                },
            })
            .collect()
    }

    /// `Args { a: __kern_a0, .. }` destructuring pattern.
    pub fn destructure(&self, args_ty: &Ident) -> TokenStream {
        let fields = self.params().map(|p| {
            let ident = &p.ident;
            let local = p.local();
            if p.pass == Pass::RefMut {
                quote!(#ident: mut #local)
            } else {
                quote!(#ident: #local)
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

/// Makes elided lifetimes of a field type `'static`: `'_` becomes `'static`, and `Cow<T>`
/// becomes `Cow<'static, T>`. (The args struct owns its fields; a `Cow` is deserialized owned.)
struct StaticLifetimes;

impl VisitMut for StaticLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = syn::Lifetime::new("'static", lifetime.span());
        }
    }

    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        if segment.ident == "Cow"
            && let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments
            && !matches!(args.args.first(), Some(syn::GenericArgument::Lifetime(_)))
        {
            args.args.insert(
                0,
                syn::GenericArgument::Lifetime(syn::Lifetime::new("'static", segment.ident.span())),
            );
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }
}

/// Finds what a tool parameter's type cannot be: `dyn Trait` (not deserializable) or
/// `impl Trait` (not concrete).
fn unsupported_type(ty: &Type) -> Option<(Span, &'static str)> {
    match ty {
        Type::ImplTrait(it) => Some((
            it.span(),
            "a tool parameter cannot be `impl Trait`: it is deserialized from JSON, so it needs a concrete type",
        )),
        Type::TraitObject(t) => Some((
            t.span(),
            "a tool parameter cannot be `dyn Trait`: it is deserialized from JSON, so it needs a concrete type",
        )),
        Type::BareFn(f) => Some((
            f.span(),
            "a tool parameter cannot be a function pointer: it is deserialized from JSON",
        )),
        Type::Never(n) => Some((n.span(), "a tool parameter cannot be `!`")),
        Type::Paren(p) => unsupported_type(&p.elem),
        Type::Group(g) => unsupported_type(&g.elem),
        _ => None,
    }
}

/// Reads the `#[arg(..)]` attributes of one parameter (removing them): its description.
fn arg_attrs(attrs: &mut Vec<syn::Attribute>, errors: &mut Vec<syn::Error>) -> Option<String> {
    let mut metas = Vec::new();
    let mut kept = Vec::new();
    for a in attrs.drain(..) {
        if !a.path().is_ident("arg") {
            kept.push(a);
            continue;
        }
        match &a.meta {
            syn::Meta::List(list) => {
                match list.parse_args_with(
                    Punctuated::<darling::ast::NestedMeta, Token![,]>::parse_terminated,
                ) {
                    Ok(list) => metas.extend(list),
                    Err(e) => errors.push(e),
                }
            }
            other => errors.push(syn::Error::new(
                other.span(),
                "expected `#[arg(description = \"...\")]`",
            )),
        }
    }
    *attrs = kept;
    // A key given twice (in one attribute or across two): an error on the second.
    let mut seen: Vec<String> = Vec::new();
    metas.retain(|m| {
        let darling::ast::NestedMeta::Meta(m) = m else {
            return true;
        };
        let Some(key) = m.path().get_ident().map(ToString::to_string) else {
            return true;
        };
        if seen.contains(&key) {
            errors.push(syn::Error::new(
                m.path().span(),
                format!(
                    "`{key}` is given twice for this parameter: keep one `#[arg({key} = \"...\")]`"
                ),
            ));
            return false;
        }
        seen.push(key);
        true
    });
    match <ArgAttr as darling::FromMeta>::from_list(&metas) {
        Ok(a) => a.description.map(|d| d.value),
        Err(e) => {
            errors.push(attr::darling_error(e));
            None
        }
    }
}

/// Reads the inputs of a signature, removing the `#[arg(..)]` attributes from it.
pub fn parse_inputs(
    sig: &mut Signature,
    docs: &Docs,
    errors: &mut Vec<syn::Error>,
    attr_errors: &mut Vec<syn::Error>,
) -> Inputs {
    let mut out = Inputs::default();
    let mut context_seen = false;
    for (position, input) in sig.inputs.iter_mut().enumerate() {
        let pat_ty = match input {
            FnArg::Receiver(r) => {
                let by_shared_ref = r.reference.is_some() && r.mutability.is_none();
                out.receiver = Some((r.self_token.span(), by_shared_ref));
                continue;
            }
            FnArg::Typed(t) => t,
        };

        let description = arg_attrs(&mut pat_ty.attrs, attr_errors);
        if let Pat::Ident(p) = &*pat_ty.pat {
            out.bound.push(p.ident.clone());
        }

        let (mut ty, pass) = match &*pat_ty.ty {
            Type::Reference(r) => {
                if let Some(lt) = r.lifetime.as_ref().filter(|l| l.ident == "static") {
                    errors.push(syn::Error::new(
                        lt.span(),
                        "a tool parameter cannot borrow for `'static`: the arguments live only as long as the call; take `&T` or an owned type",
                    ));
                }
                (
                    (*r.elem).clone(),
                    if r.mutability.is_some() {
                        Pass::RefMut
                    } else {
                        Pass::Ref
                    },
                )
            }
            other => (other.clone(), Pass::Owned),
        };

        if let Some((span, message)) = unsupported_type(&ty) {
            errors.push(syn::Error::new(span, message));
        }

        if is_context(&ty) {
            if context_seen {
                errors.push(syn::Error::new(
                    ty.span(),
                    "a tool takes at most one `ToolContext` parameter",
                ));
            }
            context_seen = true;
            out.inputs.push(Input::Context { ty, pass });
            continue;
        }

        let ident = match &*pat_ty.pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
            other => {
                errors.push(syn::Error::new(
                    other.span(),
                    "a tool parameter must be a plain name (`name: Type`): the name is the argument's name in the schema",
                ));
                format_ident!("__kern_invalid_{}", position)
            }
        };
        StaticLifetimes.visit_type_mut(&mut ty);
        let name = ident.to_string().trim_start_matches("r#").to_owned();
        let description = description.or_else(|| docs.param(&name).map(str::to_owned));
        out.inputs.push(Input::Arg(Param {
            ident,
            name,
            ty,
            pass,
            description,
            position,
        }));
    }
    out
}
