//! Code generation. The pieces (args struct, definition, call, return conversion) are shared by
//! `#[tool]` and the toolkit methods.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, Ident, ItemFn, Pat};

use crate::ast::{ToolFn, ToolSig, pascal_case};
use crate::valid::{Mode, Spec};

/// The args struct: one public field per parameter (the `ToolContext` is not one). It implements
/// `Deserialize` and `JsonSchema` (through `__private`) by visiting its fields one by one (see
/// `kern_core`'s `Fields`), which names each field type once: one error for a bad type.
pub fn args_struct(
    sig: &ToolSig,
    args_ident: &Ident,
    vis: &syn::Visibility,
    tool_name: &str,
    krate: &TokenStream,
) -> TokenStream {
    let doc = format!("The arguments of the `{tool_name}` tool, as the model sends them.");
    let params: Vec<_> = sig.inputs.params().collect();
    let fields = params.iter().map(|p| {
        let ident = &p.ident;
        let ty = p.field_ty();
        let doc = p.description.as_deref().map(|d| quote!(#[doc = #d]));
        quote!(#doc pub #ident: #ty,)
    });
    let visits = params.iter().enumerate().map(|(i, p)| p.visit(i, krate));
    let names: Vec<_> = params.iter().map(|p| &p.name).collect();
    let indices = 0..names.len();
    let idents: Vec<_> = params.iter().map(|p| &p.ident).collect();
    let locals: Vec<_> = params.iter().map(|p| p.local()).collect();
    let schema_name = args_ident.to_string();
    let private = quote!(#krate::__private);
    quote! {
        #[doc = #doc]
        #[allow(missing_docs)]
        #vis struct #args_ident {
            #(#fields)*
        }

        #[automatically_derived]
        impl #private::ToolArgs for #args_ident {
            const FIELDS: &'static [&'static str] = &[#(#names),*];

            #[inline]
            fn index_of(__kern_name: &str) -> ::core::option::Option<usize> {
                match __kern_name {
                    #(#names => ::core::option::Option::Some(#indices),)*
                    _ => ::core::option::Option::None,
                }
            }

            fn visit(
                __kern_fields: &mut #private::output::Fields<'_>,
            ) -> ::core::option::Option<Self> {
                #(#visits)*
                ::core::option::Option::Some(#args_ident { #(#idents: #locals?),* })
            }
        }

        #[automatically_derived]
        impl<'de> #private::serde::Deserialize<'de> for #args_ident {
            fn deserialize<D: #private::serde::Deserializer<'de>>(
                __kern_deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                #private::output::deserialize_args(__kern_deserializer)
            }
        }

        #[automatically_derived]
        impl #private::schemars::JsonSchema for #args_ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#schema_name)
            }
            fn json_schema(
                __kern_generator: &mut #private::schemars::SchemaGenerator,
            ) -> #private::schemars::Schema {
                #private::output::args_schema::<Self>(__kern_generator)
            }
        }
    }
}

