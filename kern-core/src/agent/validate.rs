//! The checks `continue_run` makes before it changes anything.

use serde_json::{Map, Value};

use super::Inner;
use crate::error::{Error, Result};
use crate::requirement::{Confirmation, Requirement, RequirementKind};
use crate::run::{RunOutput, RunStatus};
use crate::tool::{ToolDefinition, ToolError};

/// Checks the requirements passed back for a paused run. On success, pairs every requirement of
/// the pause (in the pause's order) with the one passed back for it.
///
/// Checked, in order: the run is paused; every requirement passed back is bound to this run and
/// this pause; each names a call of the pause, once; none is missing; each is resolved as its
/// kind allows, with the call's arguments unchanged; the arguments the host supplied (user input,
/// [`Requirement::approve_with_args`]) fit the tool.
///
/// With `has_executor`, an external requirement may come back unresolved: the executor gets it.
pub(crate) fn validate<'a>(
    inner: &Inner,
    run: &'a RunOutput,
    passed: &'a [Requirement],
    has_executor: bool,
) -> Result<Vec<(&'a Requirement, &'a Requirement)>> {
    let run_id = &run.run_id;
    if run.status != RunStatus::Paused {
        return Err(Error::RunNotPaused {
            run_id: run_id.clone(),
            status: run.status,
        });
    }
    for req in passed {
        if let Some(reason) = binding_problem(run, req) {
            return Err(Error::StaleRequirement {
                run_id: run_id.clone(),
                tool_call_id: req.tool_execution.tool_call_id.clone(),
                reason,
            });
        }
    }
    // Call ids are unique within a run; the index makes matching linear.
    let index: std::collections::HashMap<&str, usize> = run
        .requirements
        .iter()
        .enumerate()
        .map(|(i, r)| (r.tool_execution.tool_call_id.as_str(), i))
        .collect();
    let mut matched: Vec<Option<&Requirement>> = vec![None; run.requirements.len()];
    for req in passed {
        let id = &req.tool_execution.tool_call_id;
        let Some(&index) = index.get(id.as_str()) else {
            return Err(Error::UnknownToolCall {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
            });
        };
        if matched[index].replace(req).is_some() {
            return Err(Error::DuplicateRequirement {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
            });
        }
    }
    let mut pairs = Vec::with_capacity(run.requirements.len());
    for (stored, passed) in run.requirements.iter().zip(&matched) {
        let Some(passed) = passed else {
            return Err(Error::MissingRequirement {
                run_id: run_id.clone(),
                tool_call_id: stored.tool_execution.tool_call_id.clone(),
                tool_name: stored.tool_execution.tool_name.clone(),
            });
        };
        pairs.push((stored, *passed));
    }
    for (stored, passed) in &pairs {
        check_resolution(run_id, stored, passed, has_executor)?;
        check_supplied_args(inner, run_id, stored, passed)?;
    }
    Ok(pairs)
}

/// Why a requirement passed back is not one of the run's current pause; `None` when it is.
///
/// A requirement that names no run and no pause is accepted only for a pause that has no token
/// (one stored by a kern of layout version 1, whose requirements carried none).
fn binding_problem(run: &RunOutput, req: &Requirement) -> Option<String> {
    if req.run_id.is_empty() && req.pause_id.is_empty() && run.pause_id.is_empty() {
        return None;
    }
    if req.run_id != run.run_id {
        return Some(if req.run_id.is_empty() {
            "it names no run (requirements come from the paused run)".to_owned()
        } else {
            format!("it belongs to run `{}`", req.run_id)
        });
    }
    if req.pause_id != run.pause_id {
        return Some(format!(
            "it belongs to pause `{}`, and the run is paused at `{}`",
            req.pause_id, run.pause_id
        ));
    }
    None
}

