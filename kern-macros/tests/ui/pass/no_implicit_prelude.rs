//! Generated code names everything by absolute path: it compiles without the prelude.
#![no_implicit_prelude]

/// Adds.
#[::kern::tool]
fn add(a: i32, b: ::std::option::Option<i32>, ctx: &::kern::ToolContext) -> i32 {
    let _ = ctx;
    a + b.unwrap_or(0)
}

/// Asks.
#[::kern::tool(requires_user_input, user_input_fields = [question])]
async fn ask(question: ::std::string::String) -> ::std::result::Result<::std::string::String, ::kern::ToolError> {
    ::std::result::Result::Ok(question)
}

#[derive(::kern::Toolkit)]
#[toolkit(requires_user_input = [echo])]
struct Kit;

#[::kern::toolkit_methods]
impl Kit {
    /// Echoes.
    fn echo(&self, text: &str) -> ::std::string::String {
        ::std::borrow::ToOwned::to_owned(text)
    }
}

fn main() {
    let _ = ::kern::Agent::builder().tool(add).tool(ask).tool(Kit);
    ::std::assert_eq!(add::call(1, ::std::option::Option::None, &::std::default::Default::default()), 1);
}