/// The `ExecutionMode` expression. `toolkit` is the toolkit struct's type for [`Mode::Toolkit`].
fn mode_expr(
    mode: &Mode,
    sig: &ToolSig,
    krate: &TokenStream,
    toolkit: Option<&TokenStream>,
) -> TokenStream {
    match mode {
        Mode::Internal => quote!(#krate::ExecutionMode::Internal),
        Mode::External => quote!(#krate::ExecutionMode::External),
        Mode::RequiresConfirmation => quote!(#krate::ExecutionMode::RequiresConfirmation),
        Mode::RequiresUserInput(fields) => quote! {
            #krate::ExecutionMode::RequiresUserInput {
                fields: ::std::vec![#(<::std::string::String as ::core::convert::From<&str>>::from(#fields)),*],
            }
        },
        Mode::Toolkit => {
            let params = sig.inputs.params().map(|p| &p.name);
            let method = sig.default_name();
            quote! {
                <#toolkit as #krate::__private::ToolkitConfig>::execution_mode(#method, &[#(#params),*])
            }
        }
    }
}

/// A block evaluating to `&'static ToolDefinition`, built once.
pub fn definition_expr(
    spec: &Spec,
    sig: &ToolSig,
    args_ident: &Ident,
    krate: &TokenStream,
    toolkit: Option<&TokenStream>,
) -> TokenStream {
    let Spec {
        name,
        description,
        strict,
        stop_after_tool_call,
        show_result,
        mode,
    } = spec;
    let mode = mode_expr(mode, sig, krate, toolkit);
    let strict = match toolkit {
        Some(toolkit) => {
            quote!(#strict || <#toolkit as #krate::__private::ToolkitConfig>::STRICT)
        }
        None => quote!(#strict),
    };
    quote! {{
        static __KERN_DEFINITION: ::std::sync::LazyLock<#krate::ToolDefinition> =
            ::std::sync::LazyLock::new(|| {
                let __kern_strict: bool = #strict;
                let mut __kern_definition = #krate::ToolDefinition::new(
                    #name,
                    #description,
                    #krate::__private::parameters_for::<#args_ident>(__kern_strict),
                )
                .with_mode(#mode);
                __kern_definition.strict = __kern_strict;
                __kern_definition.stop_after_tool_call = #stop_after_tool_call;
                __kern_definition.show_result = #show_result;
                __kern_definition
            });
        &*__KERN_DEFINITION
    }}
}

/// Turns the value of `expr` (the function's return value) into a `ToolResult`.
pub fn convert(expr: TokenStream, span: Span, krate: &TokenStream) -> TokenStream {
    // Spanned on the return type, so a type that is not `Serialize` (or an error type that is
    // not `Into<ToolError>`) is reported there.
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use #krate::__private::output::{
            JsonKind as _, PlainKind as _, ResultKind as _, TextKind as _,
        };
        #[allow(clippy::let_unit_value)]
        let __kern_out = #expr;
        match (&#krate::__private::output::Wrap(&__kern_out))
            .__kern_result_kind()
            .split(__kern_out)
        {
            ::core::result::Result::Ok(__kern_value) => {
                (&#krate::__private::output::Wrap(&__kern_value))
                    .__kern_output_kind()
                    .into_result(__kern_value)
            }
            ::core::result::Result::Err(__kern_error) => ::core::result::Result::Err(__kern_error),
        }
    }}
}

/// The generated code that runs a tool given its parsed args, in an `entrypoint` (inline) and an
/// `invoke` (a `'static` future; sync bodies on the blocking pool).
pub struct Calls {
    pub entrypoint: TokenStream,
    pub invoke: TokenStream,
}

/// `target` is the callee path (`Self::call`, `__kern_toolkit.list_dir`); `setup` is code run
/// before the call inside the `'static` future (e.g. cloning the toolkit's `Arc`), `prelude`
/// what binds that callee's receiver in the entrypoint.
pub fn calls(
    sig: &ToolSig,
    args_ident: &Ident,
    krate: &TokenStream,
    target: &TokenStream,
    entry_prelude: &TokenStream,
    invoke_setup: &TokenStream,
) -> Calls {
    let pattern = sig.inputs.destructure(args_ident);
    let call_args = sig.inputs.call_args();
    let context = sig.inputs.context_setup(krate);
    let span = sig.output_span();
    let await_ = sig.is_async.then(|| quote!(.await));

    let entry_convert = convert(quote!(#target(#(#call_args),*) #await_), span, krate);
    let entrypoint = quote! {
        let #pattern = #krate::__private::output::args_from_ref::<#args_ident>(__kern_json)?;
        #[allow(unused_variables)]
        let __kern_ctx = <#krate::ToolContext as ::core::default::Default>::default();
        #context
        #entry_prelude
        #entry_convert
    };

    let invoke_convert = convert(quote!(#target(#(#call_args),*) #await_), span, krate);
    let invoke = if sig.is_async {
        quote! {
            let __kern_args = #krate::__private::output::args_from_value::<#args_ident>(__kern_json);
            #invoke_setup
            ::std::boxed::Box::pin(async move {
                let #pattern = __kern_args?;
                #context
                #invoke_convert
            })
        }
    } else {
        quote! {
            let __kern_args = #krate::__private::output::args_from_value::<#args_ident>(__kern_json);
            #invoke_setup
            ::std::boxed::Box::pin(async move {
                let __kern_args = __kern_args?;
                #krate::__private::run_blocking(move || {
                    let #pattern = __kern_args;
                    #context
                    #invoke_convert
                })
                .await
            })
        }
    };
    Calls { entrypoint, invoke }
}

/// The expansion of `#[tool]`.
pub fn tool(tool: ToolFn, spec: &Spec, krate: &TokenStream) -> TokenStream {
    let ToolFn { item, sig, .. } = tool;
    let ident = &sig.ident;
    let vis = &item.vis;
    let args_ident = format_ident!(
        "{}Args",
        pascal_case(&sig.default_name()),
        span = ident.span()
    );

    let (docs, attrs): (Vec<_>, Vec<_>) = item.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let call = call_fn(&item, &sig);
    let unit = unit_struct(vis, ident);
    let name = &spec.name;

    let args = args_struct(&sig, &args_ident, vis, name, krate);
    let definition = definition_expr(spec, &sig, &args_ident, krate, None);
    let Calls { entrypoint, invoke } = calls(
        &sig,
        &args_ident,
        krate,
        &quote!(Self::call),
        &quote!(),
        &quote!(),
    );

    let expanded = quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #unit

        #args

        impl #ident {
            /// The tool's name, as the model calls it.
            pub const NAME: &'static str = #name;

            /// The function itself, callable from Rust with typed arguments.
            #(#attrs)*
            #call

            /// The tool's name, as the model calls it.
            pub fn name(&self) -> &'static str {
                Self::NAME
            }

            /// The tool's definition (built once).
            pub fn definition(&self) -> &'static #krate::ToolDefinition {
                #definition
            }

            /// Deserializes JSON arguments, calls the function (inline, also when it is
            /// synchronous) and converts its return value: the tool's result as the model would
            /// see it. A `ToolContext` parameter gets `ToolContext::default()`.
            pub async fn entrypoint(
                &self,
                __kern_json: &#krate::__private::serde_json::Value,
            ) -> #krate::ToolResult {
                #entrypoint
            }
        }

        #[automatically_derived]
        impl #krate::Tool for #ident {
            fn definition(&self) -> &#krate::ToolDefinition {
                #ident::definition(self)
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
    };
    with_cfgs(expanded, &item.attrs)
}

/// Puts the function's `#[cfg]`/`#[cfg_attr]` attributes on every generated item, so a tool
/// compiled out is compiled out entirely.
fn with_cfgs(expanded: TokenStream, attrs: &[syn::Attribute]) -> TokenStream {
    let cfgs: Vec<_> = attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .cloned()
        .collect();
    if cfgs.is_empty() {
        return expanded;
    }
    match syn::parse2::<syn::File>(expanded.clone()) {
        Ok(mut file) => {
            for item in &mut file.items {
                if let Some(attrs) = item_attrs(item) {
                    attrs.splice(0..0, cfgs.iter().cloned());
                }
            }
            quote!(#file)
        }
        Err(_) => expanded,
    }
}

fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        syn::Item::Struct(i) => Some(&mut i.attrs),
        syn::Item::Impl(i) => Some(&mut i.attrs),
        syn::Item::Const(i) => Some(&mut i.attrs),
        _ => None,
    }
}