fn check_resolution(
    run_id: &str,
    stored: &Requirement,
    passed: &Requirement,
    has_executor: bool,
) -> Result<()> {
    let exec = &stored.tool_execution;
    let invalid = |problem: &str| Error::InvalidResolution {
        run_id: run_id.to_owned(),
        tool_call_id: exec.tool_call_id.clone(),
        tool_name: exec.tool_name.clone(),
        problem: problem.to_owned(),
    };
    if passed.tool_execution.tool_name != exec.tool_name {
        return Err(invalid(&format!(
            "names tool `{}`, but the paused call is of `{}`",
            passed.tool_execution.tool_name, exec.tool_name
        )));
    }
    if passed.tool_execution.tool_args != exec.tool_args {
        return Err(invalid(
            "came back with other `tool_args` than the call was paused with; to run a confirmed \
             call with other arguments, use `approve_with_args`",
        ));
    }
    let has_result = passed.tool_execution.result.is_some();
    let has_confirmation = passed.confirmation.is_some();
    match (&stored.kind, &passed.kind) {
        (RequirementKind::ExternalExecution, RequirementKind::ExternalExecution) => {
            if has_confirmation {
                return Err(invalid(
                    "was confirmed or rejected, but it is an external execution: set its result",
                ));
            }
            if !has_result && has_executor {
                return Ok(());
            }
        }
        (RequirementKind::Confirmation, RequirementKind::Confirmation) => {
            if has_result {
                return Err(invalid(
                    "was given a result, but it needs a confirmation: confirm or reject it",
                ));
            }
        }
        (RequirementKind::UserInput { fields: asked }, RequirementKind::UserInput { fields }) => {
            if has_result || has_confirmation {
                return Err(invalid(
                    "was given a result or a confirmation, but it needs user input: set its fields",
                ));
            }
            let same_fields = asked.len() == fields.len()
                && asked
                    .iter()
                    .all(|a| fields.iter().filter(|f| f.name == a.name).count() == 1);
            if !same_fields {
                return Err(invalid(
                    "came back with other user input fields than the pause asked for",
                ));
            }
        }
        _ => return Err(invalid("came back as another kind of requirement")),
    }
    if let Some(needs) = passed.unresolved_reason() {
        return Err(Error::UnresolvedRequirement {
            run_id: run_id.to_owned(),
            tool_call_id: exec.tool_call_id.clone(),
            tool_name: exec.tool_name.clone(),
            needs: needs
                .strip_prefix("it needs ")
                .map(str::to_owned)
                .unwrap_or(needs),
        });
    }
    Ok(())
}

/// The arguments a resolution makes the agent run the call with, when the host supplied some
/// (user input merged into the model's arguments, or the arguments of `approve_with_args`);
/// `None` when the call runs with the arguments it was paused with, or does not run.
pub(crate) fn supplied_args(stored: &Requirement, passed: &Requirement) -> Option<Value> {
    match (&stored.kind, &passed.confirmation) {
        (RequirementKind::Confirmation, Some(Confirmation::ConfirmedWithArgs { tool_args })) => {
            Some(tool_args.clone())
        }
        (RequirementKind::UserInput { .. }, _) => {
            let mut args = match &stored.tool_execution.tool_args {
                Value::Object(args) => args.clone(),
                _ => Map::new(),
            };
            for field in passed.user_input_fields() {
                if let Some(value) = &field.value {
                    args.insert(field.name.clone(), value.clone());
                }
            }
            Some(Value::Object(args))
        }
        _ => None,
    }
}

/// Arguments the host supplied must fit the tool, as a call of the model's must: the required
/// ones there, each of the type the schema names, and accepted by the tool's own check.
fn check_supplied_args(
    inner: &Inner,
    run_id: &str,
    stored: &Requirement,
    passed: &Requirement,
) -> Result<()> {
    let Some(args) = supplied_args(stored, passed) else {
        return Ok(());
    };
    // A tool the agent no longer has is reported to the model when the call runs.
    let Some(tool) = inner.tool(&stored.tool_execution.tool_name) else {
        return Ok(());
    };
    let checked = if args.is_object() {
        missing_required(tool.definition(), &args, &[])
            .and_then(|()| check_types(tool.definition(), &args))
            .and_then(|()| tool.check_args(&args))
    } else {
        Err(ToolError::invalid_arguments("expected a JSON object"))
    };
    checked.map_err(|error| Error::InvalidToolArgs {
        run_id: run_id.to_owned(),
        tool_call_id: stored.tool_execution.tool_call_id.clone(),
        tool_name: stored.tool_execution.tool_name.clone(),
        message: error.message().to_owned(),
    })
}

