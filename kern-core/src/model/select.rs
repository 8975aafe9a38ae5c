//! Choosing the model at run time from one environment variable, `KERN_MODEL`, so a program (the
//! examples, a demo) runs offline by default and against a real model when asked. The forms are
//! documented on [`ModelChoice`].

use super::{Anthropic, Model, ModelError, OpenAiChat, OpenAiResponses, TestModel};

/// The environment variable [`from_env`] reads.
const ENV_VAR: &str = "KERN_MODEL";

/// The forms [`ModelChoice::parse`] accepts, for error messages.
const FORMS: &str = "test, openai:MODEL, openai-compatible:BASE_URL:MODEL \
     (e.g. openai-compatible:http://127.0.0.1:8000/v1:my-model), \
     openai-compatible-legacy:BASE_URL:MODEL, anthropic:MODEL, openai-responses:MODEL";

/// A model named by a `KERN_MODEL` value, parsed but not built.
///
/// | `KERN_MODEL` | model |
/// |---|---|
/// | unset, empty or `test` | [`TestModel`] (offline) |
/// | `openai:MODEL` | [`OpenAiChat`]`::new(MODEL)` (key from `OPENAI_API_KEY`) |
/// | `openai-compatible:BASE_URL:MODEL` | [`OpenAiChat`]`::new(MODEL).base_url(BASE_URL)` (key optional) |
/// | `openai-compatible-legacy:BASE_URL:MODEL` | the same, with [`legacy_max_tokens`](OpenAiChat::legacy_max_tokens): the token limit is sent as `max_tokens` |
/// | `anthropic:MODEL` | `Anthropic::new(MODEL)` (key from `ANTHROPIC_API_KEY`) |
/// | `openai-responses:MODEL` | `OpenAiResponses::new(MODEL)` (key from `OPENAI_API_KEY`) |
///
/// In `openai-compatible:BASE_URL:MODEL` the model's name may hold colons (`llama3.1:8b`), so
/// the base URL is read by its shape: `http://` or `https://`, a host (`[…]` for IPv6) with an
/// optional `:PORT` (digits), and an optional path, which cannot hold a colon. The colon after
/// that ends the URL; everything after it is the model's name, colons included:
/// `openai-compatible:http://127.0.0.1:11434/v1:llama3.1:8b` is `llama3.1:8b` at
/// `http://127.0.0.1:11434/v1`.
///
/// A token limit ([`build_with_max_tokens`](Self::build_with_max_tokens)) goes to a Chat
/// Completions server as `max_completion_tokens`, OpenAI's current name. A server that knows
/// only the old name, `max_tokens`, ignores it and writes on until the model stops: choose
/// `openai-compatible-legacy:` for it. Servers that need it: llama-cpp-python's server (the
/// interop suite, `scripts/interop.sh`, measures it: a limit sent as `max_completion_tokens` is
/// not honoured, one sent as `max_tokens` is), and APIs that predate the new name (DeepSeek,
/// Mistral, older Ollama releases). OpenAI's o-series and later models refuse the old name, so
/// it is not the default.
///
/// ```
/// use kern_core::model::ModelChoice;
///
/// assert_eq!(ModelChoice::parse("").unwrap(), ModelChoice::Test);
/// assert_eq!(
///     ModelChoice::parse("openai:gpt-4o-mini").unwrap(),
///     ModelChoice::OpenAiChat { model: "gpt-4o-mini".into() }
/// );
/// assert_eq!(
///     ModelChoice::parse("openai-compatible:http://localhost:11434/v1:llama3.1:8b").unwrap(),
///     ModelChoice::OpenAiCompatible {
///         base_url: "http://localhost:11434/v1".into(),
///         model: "llama3.1:8b".into(),
///         legacy_max_tokens: false,
///     }
/// );
/// assert_eq!(
///     ModelChoice::parse("openai-compatible-legacy:http://127.0.0.1:8080/v1:gemma-3").unwrap(),
///     ModelChoice::OpenAiCompatible {
///         base_url: "http://127.0.0.1:8080/v1".into(),
///         model: "gemma-3".into(),
///         legacy_max_tokens: true,
///     }
/// );
/// assert!(ModelChoice::parse("gemini:pro").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelChoice {
    /// The offline [`TestModel`].
    Test,
    /// OpenAI's Chat Completions API.
    OpenAiChat {
        /// The model (`gpt-4o-mini`).
        model: String,
    },
    /// A server that speaks Chat Completions (vLLM, Ollama, llama.cpp server, OpenRouter).
    OpenAiCompatible {
        /// Its base URL (`http://127.0.0.1:8000/v1`).
        base_url: String,
        /// The model's name at that server.
        model: String,
        /// Whether a token limit is sent as `max_tokens` rather than `max_completion_tokens`
        /// (`openai-compatible-legacy:`; see [`OpenAiChat::legacy_max_tokens`]).
        legacy_max_tokens: bool,
    },
    /// Anthropic's Messages API.
    Anthropic {
        /// The model (`claude-sonnet-4-5`).
        model: String,
    },
    /// OpenAI's Responses API.
    OpenAiResponses {
        /// The model (`gpt-4o-mini`).
        model: String,
    },
}

