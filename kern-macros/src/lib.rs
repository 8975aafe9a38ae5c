//! Procedural macros of kern: `#[tool]`. Use them through the `kern` facade.

use proc_macro::TokenStream;

/// Turns a function into a tool. (Being built: issue 2.)
#[proc_macro_attribute]
pub fn tool(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
