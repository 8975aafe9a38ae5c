//! The checks `continue_run` makes before it changes anything.

use crate::error::{Error, Result};
use crate::requirement::{Requirement, RequirementKind};
use crate::run::{RunOutput, RunStatus};

/// Checks the requirements passed back for a paused run. On success, pairs every requirement of
/// the pause (in the pause's order) with the one passed back for it.
///
/// With `has_executor`, an external requirement may come back unresolved: the executor gets it.
pub(crate) fn validate<'a>(
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
    let stored_index = |id: &str| {
        run.requirements
            .iter()
            .position(|r| r.tool_execution.tool_call_id == id)
    };
    let mut matched: Vec<Option<&Requirement>> = vec![None; run.requirements.len()];
    for req in passed {
        let id = &req.tool_execution.tool_call_id;
        let Some(index) = stored_index(id) else {
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
    }
    Ok(pairs)
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