impl ModelChoice {
    /// Parses a `KERN_MODEL` value (the forms are in the table above). Surrounding
    /// whitespace is ignored; an unknown prefix or a missing model name is
    /// [`ModelError::Config`] listing the accepted forms.
    pub fn parse(spec: &str) -> Result<Self, ModelError> {
        let spec = spec.trim();
        if spec.is_empty() || spec == "test" {
            return Ok(ModelChoice::Test);
        }
        let Some((prefix, rest)) = spec.split_once(':') else {
            return Err(config(format!(
                "unknown model `{spec}`; use one of: {FORMS}"
            )));
        };
        let model = || {
            let model = rest.trim();
            if model.is_empty() {
                Err(config(format!(
                    "`{spec}` names no model; use one of: {FORMS}"
                )))
            } else {
                Ok(model.to_owned())
            }
        };
        match prefix {
            "openai" => Ok(ModelChoice::OpenAiChat { model: model()? }),
            "anthropic" => Ok(ModelChoice::Anthropic { model: model()? }),
            "openai-responses" => Ok(ModelChoice::OpenAiResponses { model: model()? }),
            "openai-compatible" | "openai-compatible-legacy" => {
                let (base_url, model) = split_compatible(rest).ok_or_else(|| {
                    config(format!(
                        "`{spec}` is not {prefix}:BASE_URL:MODEL with an http(s) base URL \
                         (e.g. {prefix}:http://127.0.0.1:8000/v1:my-model)"
                    ))
                })?;
                Ok(ModelChoice::OpenAiCompatible {
                    base_url: base_url.to_owned(),
                    model: model.to_owned(),
                    legacy_max_tokens: prefix == "openai-compatible-legacy",
                })
            }
            _ => Err(config(format!(
                "unknown model provider `{prefix}` in `{spec}`; use one of: {FORMS}"
            ))),
        }
    }

    /// The model this choice names. Provider keys are read from their environment variables now;
    /// a missing one is reported by the first request.
    pub fn build(self) -> Result<Box<dyn Model>, ModelError> {
        self.build_limited(None)
    }

    /// [`build`](Self::build), with the most tokens the model may write in a turn, sent under
    /// the name its API knows: `max_completion_tokens` for Chat Completions (`max_tokens` for
    /// `openai-compatible-legacy:`), `max_tokens` for Anthropic, `max_output_tokens` for
    /// Responses. The offline [`TestModel`] writes what it is scripted to and takes no limit.
    ///
    /// ```
    /// use kern_core::model::ModelChoice;
    ///
    /// let choice = ModelChoice::parse("openai-compatible-legacy:http://127.0.0.1:8080/v1:gemma")?;
    /// let model = choice.build_with_max_tokens(256)?;
    /// assert_eq!(model.name(), "openai:gemma");
    /// # Ok::<(), kern_core::ModelError>(())
    /// ```
    pub fn build_with_max_tokens(self, max_tokens: u32) -> Result<Box<dyn Model>, ModelError> {
        self.build_limited(Some(max_tokens))
    }

    fn build_limited(self, max_tokens: Option<u32>) -> Result<Box<dyn Model>, ModelError> {
        fn limit<M>(model: M, max_tokens: Option<u32>, set: fn(M, u32) -> M) -> M {
            match max_tokens {
                Some(n) => set(model, n),
                None => model,
            }
        }
        Ok(match self {
            ModelChoice::Test => Box::new(TestModel::new()),
            ModelChoice::OpenAiChat { model } => Box::new(limit(
                OpenAiChat::new(model),
                max_tokens,
                OpenAiChat::max_tokens,
            )),
            ModelChoice::OpenAiCompatible {
                base_url,
                model,
                legacy_max_tokens,
            } => Box::new(limit(
                OpenAiChat::new(model)
                    .base_url(base_url)
                    .legacy_max_tokens(legacy_max_tokens),
                max_tokens,
                OpenAiChat::max_tokens,
            )),
            ModelChoice::Anthropic { model } => Box::new(limit(
                Anthropic::new(model),
                max_tokens,
                Anthropic::max_tokens,
            )),
            ModelChoice::OpenAiResponses { model } => Box::new(limit(
                OpenAiResponses::new(model),
                max_tokens,
                OpenAiResponses::max_tokens,
            )),
        })
    }

