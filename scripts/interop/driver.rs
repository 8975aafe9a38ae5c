//! The interop suite's driver: kern's providers against servers kern's authors did not write.
//! `scripts/interop.sh` starts the servers and runs it; it is no example to run by hand offline
//! (it needs those servers), so it lives here and not under `examples/`.
//!
//! ```text
//! cargo run --example interop -- litellm BASE_URL
//!     OpenAiChat, Anthropic and OpenAiResponses through LiteLLM's proxy at BASE_URL (which
//!     forwards to the suite's scripted upstream): a plain and a streamed answer, and a
//!     pause -> external result -> continue cycle, plain and streamed, for each.
//! cargo run --example interop -- llama BASE_URL MODEL
//!     OpenAiChat against llama-cpp-python's server at BASE_URL serving MODEL: plain and
//!     streamed chat, and the token limit under both of its names.
//! ```
//!
//! Every request goes to `BASE_URL/_case/<case>/...`: the suite's recording proxy takes the case
//! from there, keeps the body for the SDK validation and forwards the rest of the path. One line
//! is printed for each case, `PASS <case> <detail>` or `FAIL <case> <reason>` (and `INFO` for a
//! measurement that is no assertion); the exit status is 1 when a case failed, 2 on bad usage.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kern::model::{ModelChoice, ModelEvent};
use kern::prelude::*;
use kern::{ModelRequest, RunStream};
use serde_json::json;

/// What the scripted upstream answers a request without tools (`upstream.py`).
const PLAIN_ANSWER: &str = "pong from the scripted upstream";
/// The argument the scripted upstream passes for each required property.
const UPSTREAM_ARGUMENT: &str = "A-17";
/// What the host answers for the external tool; the upstream repeats it back.
const EXTERNAL_RESULT: &str = "shipped on 2026-12-01, parcel 42";
/// The most one case may take (a request to a 270M model on two cores included).
const CASE_TIMEOUT: Duration = Duration::from_secs(180);
/// The small limit the llama limit cases send.
const SMALL_LIMIT: u32 = 8;
/// The limit of the llama chat cases.
const CHAT_LIMIT: u32 = 24;

/// Look up the shipping state of an order. The host does it, outside the agent.
///
/// # Arguments
/// * `order_id` - The order's id, like A-17
#[tool(external_execution)]
fn lookup_order(order_id: String) -> Result<String, ToolError> {
    Err(ToolError::new(format!(
        "order {order_id}: only the host can look orders up"
    )))
}

#[derive(Clone, Copy, Debug)]
enum Provider {
    Chat,
    Messages,
    Responses,
}

impl Provider {
    fn label(self) -> &'static str {
        match self {
            Provider::Chat => "openai-chat",
            Provider::Messages => "anthropic",
            Provider::Responses => "openai-responses",
        }
    }

    /// The provider at LiteLLM, named by the model entries of `litellm.yaml`.
    fn through_litellm(self, base: &str) -> Box<dyn Model> {
        let quick = |t| Duration::from_secs(t);
        match self {
            Provider::Chat => Box::new(
                OpenAiChat::new("kern-chat")
                    .base_url(format!("{base}/v1"))
                    .api_key("sk-interop")
                    .max_retries(0)
                    .timeout(quick(60)),
            ),
            Provider::Messages => Box::new(
                Anthropic::new("kern-messages")
                    .base_url(base)
                    .api_key("sk-interop")
                    .max_tokens(256)
                    .max_retries(0)
                    .timeout(quick(60)),
            ),
            Provider::Responses => Box::new(
                OpenAiResponses::new("kern-responses")
                    .base_url(format!("{base}/v1"))
                    .api_key("sk-interop")
                    .max_retries(0)
                    .timeout(quick(60)),
            ),
        }
    }
}

/// The outcome of one case: a detail on success, the reason on failure.
type Outcome = std::result::Result<String, String>;

#[derive(Default)]
struct Report {
    failed: usize,
}

impl Report {
    async fn case<F: Future<Output = Outcome>>(&mut self, name: &str, case: F) {
        let start = Instant::now();
        let outcome = match tokio::time::timeout(CASE_TIMEOUT, case).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no answer within {} s", CASE_TIMEOUT.as_secs())),
        };
        let took = start.elapsed().as_secs_f32();
        match outcome {
            Ok(detail) => println!("PASS {name} ({took:.1} s) {detail}"),
            Err(reason) => {
                self.failed += 1;
                println!("FAIL {name} ({took:.1} s) {reason}");
            }
        }
    }
}

