//! `#[derive(Toolkit)]` (the struct and its flags) and `#[toolkit_methods]` (the impl block whose
//! methods are the tools). Each method goes through the same [`ToolSig`] parsing, doc-comment
//! parser and args-struct / definition / call generation as `#[tool]`.
//!
//! The two macros meet through two traits kern-core defines: the derive implements
//! `ToolkitConfig` (the execution mode of each method, from the struct's lists), the impl
//! attribute implements `ToolkitMethods` (the tools). The derive checks each listed name at
//! compile time by naming `Struct::name` (rustc reports an unknown method there, spanned on the
//! name, with its own "a method with a similar name exists" suggestion) and by a const assertion
//! that the method is one of the tool methods.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Ident, ImplItem, ItemImpl, Token, Type};

use crate::ast::{ToolSig, pascal_case};
use crate::attr::{self, MethodArgs, Name, ToolkitArgs, is_set};
use crate::expand;
use crate::valid::{self, Mode, Spec};

/// Collects the nested metas of every `#[toolkit(..)]` attribute in `attrs` (removing them when
/// `remove`), so duplicates across attributes are caught too.
fn toolkit_metas(
    attrs: &mut Vec<Attribute>,
    remove: bool,
    errors: &mut Vec<syn::Error>,
) -> Vec<NestedMeta> {
    let mut metas = Vec::new();
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        if attr.path().is_ident("toolkit") {
            match attr.parse_args_with(Punctuated::<NestedMeta, Token![,]>::parse_terminated) {
                Ok(list) => metas.extend(list),
                Err(e) => errors.push(e),
            }
            if !remove {
                kept.push(attr);
            }
        } else {
            kept.push(attr);
        }
    }
    *attrs = kept;
    metas
}

/// `#[derive(Toolkit)]`.
pub fn derive(mut input: DeriveInput) -> TokenStream {
    let mut errors = Vec::new();
    match &input.data {
        Data::Struct(_) => {}
        Data::Enum(e) => errors.push(syn::Error::new(
            e.enum_token.span(),
            "`#[derive(Toolkit)]` is for structs: a toolkit is a struct whose methods are tools",
        )),
        Data::Union(u) => errors.push(syn::Error::new(
            u.union_token.span(),
            "`#[derive(Toolkit)]` is for structs: a toolkit is a struct whose methods are tools",
        )),
    }
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            input.generics.span(),
            "a toolkit struct cannot be generic: each method's definition is built once, for concrete types",
        ));
    }
    if let Data::Struct(data) = &input.data {
        for field in &data.fields {
            for a in field.attrs.iter().filter(|a| a.path().is_ident("toolkit")) {
                errors.push(syn::Error::new_spanned(
                    a,
                    "`#[toolkit(..)]` goes on the struct, or on a method of its `#[toolkit_methods]` block, not on a field",
                ));
            }
        }
    }
    let metas = toolkit_metas(&mut input.attrs, false, &mut errors);
    let args = match ToolkitArgs::from_list(&metas) {
        Ok(args) => args,
        Err(e) => {
            errors.push(e.into());
            ToolkitArgs::default()
        }
    };
    let krate = attr::krate(&args.krate);
    let ident = &input.ident;

    // Each name once, in one list.
    let lists: [(&str, &Option<attr::NameList>); 3] = [
        ("external", &args.external),
        ("requires_confirmation", &args.requires_confirmation),
        ("requires_user_input", &args.requires_user_input),
    ];
    let mut seen: Vec<(&str, &Name)> = Vec::new();
    for (list_name, list) in lists {
        for name in list.iter().flat_map(|l| &l.names) {
            match seen.iter().find(|(_, n)| n.value == name.value) {
                Some((first, _)) if *first == list_name => errors.push(syn::Error::new(
                    name.span,
                    format!("`{}` is listed twice", name.value),
                )),
                Some((first, _)) => errors.push(syn::Error::new(
                    name.span,
                    format!(
                        "`{}` is already in `{first}`: a tool has one execution mode",
                        name.value
                    ),
                )),
                None => {}
            }
            seen.push((list_name, name));
        }
    }

    let arm = |list: &Option<attr::NameList>, mode: TokenStream| {
        let names: Vec<&String> = list
            .iter()
            .flat_map(|l| &l.names)
            .map(|n| &n.value)
            .collect();
        (!names.is_empty()).then(|| quote!(#(#names)|* => #mode,))
    };
    let external = arm(&args.external, quote!(#krate::ExecutionMode::External));
    let confirm = arm(
        &args.requires_confirmation,
        quote!(#krate::ExecutionMode::RequiresConfirmation),
    );
    let input_ = arm(
        &args.requires_user_input,
        quote! {
            #krate::ExecutionMode::RequiresUserInput {
                fields: ::core::iter::Iterator::collect(::core::iter::Iterator::map(
                    __kern_params.iter(),
                    |__kern_p| <::std::string::String as ::core::convert::From<&str>>::from(*__kern_p),
                )),
            }
        },
    );
    let strict = is_set(&args.strict);

    let checks = seen.iter().map(|(_, name)| {
        let method = match syn::parse_str::<Ident>(&name.value) {
            Ok(mut ident) => {
                ident.set_span(name.span);
                ident
            }
            Err(_) => {
                return syn::Error::new(name.span, format!("`{}` is not a method name", name.value))
                    .into_compile_error();
            }
        };
        let value = &name.value;
        let message = format!(
            "`{value}` is a method of `{ident}` but not one of its tools (marked `#[toolkit(skip)]`, without `&self`, or outside the `#[toolkit_methods]` block)"
        );
        quote_spanned! {name.span=>
            const _: () = {
                let _ = #ident::#method;
                ::core::assert!(
                    #krate::__private::toolkit_contains(
                        <#ident as #krate::ToolkitMethods>::METHODS,
                        #value,
                    ),
                    #message
                );
            };
        }
    });

    let errors = errors.into_iter().map(|e| e.into_compile_error());
    if !matches!(input.data, Data::Struct(_)) || !input.generics.params.is_empty() {
        return quote!(#(#errors)*);
    }
    quote! {
        #(#errors)*
        const _: () = {
            #[automatically_derived]
            impl #krate::__private::ToolkitConfig for #ident {
                const STRICT: bool = #strict;

                #[allow(unused_variables)]
                fn execution_mode(__kern_method: &str, __kern_params: &[&str]) -> #krate::ExecutionMode {
                    match __kern_method {
                        #external
                        #confirm
                        #input_
                        _ => #krate::ExecutionMode::Internal,
                    }
                }
            }

            #[automatically_derived]
            impl #krate::IntoTools for #ident {
                fn into_tools(
                    self,
                    __kern_out: &mut ::std::vec::Vec<::std::sync::Arc<dyn #krate::Tool>>,
                ) -> #krate::Result<()> {
                    #krate::__private::toolkit_into_tools(self, __kern_out)
                }
            }

            #(#checks)*
        };
    }
}