    /// The choice in `KERN_MODEL`; [`ModelChoice::Test`] when it is unset or empty.
    pub fn from_env() -> Result<Self, ModelError> {
        match std::env::var(ENV_VAR) {
            Ok(spec) => ModelChoice::parse(&spec),
            Err(std::env::VarError::NotPresent) => Ok(ModelChoice::Test),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(config(format!("{ENV_VAR} is not valid UTF-8")))
            }
        }
    }
}

/// The model `KERN_MODEL` names (see [`ModelChoice`] for the forms): the offline [`TestModel`]
/// when it is unset, empty or `test`.
///
/// ```no_run
/// use kern_core::Agent;
///
/// let agent = Agent::builder().model(kern_core::model::from_env()?).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_env() -> Result<Box<dyn Model>, ModelError> {
    ModelChoice::from_env()?.build()
}

/// The model `KERN_MODEL` names, or `offline` when it is unset, empty or `test`: a program
/// scripts its offline run (a [`TestModel::calling`] or a
/// [`FunctionModel`](super::FunctionModel)) and still runs against a real model when asked.
///
/// ```
/// use kern_core::{Agent, TestModel};
///
/// // KERN_MODEL unset: the scripted model. KERN_MODEL=openai:gpt-4o-mini: OpenAI.
/// let model = kern_core::model::from_env_or(TestModel::calling(["get_weather"]))?;
/// let agent = Agent::builder().model(model).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_env_or(offline: impl Model) -> Result<Box<dyn Model>, ModelError> {
    match ModelChoice::from_env()? {
        ModelChoice::Test => Ok(Box::new(offline)),
        choice => choice.build(),
    }
}

fn config(message: String) -> ModelError {
    ModelError::Config {
        provider: ENV_VAR.to_owned(),
        message,
    }
}