/// `Err` with `what` unless `ok`.
fn check(ok: bool, what: impl FnOnce() -> String) -> std::result::Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

fn agent(model: Box<dyn Model>, with_tool: bool) -> std::result::Result<Agent, String> {
    let builder = Agent::builder()
        .model(model)
        .instructions("You are terse.")
        .max_turns(4);
    let builder = if with_tool {
        builder.tool(lookup_order)
    } else {
        builder
    };
    builder.build().map_err(|e| format!("agent: {e}"))
}

/// Checks the pause (one external call of `lookup_order` with the upstream's argument) and
/// resolves it with the external result.
fn resolve(run: &mut RunOutput) -> std::result::Result<(), String> {
    let active: Vec<_> = run.active_requirements().collect();
    check(active.len() == 1, || {
        format!("{} requirements, expected 1", active.len())
    })?;
    let call = &active[0].tool_execution;
    check(active[0].is_external_tool_execution(), || {
        "the requirement is not an external execution".into()
    })?;
    check(call.tool_name == "lookup_order", || {
        format!("the paused call is `{}`", call.tool_name)
    })?;
    check(
        call.tool_args == json!({ "order_id": UPSTREAM_ARGUMENT }),
        || format!("the paused call's arguments are {}", call.tool_args),
    )?;
    for req in run.active_requirements_mut() {
        req.set_external_execution_result(Ok::<_, ToolError>(EXTERNAL_RESULT.to_owned()));
    }
    Ok(())
}

// The only two calls that continue a run, so a change of `continue_run`'s or
// `continue_run_stream`'s signature is an edit here and nowhere else.

/// Continues a resolved run.
async fn continue_plain(agent: &Agent, run: RunOutput) -> kern::Result<RunOutput> {
    agent.continue_run(&run.run_id, run.requirements).await
}

/// Continues a resolved run, streamed.
fn continue_streamed(agent: &Agent, run: RunOutput) -> RunStream {
    agent.continue_run_stream(&run.run_id, run.requirements)
}

/// The events of a streamed run: its text pieces and the run it ended with.
async fn drain(mut stream: RunStream) -> std::result::Result<(Vec<String>, RunOutput), String> {
    let mut deltas = Vec::new();
    while let Some(event) = stream.next().await {
        match event.map_err(|e| format!("stream: {e}"))? {
            RunEvent::ContentDelta(delta) => deltas.push(delta),
            RunEvent::Paused(run) | RunEvent::Completed(run) => return Ok((deltas, *run)),
            _ => {}
        }
    }
    Err("the stream ended without a Paused or Completed event".into())
}

fn completed_with(run: &RunOutput, expected: &str) -> std::result::Result<(), String> {
    check(run.status == RunStatus::Completed, || {
        format!("status {} ({:?})", run.status, run.error)
    })?;
    check(run.content.as_deref() == Some(expected), || {
        format!("content {:?}, expected {expected:?}", run.content)
    })?;
    check(run.metrics.usage.output_tokens > 0, || {
        "no output tokens reported".into()
    })
}

fn streamed_pieces(deltas: &[String], run: &RunOutput) -> std::result::Result<(), String> {
    check(deltas.len() >= 2, || {
        format!("{} content deltas, expected several", deltas.len())
    })?;
    check(
        Some(deltas.concat().as_str()) == run.content.as_deref(),
        || {
            format!(
                "the deltas {:?} do not make the content {:?}",
                deltas.concat(),
                run.content
            )
        },
    )
}

async fn litellm_plain(model: Box<dyn Model>) -> Outcome {
    let run = agent(model, false)?
        .run("Say pong.")
        .await
        .map_err(|e| format!("run: {e}"))?;
    completed_with(&run, PLAIN_ANSWER)?;
    Ok(format!("usage {:?}", run.metrics.usage))
}

async fn litellm_stream(model: Box<dyn Model>) -> Outcome {
    let (deltas, run) = drain(agent(model, false)?.run_stream("Say pong.")).await?;
    completed_with(&run, PLAIN_ANSWER)?;
    streamed_pieces(&deltas, &run)?;
    Ok(format!(
        "{} deltas, usage {:?}",
        deltas.len(),
        run.metrics.usage
    ))
}