/// The arguments of `#[toolkit_methods(..)]`.
#[derive(Debug, Default, FromMeta)]
struct ImplArgs {
    #[darling(rename = "crate")]
    krate: Option<syn::Path>,
}

struct Method {
    sig: ToolSig,
    spec: Spec,
    vis: syn::Visibility,
}

/// `#[toolkit_methods]`.
pub fn methods(args: TokenStream, mut item: ItemImpl) -> TokenStream {
    let mut errors = Vec::new();
    let args = NestedMeta::parse_meta_list(args)
        .map_err(darling::Error::from)
        .and_then(|m| ImplArgs::from_list(&m))
        .unwrap_or_else(|e| {
            errors.push(e.into());
            ImplArgs::default()
        });
    let krate = attr::krate(&args.krate);

    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new(
            path.span(),
            "`#[toolkit_methods]` goes on an inherent impl block (`impl MyToolkit { .. }`), not a trait impl",
        ));
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            item.generics.span(),
            "a toolkit cannot be generic: each method's definition is built once, for concrete types",
        ));
    }
    let struct_ident = match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    };
    let Some(struct_ident) = struct_ident else {
        errors.push(syn::Error::new(
            item.self_ty.span(),
            "`#[toolkit_methods]` goes on the impl block of a toolkit struct",
        ));
        let errors = errors.into_iter().map(|e| e.into_compile_error());
        return quote!(#item #(#errors)*);
    };
    let self_ty = &item.self_ty;
    let toolkit = quote!(#self_ty);

    let mut methods = Vec::new();
    let mut tool_names: Vec<(String, String)> = Vec::new();
    for impl_item in item.items.iter_mut() {
        let ImplItem::Fn(f) = impl_item else { continue };
        let metas = toolkit_metas(&mut f.attrs, true, &mut errors);
        let margs = match MethodArgs::from_list(&metas) {
            Ok(a) => a,
            Err(e) => {
                errors.push(attr::darling_error(e));
                MethodArgs::default()
            }
        };
        if is_set(&margs.skip) {
            continue;
        }
        // Associated functions without a receiver (constructors, helpers) are not tools.
        if f.sig.receiver().is_none() {
            continue;
        }
        let mut sig_errors = Vec::new();
        let sig = ToolSig::parse(&mut f.sig, &f.attrs, &mut sig_errors, &mut errors);
        valid::check_signature(&sig, true, &mut sig_errors);
        valid::check_docs(&sig, &mut errors);
        let (name, name_span) = match &margs.name {
            Some(n) => {
                if !valid::valid_tool_name(&n.value) {
                    errors.push(valid::tool_name_error(&n.value, n.span));
                }
                (n.value.clone(), n.span)
            }
            None => {
                let name = sig.default_name();
                if !valid::valid_tool_name(&name) {
                    errors.push(valid::tool_name_error(&name, sig.ident.span()));
                }
                (name, sig.ident.span())
            }
        };
        if is_set(&margs.strict) {
            valid::check_strict_params(&sig, &mut errors);
        }
        if let Some((_, first)) = tool_names.iter().find(|(n, _)| *n == name) {
            errors.push(syn::Error::new(
                name_span,
                format!(
                    "two tools of this toolkit are named `{name}` (the other is the method `{first}`): the model could not tell them apart; rename one with `#[toolkit(name = \"..\")]`"
                ),
            ));
        }
        tool_names.push((name.clone(), sig.ident.to_string()));
        let spec = Spec {
            name,
            description: margs
                .description
                .as_ref()
                .map(|d| d.value.clone())
                .unwrap_or_else(|| sig.docs.description.clone()),
            strict: is_set(&margs.strict),
            stop_after_tool_call: is_set(&margs.stop_after_tool_call),
            show_result: is_set(&margs.show_result),
            mode: Mode::Toolkit,
        };
        if sig_errors.is_empty() {
            methods.push(Method {
                sig,
                spec,
                vis: f.vis.clone(),
            });
        }
        errors.extend(sig_errors);
    }

    let mut generated = Vec::new();
    let mut entries = Vec::new();
    let mut names = Vec::new();
    for Method { sig, spec, vis } in &methods {
        let method = &sig.ident;
        let method_name = sig.default_name();
        let args_ident = format_ident!(
            "{}{}Args",
            struct_ident,
            pascal_case(&method_name),
            span = method.span()
        );
        let tool_ident = format_ident!("__KernToolkitTool_{}", method_name);
        generated.push(expand::args_struct(
            sig,
            &args_ident,
            vis,
            &spec.name,
            &krate,
        ));
        let definition = expand::definition_expr(spec, sig, &args_ident, &krate, Some(&toolkit));
        let expand::Calls { invoke, .. } = expand::calls(
            sig,
            &args_ident,
            &krate,
            &quote!(__kern_toolkit.#method),
            &quote!(),
            &quote!(let __kern_toolkit = <::std::sync::Arc<#toolkit> as ::core::clone::Clone>::clone(&self.0);),
        );
        entries.push(quote! {
            #[allow(non_camel_case_types)]
            struct #tool_ident(::std::sync::Arc<#toolkit>);

            #[automatically_derived]
            impl #krate::Tool for #tool_ident {
                fn definition(&self) -> &#krate::ToolDefinition {
                    #definition
                }

                #[allow(unused_variables)]
                fn invoke(
                    &self,
                    __kern_json: #krate::__private::serde_json::Value,
                    __kern_ctx: #krate::ToolContext,
                ) -> #krate::__private::futures::future::BoxFuture<'static, #krate::ToolResult> {
                    #invoke
                }

                fn check_args(
                    &self,
                    __kern_json: &#krate::__private::serde_json::Value,
                ) -> ::core::result::Result<(), #krate::ToolError> {
                    #krate::__private::output::args_from_ref::<#args_ident>(__kern_json).map(|_| ())
                }
            }
        });
        names.push((method_name, tool_ident));
    }

    let method_names = names.iter().map(|(n, _)| n);
    let constructors = names.iter().map(|(n, t)| {
        quote! {
            (#n, ::std::sync::Arc::new(#t(<::std::sync::Arc<Self> as ::core::clone::Clone>::clone(&self))) as ::std::sync::Arc<dyn #krate::Tool>)
        }
    });
    let errors = errors.into_iter().map(|e| e.into_compile_error());
    quote! {
        #item
        #(#generated)*
        const _: () = {
            #(#entries)*

            // Keeps the error of a toolkit without methods about that toolkit, instead of a list
            // of every other toolkit in scope.
            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #krate::ToolkitMethods for #toolkit {
                const METHODS: &'static [&'static str] = &[#(#method_names),*];

                fn tools(
                    self: ::std::sync::Arc<Self>,
                ) -> ::std::vec::Vec<(&'static str, ::std::sync::Arc<dyn #krate::Tool>)> {
                    ::std::vec![#(#constructors),*]
                }
            }
        };
        #(#errors)*
    }
}