/// The schema's `required` properties must be in `args`, those named in `exempt` aside.
pub(crate) fn missing_required(
    definition: &ToolDefinition,
    args: &Value,
    exempt: &[String],
) -> Result<(), ToolError> {
    let Some(required) = definition
        .parameters
        .get("required")
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    let missing: Vec<&str> = required
        .iter()
        .filter_map(Value::as_str)
        .filter(|name| !exempt.iter().any(|f| f == name))
        .filter(|name| args.get(name).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ToolError::invalid_arguments(format_args!(
            "missing required argument `{}`",
            missing.join("`, `")
        )))
    }
}

/// The top-level arguments are of the JSON types their schema properties name (a `type` keyword,
/// one name or a list); properties without one are left to the tool's own check.
fn check_types(definition: &ToolDefinition, args: &Value) -> Result<(), ToolError> {
    let (Some(properties), Some(args)) = (
        definition
            .parameters
            .get("properties")
            .and_then(Value::as_object),
        args.as_object(),
    ) else {
        return Ok(());
    };
    for (name, value) in args {
        let Some(allowed) = properties.get(name).and_then(|p| p.get("type")) else {
            continue;
        };
        let fits = |t: &Value| t.as_str().is_none_or(|t| is_of_type(value, t));
        let ok = match allowed {
            Value::Array(types) => types.iter().any(fits),
            one => fits(one),
        };
        if !ok {
            return Err(ToolError::invalid_arguments(format_args!(
                "`{name}` must be of type {allowed}, got {value}"
            )));
        }
    }
    Ok(())
}

fn is_of_type(value: &Value, json_type: &str) -> bool {
    match json_type {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        // An unknown type name: not ours to refuse.
        _ => true,
    }
}

/// Checks requirements a worker stores as progress ([`Agent::save_progress`](crate::Agent)):
/// the run is paused; each requirement is bound to this run and pause, names a call of the
/// pause, once, with its tool and arguments unchanged; one that is resolved is resolved as its
/// kind allows, with supplied arguments that fit the tool. Unlike a continue, any subset may be
/// passed and unresolved ones are fine. On success, the index in the pause of each one passed.
pub(crate) fn validate_progress<'a>(
    inner: &Inner,
    run: &RunOutput,
    passed: &'a [Requirement],
) -> Result<Vec<(usize, &'a Requirement)>> {
    let run_id = &run.run_id;
    if run.status != RunStatus::Paused {
        return Err(Error::RunNotPaused {
            run_id: run_id.clone(),
            status: run.status,
        });
    }
    let mut pairs: Vec<(usize, &Requirement)> = Vec::with_capacity(passed.len());
    for req in passed {
        let id = &req.tool_execution.tool_call_id;
        if let Some(reason) = binding_problem(run, req) {
            return Err(Error::StaleRequirement {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
                reason,
            });
        }
        let Some(index) = run
            .requirements
            .iter()
            .position(|r| r.tool_execution.tool_call_id == *id)
        else {
            return Err(Error::UnknownToolCall {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
            });
        };
        if pairs.iter().any(|(i, _)| *i == index) {
            return Err(Error::DuplicateRequirement {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
            });
        }
        let stored = &run.requirements[index];
        let exec = &stored.tool_execution;
        if req.tool_execution.tool_name != exec.tool_name
            || req.tool_execution.tool_args != exec.tool_args
        {
            return Err(Error::InvalidResolution {
                run_id: run_id.clone(),
                tool_call_id: id.clone(),
                tool_name: exec.tool_name.clone(),
                problem: "came back with another tool or other `tool_args` than the call was \
                          paused with"
                    .to_owned(),
            });
        }
        if req.is_resolved() {
            check_resolution(run_id, stored, req, false)?;
            check_supplied_args(inner, run_id, stored, req)?;
        }
        pairs.push((index, req));
    }
    Ok(pairs)
}