async fn litellm_pause(model: Box<dyn Model>) -> Outcome {
    let agent = agent(model, true)?;
    let mut run = agent
        .run("Where is order A-17?")
        .await
        .map_err(|e| format!("run: {e}"))?;
    check(run.is_paused(), || {
        format!(
            "status {} ({:?}), content {:?}",
            run.status, run.error, run.content
        )
    })?;
    resolve(&mut run)?;
    let run = continue_plain(&agent, run)
        .await
        .map_err(|e| format!("continue: {e}"))?;
    completed_with(&run, &format!("The tool said: {EXTERNAL_RESULT}"))?;
    Ok(format!("{} turns", run.metrics.turns))
}

async fn litellm_pause_stream(model: Box<dyn Model>) -> Outcome {
    let agent = agent(model, true)?;
    let (_, mut run) = drain(agent.run_stream("Where is order A-17?")).await?;
    check(run.is_paused(), || {
        format!(
            "status {} ({:?}), content {:?}",
            run.status, run.error, run.content
        )
    })?;
    resolve(&mut run)?;
    let (deltas, run) = drain(continue_streamed(&agent, run)).await?;
    completed_with(&run, &format!("The tool said: {EXTERNAL_RESULT}"))?;
    streamed_pieces(&deltas, &run)?;
    Ok(format!("{} deltas after the pause", deltas.len()))
}

async fn litellm(base: &str) -> Report {
    let mut report = Report::default();
    for provider in [Provider::Chat, Provider::Messages, Provider::Responses] {
        let p = provider.label();
        let at = |case: &str| {
            let name = format!("litellm.{p}.{case}");
            let model = provider.through_litellm(&format!("{base}/_case/{name}"));
            (name, model)
        };
        let (name, model) = at("plain");
        report.case(&name, litellm_plain(model)).await;
        let (name, model) = at("stream");
        report.case(&name, litellm_stream(model)).await;
        let (name, model) = at("pause-continue");
        report.case(&name, litellm_pause(model)).await;
        let (name, model) = at("pause-continue-stream");
        report.case(&name, litellm_pause_stream(model)).await;
    }
    report
}

/// A model at llama-cpp-python's server, the token limit sent as `max_tokens` (`legacy`) or
/// `max_completion_tokens`; greedy, so that a case sees the same answer each run.
fn llama_model(base: &str, case: &str, model: &str, legacy: bool, limit: u32) -> OpenAiChat {
    OpenAiChat::new(model)
        .base_url(format!("{base}/_case/{case}/v1"))
        .legacy_max_tokens(legacy)
        .max_tokens(limit)
        .temperature(0.0)
        .max_retries(0)
        .timeout(Duration::from_secs(150))
}

/// Plain or streamed chat: a non-empty answer, within the limit.
async fn llama_chat(model: OpenAiChat, stream: bool) -> Outcome {
    let agent = agent(Box::new(model), false)?;
    let prompt = "Name one colour.";
    let (deltas, run) = if stream {
        drain(agent.run_stream(prompt)).await?
    } else {
        let run = agent.run(prompt).await.map_err(|e| format!("run: {e}"))?;
        (Vec::new(), run)
    };
    check(run.status == RunStatus::Completed, || {
        format!("status {} ({:?})", run.status, run.error)
    })?;
    let content = run.content.clone().unwrap_or_default();
    check(!content.trim().is_empty(), || "an empty answer".into())?;
    let tokens = run.metrics.usage.output_tokens;
    if stream {
        // llama-cpp-python sends no usage in a stream, `include_usage` or not: the pieces
        // are what there is to check.
        check(!deltas.is_empty(), || "no content deltas".into())?;
        check(deltas.concat() == content, || {
            "the deltas do not make the content".into()
        })?;
    } else {
        check(tokens > 0 && tokens <= u64::from(CHAT_LIMIT), || {
            format!("{tokens} output tokens under a limit of {CHAT_LIMIT}")
        })?;
    }
    Ok(format!(
        "{} pieces, {tokens} output tokens reported, answer {:?}",
        deltas.len(),
        content.chars().take(32).collect::<String>()
    ))
}

/// What the long prompt of the limit cases asks.
const LONG_PROMPT: &str = "Count from 1 to 100, separated by commas.";

/// One turn of the long prompt: the output tokens reported and the answer's length.
async fn long_turn(model: &dyn Model) -> std::result::Result<(u64, usize), String> {
    let messages = [Message::user(LONG_PROMPT)];
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &[],
    };
    let response = model
        .invoke(request)
        .await
        .map_err(|e| format!("turn: {e}"))?;
    let chars = response.content.as_deref().map_or(0, str::len);
    Ok((response.usage.output_tokens, chars))
}

