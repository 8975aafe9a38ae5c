//! `kern_core::model::from_env` / `from_env_or` read `KERN_MODEL`. One test in its own binary:
//! it changes the process environment, which no other test may read meanwhile.

use kern_core::model::{ModelChoice, from_env, from_env_or};
use kern_core::{Model, ModelError, TestModel};

fn set(value: Option<&str>) {
    // SAFETY: the only test of this binary; no other thread reads the environment meanwhile.
    unsafe {
        match value {
            Some(value) => std::env::set_var("KERN_MODEL", value),
            None => std::env::remove_var("KERN_MODEL"),
        }
    }
}

#[test]
fn kern_model_selects_the_model() {
    let scripted = || TestModel::calling(["get_weather"]).with_answer("scripted");

    set(None);
    assert_eq!(ModelChoice::from_env().unwrap(), ModelChoice::Test);
    assert_eq!(from_env().unwrap().name(), "test");
    assert_eq!(from_env_or(scripted()).unwrap().name(), "test");

    for offline in ["", "test"] {
        set(Some(offline));
        assert_eq!(from_env().unwrap().name(), "test");
    }

    set(Some("openai:gpt-4o-mini"));
    assert_eq!(from_env().unwrap().name(), "openai:gpt-4o-mini");
    assert_eq!(
        from_env_or(scripted()).unwrap().name(),
        "openai:gpt-4o-mini"
    );

    set(Some(
        "openai-compatible:http://127.0.0.1:11434/v1:llama3.1:8b",
    ));
    assert_eq!(
        from_env_or(scripted()).unwrap().name(),
        "openai:llama3.1:8b"
    );

    set(Some("mistral:large"));
    let Err(error) = from_env_or(scripted()) else {
        panic!("an unknown provider was accepted");
    };
    assert!(
        matches!(&error, ModelError::Config { message, .. } if message.contains("openai:MODEL")),
        "{error}"
    );
    set(None);
}