/// `struct name;`, spanned on the function's name: rustc's "`name` defined here" (in E0618,
/// when the tool is called as a function) points there.
fn unit_struct(vis: &syn::Visibility, ident: &Ident) -> TokenStream {
    quote_spanned!(ident.span()=> #vis struct #ident;)
}

/// The function as `call`, its body unchanged. Its parameters are bound inside the body, after
/// local items that shadow the tool's name and the parameters' names: a unit struct of that
/// name (this tool, another tool) would otherwise turn the binding into a pattern matching it.
pub fn call_fn(item: &ItemFn, sig: &ToolSig) -> TokenStream {
    let mut call_sig = item.sig.clone();
    call_sig.ident = Ident::new("call", sig.ident.span());
    call_sig.variadic = None;
    let mut rebinds = Vec::new();
    let mut shadowed: Vec<Ident> = vec![sig.ident.clone()];
    for (i, input) in call_sig.inputs.iter_mut().enumerate() {
        if let FnArg::Typed(t) = input {
            let local = format_ident!("__kern_p{}", i);
            let pat = std::mem::replace(
                &mut *t.pat,
                Pat::Ident(syn::PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident: local.clone(),
                    subpat: None,
                }),
            );
            if let Pat::Ident(p) = &pat
                && !shadowed.contains(&p.ident)
            {
                shadowed.push(p.ident.clone());
            }
            rebinds.push(quote!(let #pat = #local;));
        }
    }
    let vis = &item.vis;
    let block = &item.block;
    quote! {
        #vis #call_sig {
            #(
                #[allow(dead_code, non_snake_case, clippy::all)]
                fn #shadowed() {}
            )*
            #(#rebinds)*
            #block
        }
    }
}

/// What is emitted when the tool cannot be generated (its signature is in error): the unit
/// struct with the same items as a generated tool (`call` when the function can be one), so
/// that code using the tool gives no further errors; one mistake, one error. The bodies are
/// never run: the crate does not compile.
pub fn fallback(tool: &ToolFn, spec: &Spec, krate: &TokenStream) -> TokenStream {
    let item = &tool.item;
    let ident = &tool.sig.ident;
    let vis = &item.vis;
    let name = &spec.name;
    let (docs, attrs): (Vec<_>, Vec<_>) = item.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let unit = unit_struct(vis, ident);
    let call = (tool.sig.inputs.receiver.is_none()).then(|| {
        let call = call_fn(item, &tool.sig);
        quote! {
            #(#attrs)*
            #call
        }
    });
    let expanded = quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #unit

        #[allow(unused_variables, clippy::all)]
        impl #ident {
            /// The tool's name, as the model calls it.
            pub const NAME: &'static str = #name;

            #call

            /// The tool's name, as the model calls it.
            pub fn name(&self) -> &'static str {
                Self::NAME
            }

            /// The tool's definition.
            pub fn definition(&self) -> &'static #krate::ToolDefinition {
                ::core::unreachable!()
            }

            /// The tool's result for JSON arguments.
            pub async fn entrypoint(
                &self,
                __kern_json: &#krate::__private::serde_json::Value,
            ) -> #krate::ToolResult {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        #[allow(unused_variables)]
        impl #krate::Tool for #ident {
            fn definition(&self) -> &#krate::ToolDefinition {
                ::core::unreachable!()
            }

            fn invoke(
                &self,
                __kern_json: #krate::__private::serde_json::Value,
                __kern_ctx: #krate::ToolContext,
            ) -> #krate::__private::futures::future::BoxFuture<'static, #krate::ToolResult> {
                ::core::unreachable!()
            }
        }
    };
    with_cfgs(expanded, &item.attrs)
}

/// The item as it was: for a function that is no free function (a method, an associated
/// function), where a tool value cannot be emitted.
pub fn plain(tool: &ToolFn) -> TokenStream {
    let item = &tool.item;
    quote!(#item)
}