/// The streamed pieces of the long prompt, up to `stop_after` of them: their count, and whether
/// the stream completed.
async fn long_stream(
    model: &dyn Model,
    stop_after: usize,
) -> std::result::Result<(usize, bool), String> {
    let messages = [Message::user(LONG_PROMPT)];
    let request = ModelRequest {
        instructions: None,
        messages: &messages,
        tools: &[],
    };
    let mut events = model.invoke_stream(request);
    let mut pieces = 0;
    while let Some(event) = events.next().await {
        match event.map_err(|e| format!("stream: {e}"))? {
            ModelEvent::ContentDelta(_) => {
                pieces += 1;
                if pieces >= stop_after {
                    return Ok((pieces, false));
                }
            }
            ModelEvent::Completed(_) => return Ok((pieces, true)),
        }
    }
    Err("the stream ended without its completed turn".into())
}

/// The legacy naming chosen the way a program chooses it, from a `KERN_MODEL` spec: the
/// server honours the limit.
async fn llama_limit_from_spec(spec: String) -> Outcome {
    let model = ModelChoice::parse(&spec)
        .and_then(|choice| choice.build_with_max_tokens(SMALL_LIMIT))
        .map_err(|e| format!("{spec}: {e}"))?;
    let (tokens, chars) = long_turn(model.as_ref()).await?;
    check(tokens > 0 && tokens <= u64::from(SMALL_LIMIT), || {
        format!("{tokens} output tokens ({chars} bytes) under a limit of {SMALL_LIMIT}")
    })?;
    Ok(format!(
        "{spec}: {tokens} output tokens ({chars} bytes) under a limit of {SMALL_LIMIT}"
    ))
}

/// Streamed, the pieces (one a token at this server) stay within the limit.
async fn llama_limit_stream(model: OpenAiChat) -> Outcome {
    let (pieces, completed) = long_stream(&model, SMALL_LIMIT as usize + 8).await?;
    check(completed, || {
        format!("{pieces} pieces and still going under a limit of {SMALL_LIMIT}")
    })?;
    check(pieces > 0 && pieces <= SMALL_LIMIT as usize, || {
        format!("{pieces} pieces under a limit of {SMALL_LIMIT}")
    })?;
    Ok(format!("{pieces} pieces under a limit of {SMALL_LIMIT}"))
}

async fn llama(base: &str, model: &str) -> Report {
    let mut report = Report::default();
    let name = |case: &str| format!("llama.openai-chat.{case}");
    let at = |case: &str, legacy, limit| llama_model(base, &name(case), model, legacy, limit);
    report
        .case(
            &name("plain"),
            llama_chat(at("plain", true, CHAT_LIMIT), false),
        )
        .await;
    report
        .case(
            &name("stream"),
            llama_chat(at("stream", true, CHAT_LIMIT), true),
        )
        .await;
    let spec = format!(
        "openai-compatible-legacy:{base}/_case/{}/v1:{model}",
        name("max-tokens")
    );
    report
        .case(&name("max-tokens"), llama_limit_from_spec(spec))
        .await;
    report
        .case(
            &name("max-tokens-stream"),
            llama_limit_stream(at("max-tokens-stream", true, SMALL_LIMIT)),
        )
        .await;
    // What the legacy naming is for: the same limit under the current name. A measurement for
    // the report (does this server honour it?), not an assertion; the stream is dropped once it
    // is past the limit.
    let case = name("max-completion-tokens");
    let current = at("max-completion-tokens", false, SMALL_LIMIT);
    let stop_after = SMALL_LIMIT as usize + 8;
    match tokio::time::timeout(CASE_TIMEOUT, long_stream(&current, stop_after)).await {
        Ok(Ok((pieces, true))) => println!(
            "INFO {case} max_completion_tokens={SMALL_LIMIT} honoured: the stream ended after {pieces} pieces"
        ),
        Ok(Ok((pieces, false))) => println!(
            "INFO {case} max_completion_tokens={SMALL_LIMIT} ignored: {pieces} pieces and still going, dropped"
        ),
        Ok(Err(e)) => println!("INFO {case} not measured: {e}"),
        Err(_) => println!("INFO {case} not measured: no answer in time"),
    }
    report
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let report = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["litellm", base] => litellm(base.trim_end_matches('/')).await,
        ["llama", base, model] => llama(base.trim_end_matches('/'), model).await,
        _ => {
            eprintln!(
                "usage: interop litellm BASE_URL | interop llama BASE_URL MODEL \
                 (run by scripts/interop.sh, which starts the servers)"
            );
            std::process::exit(2);
        }
    };
    std::process::exit(i32::from(report.failed > 0));
}
