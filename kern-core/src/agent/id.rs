//! Run, session and pause ids: UUID version 7 (RFC 9562), as text. They begin with the time of
//! their making in milliseconds, so they sort by creation time (a database index on them stays
//! append-mostly), and carry 74 random bits, so ids made by many processes do not collide.

use uuid::Uuid;

fn new_id() -> String {
    Uuid::now_v7().hyphenated().to_string()
}

/// A new run id.
pub(crate) fn new_run_id() -> String {
    new_id()
}

/// A new session id.
pub(crate) fn new_session_id() -> String {
    new_id()
}

/// A new pause token ([`RunOutput::pause_id`](crate::RunOutput::pause_id)).
pub(crate) fn new_pause_id() -> String {
    new_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_and_sort_by_creation() {
        let ids: Vec<String> = (0..1000).map(|_| new_run_id()).collect();
        for id in &ids {
            let parsed = Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 7, "{id}");
            assert_eq!(id.len(), 36);
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            sorted, ids,
            "ids made one after the other sort in that order"
        );
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }
}
