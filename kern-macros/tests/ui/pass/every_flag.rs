use kern::prelude::*;

/// External.
#[tool(external_execution)]
fn external(a: String) -> String {
    a
}

/// Confirmed, stops, shows.
#[tool(requires_confirmation = true, stop_after_tool_call, show_result = true)]
fn confirmed(a: String) -> String {
    a
}

/// All parameters from the user.
#[tool(requires_user_input)]
fn all_input(a: String, b: u8) -> String {
    format!("{a}{b}")
}

/// Some from the user (names or strings).
#[tool(requires_user_input, user_input_fields = [a, "b"])]
fn some_input(a: String, b: u8, c: bool) -> String {
    format!("{a}{b}{c}")
}

/// False flags are no flags.
#[tool(external_execution = false, requires_confirmation = false, strict = false)]
fn none(a: String) -> String {
    a
}

/// Strict.
#[tool(strict)]
fn strict(a: Option<String>) -> String {
    a.unwrap_or_default()
}

fn main() {
    assert_eq!(external.definition().mode, ExecutionMode::External);
    assert_eq!(confirmed.definition().mode, ExecutionMode::RequiresConfirmation);
    assert!(confirmed.definition().stop_after_tool_call && confirmed.definition().show_result);
    assert_eq!(
        all_input.definition().mode,
        ExecutionMode::RequiresUserInput { fields: vec!["a".into(), "b".into()] }
    );
    assert_eq!(
        some_input.definition().mode,
        ExecutionMode::RequiresUserInput { fields: vec!["a".into(), "b".into()] }
    );
    assert_eq!(none.definition().mode, ExecutionMode::Internal);
    assert!(strict.definition().strict);
    assert_eq!(strict.definition().parameters["additionalProperties"], false);
}
