//! The attributes' arguments, parsed with darling: `#[tool(..)]`, `#[arg(..)]`, `#[toolkit(..)]`.
//!
//! darling reports unknown keys (with a "did you mean"), duplicate keys and wrong value types,
//! each spanned on the key. Every flag keeps the span of its key, so a conflict points at the word.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta};

/// A boolean flag: `flag` (true), `flag = true` or `flag = false`, with the span of its key.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub value: bool,
    pub span: Span,
}

impl FromMeta for Flag {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = key_of(item);
        let value = match item {
            Meta::Path(_) => true,
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(b), ..
                }) => b.value,
                other => {
                    return Err(darling::Error::custom(format!(
                        "expected `{key}`, `{key} = true` or `{key} = false`"
                    ))
                    .with_span(other));
                }
            },
            Meta::List(list) => {
                return Err(darling::Error::custom(format!(
                    "expected `{key}`, `{key} = true` or `{key} = false`"
                ))
                .with_span(list));
            }
        };
        Ok(Flag {
            value,
            span: item.path().span(),
        })
    }
}

/// The key of a meta item, as written (`name`, `crate`).
fn key_of(item: &Meta) -> String {
    let path = item.path();
    quote::quote!(#path).to_string().replace(' ', "")
}

/// A darling error as a `syn::Error` (each of its errors, with its span).
pub fn darling_error(e: darling::Error) -> syn::Error {
    syn::Error::from(e)
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
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = key_of(item);
        let expected = format!("expected a string: `{key} = \"...\"`");
        match item {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Ok(SpannedStr {
                    value: s.value(),
                    span: s.span(),
                }),
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    let ident = p
                        .path
                        .get_ident()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    Err(darling::Error::custom(format!(
                        "{expected}, with quotes: `{key} = \"{ident}\"`"
                    ))
                    .with_span(&nv.value))
                }
                other => Err(darling::Error::custom(expected).with_span(other)),
            },
            Meta::Path(p) => Err(darling::Error::custom(format!(
                "`{key}` needs a value: `{key} = \"...\"`"
            ))
            .with_span(p)),
            Meta::List(list) => Err(darling::Error::custom(expected).with_span(list)),
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
            let key = key_of(item);
            return Err(
                darling::Error::custom(format!("expected a list: `{key} = [name, ..]`"))
                    .with_span(item),
            );
        };
        let Expr::Array(array) = &nv.value else {
            let key = key_of(item);
            return Err(
                darling::Error::custom(format!("expected a list: `{key} = [name, ..]`"))
                    .with_span(&nv.value),
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
    pub description: Option<SpannedStr>,
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

/// The path generated code reaches kern through: `crate = "..."` if given; else `::kern`, or
/// the name kern goes by when the crate's `Cargo.toml` renames it
/// (`k = { package = "kern", .. }`).
pub fn krate(path: &Option<syn::Path>) -> TokenStream {
    match path {
        Some(p) => quote::quote!(#p),
        None => match renamed_in_manifest() {
            Some(name) => {
                let ident = syn::Ident::new(&name, Span::call_site());
                quote::quote!(::#ident)
            }
            None => quote::quote!(::kern),
        },
    }
}

/// The name kern is renamed to in the manifest of the crate being compiled, if it is.
fn renamed_in_manifest() -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let manifest = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")).ok()?;
    renamed_kern(&manifest)
}

/// The crate name kern is imported under when `manifest` renames it and does not also depend
/// on it as `kern` (`None` when it is not renamed, or for kern itself). A line scan of the
/// dependency tables (`[dependencies]`, `[dev-dependencies]`, `[target.'..'.dependencies]`, and
/// their `[dependencies.name]` forms): enough for `package = "kern"`.
pub fn renamed_kern(manifest: &str) -> Option<String> {
    let mut section = String::new();
    let mut has_kern = false;
    let mut renamed = None;
    let is_deps = |s: &str| s.ends_with("dependencies");
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if section == "package" && key == "name" && value.trim().trim_matches('"') == "kern" {
            return None;
        }
        let dependency = if is_deps(&section) {
            // `name = ..` or `name.workspace = true`
            key.split('.')
                .next()
                .map(|k| (k.to_owned(), squeeze(value).contains("package=\"kern\"")))
        } else {
            // `[dependencies.name]` then `package = "kern"`
            section
                .rsplit_once('.')
                .filter(|(deps, _)| is_deps(deps))
                .map(|(_, name)| {
                    (
                        name.trim_matches('"').to_owned(),
                        key == "package" && value.trim().trim_matches('"') == "kern",
                    )
                })
        };
        match dependency {
            Some((name, _)) if name == "kern" => has_kern = true,
            Some((name, true)) => renamed = Some(name.replace('-', "_")),
            _ => {}
        }
    }
    if has_kern { None } else { renamed }
}

#[cfg(test)]
mod tests {
    use super::renamed_kern;

    #[test]
    fn renamed_kern_dependencies() {
        assert_eq!(renamed_kern("[dependencies]\nkern = \"0.1\"\n"), None);
        assert_eq!(
            renamed_kern("[dependencies]\nagents = { package = \"kern\", version = \"0.1\" }\n"),
            Some("agents".to_owned())
        );
        assert_eq!(
            renamed_kern("[dev-dependencies.my-kern]\npackage = \"kern\"\npath = \"..\"\n"),
            Some("my_kern".to_owned())
        );
        assert_eq!(
            renamed_kern("[target.'cfg(unix)'.dependencies]\nk = {package=\"kern\"}\n"),
            Some("k".to_owned())
        );
        // Also under its own name: `::kern` works.
        assert_eq!(
            renamed_kern("[dependencies]\nk = { package = \"kern\" }\nkern.workspace = true\n"),
            None
        );
        // kern itself, and an unrelated `package` key.
        assert_eq!(
            renamed_kern("[package]\nname = \"kern\"\n[dependencies]\nk = { package = \"kern\" }"),
            None
        );
        assert_eq!(
            renamed_kern("[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\n"),
            None
        );
    }
}
