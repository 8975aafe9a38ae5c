//! Generated code names everything by absolute path: `#[tool]` and `#[derive(Toolkit)]` compile
//! without the prelude. (`#[toolkit_methods]` marks its impl `#[diagnostic::do_not_recommend]`,
//! for better errors, and the `diagnostic` tool namespace comes with the prelude.)

#[no_implicit_prelude]
mod tools {
    /// Adds.
    #[::kern::tool]
    pub fn add(a: i32, b: ::std::option::Option<i32>, ctx: &::kern::ToolContext) -> i32 {
        let _ = ctx;
        a + b.unwrap_or(0)
    }

    /// Asks.
    #[::kern::tool(requires_user_input, user_input_fields = [question])]
    pub async fn ask(
        question: ::std::string::String,
    ) -> ::std::result::Result<::std::string::String, ::kern::ToolError> {
        ::std::result::Result::Ok(question)
    }

    #[derive(::kern::Toolkit)]
    #[toolkit(requires_user_input = [echo])]
    pub struct Kit;
}

#[kern::toolkit_methods]
impl tools::Kit {
    /// Echoes.
    fn echo(&self, text: &str) -> String {
        text.to_owned()
    }
}

fn main() {
    let _ = kern::Agent::builder().tool(tools::add).tool(tools::ask).tool(tools::Kit);
    assert_eq!(tools::add::call(1, None, &Default::default()), 1);
}
