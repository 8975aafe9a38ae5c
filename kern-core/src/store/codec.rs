//! How a stored run is checked when it is read back: the one place that decides whether stored
//! data is a run this kern can continue.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::run::{MIN_SCHEMA_VERSION, RunOutput, RunStatus, SCHEMA_VERSION};

/// Refuses a run whose layout version is not one this kern reads (from [`MIN_SCHEMA_VERSION`]
/// to [`SCHEMA_VERSION`]).
pub(crate) fn check_schema_version(run_id: &str, found: u32) -> Result<()> {
    if (MIN_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&found) {
        Ok(())
    } else {
        Err(Error::UnsupportedSchemaVersion {
            run_id: run_id.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        })
    }
}

/// A run read back, in this kern's layout: an older layout's run is brought up to date (the
/// fields a later version added are empty in it, which is what they mean there), so it is
/// written back in the current layout.
pub(crate) fn upgrade(mut run: RunOutput) -> RunOutput {
    run.schema_version = SCHEMA_VERSION;
    run
}

/// A run as JSON, for a store that keeps bytes.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn encode_run(run: &RunOutput) -> Result<String> {
    // A `RunOutput` is plain data (strings, numbers, JSON values): serializing it cannot fail,
    // but a typed error is cheaper than an argument about it.
    serde_json::to_string(run).map_err(|e| Error::store(format!("encode run `{}`", run.run_id), e))
}

/// Reads a run stored (as JSON) under `run_id`.
///
/// Bad JSON, JSON of the wrong shape, or a run that names another id is
/// [`Error::CorruptRun`]; a layout version this kern does not read is
/// [`Error::UnsupportedSchemaVersion`] (also when the data does not fit today's layout, as a newer
/// layout may not).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn decode_run(run_id: &str, data: &[u8]) -> Result<RunOutput> {
    match serde_json::from_slice::<RunOutput>(data) {
        Ok(run) => {
            check_schema_version(run_id, run.schema_version)?;
            if run.run_id != run_id {
                return Err(corrupt(
                    run_id,
                    format!("its data names run `{}`", run.run_id),
                ));
            }
            Ok(upgrade(run))
        }
        Err(error) => {
            /// The one field every layout version has.
            #[derive(Deserialize)]
            struct Header {
                schema_version: u32,
            }
            if let Ok(header) = serde_json::from_slice::<Header>(data) {
                check_schema_version(run_id, header.schema_version)?;
            }
            Err(corrupt(run_id, format!("its data is not a run: {error}")))
        }
    }
}

/// A status as SQL stores keep it in their `status` column (its serde name).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "running",
        RunStatus::Paused => "paused",
        RunStatus::Completed => "completed",
        RunStatus::TurnLimitReached => "turn_limit_reached",
        RunStatus::Failed => "failed",
    }
}

/// The tools a run waits on ([`waiting_tools`](super::fleet::waiting_tools)), each once, in
/// order: what SQL stores keep in their `tool_names` column.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn tool_names(run: &RunOutput) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in super::fleet::waiting_tools(run) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The lease expiry of a run, for a SQL column (a millisecond count past `i64` is the far
/// future).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn lease_expiry_ms(run: &RunOutput) -> Option<i64> {
    run.lease
        .as_ref()
        .map(|l| i64::try_from(l.expires_at_ms).unwrap_or(i64::MAX))
}

/// An [`Error::CorruptRun`].
pub(crate) fn corrupt(run_id: &str, reason: impl Into<String>) -> Error {
    Error::CorruptRun {
        run_id: run_id.to_owned(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::paused_run;

    #[test]
    fn a_run_round_trips() {
        let run = paused_run("r1", "s1");
        let json = encode_run(&run).unwrap();
        assert_eq!(decode_run("r1", json.as_bytes()).unwrap(), run);
    }

    #[test]
    fn bad_json_is_a_corrupt_run_naming_it() {
        for data in [
            &b"{not json"[..],
            b"",
            b"42",
            b"[]",
            b"{\"schema_version\":1}",
            b"\xff\xfe",
        ] {
            match decode_run("r1", data) {
                Err(Error::CorruptRun { run_id, reason }) => {
                    assert_eq!(run_id, "r1");
                    assert!(reason.contains("not a run"), "{reason}");
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(data)),
            }
        }
    }

    #[test]
    fn a_run_stored_under_another_id_is_corrupt() {
        let json = encode_run(&paused_run("r1", "s1")).unwrap();
        match decode_run("r2", json.as_bytes()) {
            Err(Error::CorruptRun { run_id, reason }) => {
                assert_eq!(run_id, "r2");
                assert!(reason.contains("`r1`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_schema_version_is_named_whatever_the_shape() {
        let mut run = paused_run("r1", "s1");
        run.schema_version = SCHEMA_VERSION + 1;
        let same_shape = encode_run(&run).unwrap();
        let other_shape = format!(
            "{{\"schema_version\":{},\"id\":\"r1\",\"turns\":[]}}",
            SCHEMA_VERSION + 1
        );
        for data in [same_shape, other_shape] {
            match decode_run("r1", data.as_bytes()) {
                Err(Error::UnsupportedSchemaVersion {
                    run_id,
                    found,
                    supported,
                }) => {
                    assert_eq!(run_id, "r1");
                    assert_eq!(found, SCHEMA_VERSION + 1);
                    assert_eq!(supported, SCHEMA_VERSION);
                }
                other => panic!("{data}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_version_1_run_is_read_and_brought_up_to_date() {
        let mut run = paused_run("r1", "s1");
        run.schema_version = 1;
        let mut json: serde_json::Value = serde_json::from_str(&encode_run(&run).unwrap()).unwrap();
        // Version 1 had no pause token, and its requirements named no run or pause.
        let object = json.as_object_mut().unwrap();
        object.remove("pause_id");
        for requirement in object["requirements"].as_array_mut().unwrap() {
            let requirement = requirement.as_object_mut().unwrap();
            requirement.remove("run_id");
            requirement.remove("pause_id");
        }
        let read = decode_run("r1", json.to_string().as_bytes()).unwrap();
        assert_eq!(read.schema_version, SCHEMA_VERSION);
        assert_eq!(read.pause_id, "");
        assert!(read.requirements.iter().all(|r| r.run_id.is_empty()));
        assert_eq!(read.messages, run.messages);
    }

    #[test]
    fn status_texts_are_the_serde_names() {
        for status in [
            RunStatus::Running,
            RunStatus::Paused,
            RunStatus::Completed,
            RunStatus::TurnLimitReached,
            RunStatus::Failed,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status_text(status))
            );
        }
    }

    #[test]
    fn the_current_schema_version_passes() {
        assert!(check_schema_version("r", SCHEMA_VERSION).is_ok());
        assert!(check_schema_version("r", 1).is_ok());
        assert!(matches!(
            check_schema_version("r", 0),
            Err(Error::UnsupportedSchemaVersion { found: 0, .. })
        ));
    }
}