/// Splits `BASE_URL:MODEL`, reading the URL by its shape (see [`ModelChoice`]).
fn split_compatible(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim();
    let scheme = ["http://", "https://"].into_iter().find(|s| {
        rest.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    })?;
    let mut end = scheme.len();
    let after = &rest[end..];
    let host = if after.starts_with('[') {
        after.find(']')? + 1
    } else {
        after.find([':', '/']).unwrap_or(after.len())
    };
    if host == 0 {
        return None;
    }
    end += host;
    // `:PORT`: digits followed by the path, the model's colon or the end.
    if let Some(port) = rest[end..].strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(port.as_bytes().get(digits), None | Some(b'/' | b':')) {
            end += 1 + digits;
        }
    }
    if rest[end..].starts_with('/') {
        end += rest[end..].find(':').unwrap_or(rest.len() - end);
    }
    let model = rest[end..].strip_prefix(':')?.trim();
    (!model.is_empty()).then_some((&rest[..end], model))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compatible(base_url: &str, model: &str) -> ModelChoice {
        ModelChoice::OpenAiCompatible {
            base_url: base_url.into(),
            model: model.into(),
            legacy_max_tokens: false,
        }
    }

    #[test]
    fn the_offline_default() {
        for spec in ["", "  ", "test", " test\n"] {
            assert_eq!(
                ModelChoice::parse(spec).unwrap(),
                ModelChoice::Test,
                "{spec:?}"
            );
        }
    }

    #[test]
    fn providers_by_prefix() {
        assert_eq!(
            ModelChoice::parse("openai:gpt-4o-mini").unwrap(),
            ModelChoice::OpenAiChat {
                model: "gpt-4o-mini".into()
            }
        );
        assert_eq!(
            ModelChoice::parse("anthropic:claude-sonnet-4-5").unwrap(),
            ModelChoice::Anthropic {
                model: "claude-sonnet-4-5".into()
            }
        );
        assert_eq!(
            ModelChoice::parse("openai-responses:gpt-4.1").unwrap(),
            ModelChoice::OpenAiResponses {
                model: "gpt-4.1".into()
            }
        );
        // The rest is the model, colons and slashes included.
        assert_eq!(
            ModelChoice::parse("openai:ft:gpt-4o-mini:org:custom:id").unwrap(),
            ModelChoice::OpenAiChat {
                model: "ft:gpt-4o-mini:org:custom:id".into()
            }
        );
    }

    #[test]
    fn compatible_servers_with_colons_in_url_and_model() {
        for (spec, base_url, model) in [
            (
                "openai-compatible:http://127.0.0.1:8000/v1:my-model",
                "http://127.0.0.1:8000/v1",
                "my-model",
            ),
            (
                "openai-compatible:http://localhost:11434/v1:llama3.1:8b",
                "http://localhost:11434/v1",
                "llama3.1:8b",
            ),
            (
                "openai-compatible:https://openrouter.ai/api/v1:meta-llama/llama-3.1-8b-instruct",
                "https://openrouter.ai/api/v1",
                "meta-llama/llama-3.1-8b-instruct",
            ),
            (
                "openai-compatible:http://localhost:8080:qwen2.5:7b",
                "http://localhost:8080",
                "qwen2.5:7b",
            ),
            (
                "openai-compatible:http://gpu-box:llama3",
                "http://gpu-box",
                "llama3",
            ),
            (
                "openai-compatible:http://[::1]:8000/v1:m:q4",
                "http://[::1]:8000/v1",
                "m:q4",
            ),
            ("openai-compatible:http://h:7b", "http://h", "7b"),
            ("openai-compatible:http://h:80:8000", "http://h:80", "8000"),
            ("openai-compatible:HTTPS://h/v1/:m", "HTTPS://h/v1/", "m"),
        ] {
            assert_eq!(
                ModelChoice::parse(spec).unwrap(),
                compatible(base_url, model),
                "{spec}"
            );
        }
    }

    #[test]
    fn the_legacy_form_chooses_max_tokens() {
        for (spec, base_url, model) in [
            (
                "openai-compatible-legacy:http://127.0.0.1:8080/v1:gemma-3-270m",
                "http://127.0.0.1:8080/v1",
                "gemma-3-270m",
            ),
            (
                " openai-compatible-legacy:http://localhost:11434/v1:llama3.1:8b ",
                "http://localhost:11434/v1",
                "llama3.1:8b",
            ),
        ] {
            assert_eq!(
                ModelChoice::parse(spec).unwrap(),
                ModelChoice::OpenAiCompatible {
                    base_url: base_url.into(),
                    model: model.into(),
                    legacy_max_tokens: true,
                },
                "{spec}"
            );
        }
        for spec in [
            "openai-compatible-legacy:",
            "openai-compatible-legacy:my-model",
            "openai-compatible-legacy:http://localhost:8000/v1:",
        ] {
            match ModelChoice::parse(spec) {
                Err(ModelError::Config { message, .. }) => {
                    assert!(
                        message.contains("openai-compatible-legacy:BASE_URL:MODEL"),
                        "{spec}: {message}"
                    );
                }
                other => panic!("{spec}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_specs_are_config_errors_listing_the_forms() {
        for spec in [
            "gpt-4o",
            "gemini:pro",
            "openai:",
            "anthropic:  ",
            "openai-compatible:",
            "openai-compatible:my-model",
            "openai-compatible:http://localhost:8000/v1",
            "openai-compatible:http://localhost:8000/v1:",
            "openai-compatible:ftp://h/v1:m",
            "openai-compatible:http://:m",
            "openai-compatible:http://[::1:m",
        ] {
            match ModelChoice::parse(spec) {
                Err(ModelError::Config { provider, message }) => {
                    assert_eq!(provider, "KERN_MODEL");
                    assert!(message.contains("openai-compatible:"), "{spec}: {message}");
                }
                other => panic!("{spec}: {other:?}"),
            }
        }
    }

    #[test]
    fn choices_build_models() {
        assert_eq!(ModelChoice::Test.build().unwrap().name(), "test");
        let chat = ModelChoice::parse("openai:gpt-4o-mini")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(chat.name(), "openai:gpt-4o-mini");
        let local = compatible("http://127.0.0.1:1/v1", "llama3.1:8b")
            .build()
            .unwrap();
        assert_eq!(local.name(), "openai:llama3.1:8b");
        let responses = ModelChoice::OpenAiResponses { model: "m".into() }
            .build()
            .unwrap();
        assert_eq!(responses.name(), "openai-responses:m");
        let anthropic = ModelChoice::Anthropic { model: "m".into() }
            .build()
            .unwrap();
        assert_eq!(anthropic.name(), "anthropic:m");
    }
}
