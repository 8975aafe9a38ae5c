//! The checks every [`RunStore`] must pass (cargo feature `conformance`).
//!
//! A store crate runs them from its tests, against a fresh store or one shared with other tests
//! (every check uses ids of its own):
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn my_store_conforms() {
//!     kern_core::store::conformance::run_all(MyStore::new()).await;
//! }
//! ```
//!
//! The checks are test code: they panic, like `assert!`, naming what the store got wrong. They
//! need a tokio runtime (a multi-thread one, so the concurrency check runs truly in parallel).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::{ClaimRequest, Lease, PageRequest, Retention, RunFilter, RunPage, RunStore, StoredRun};
use crate::error::Error;
use crate::message::{Message, ToolCall};
use crate::model::Usage;
use crate::requirement::{Requirement, RequirementKind, ToolExecution};
use crate::run::{InFlightCall, Metrics, RunOutput, RunStatus, SCHEMA_VERSION};

/// Runs every check of this module against `store`.
pub async fn run_all<S: RunStore + Clone>(store: S) {
    create_then_load_round_trips(&store).await;
    a_claimed_run_with_calls_in_flight_round_trips(&store).await;
    create_twice_is_refused(&store).await;
    update_is_compare_and_set(&store).await;
    conflicting_update_changes_nothing(&store).await;
    update_of_unknown_run_conflicts(&store).await;
    unknown_run_is_not_found(&store).await;
    session_runs_are_grouped_oldest_first(&store).await;
    update_to_another_session_regroups_the_run(&store).await;
    user_id_is_kept(&store).await;
    user_runs_are_grouped_oldest_first(&store).await;
    unsupported_schema_version_is_refused(&store).await;
    stored_times_are_kept(&store).await;
    listing_filters_by_status_user_session_tool_and_age(&store).await;
    listing_pages_through_every_run_once(&store).await;
    a_malformed_cursor_is_a_typed_error(&store).await;
    delete_removes_a_run(&store).await;
    purge_follows_the_policy_and_never_touches_a_running_run(&store).await;
    an_unexpired_lease_is_not_claimable_an_expired_one_is(&store).await;
    a_claim_rebinds_the_requirements_to_a_new_pause(&store).await;
    a_claim_turns_started_unresolved_requirements_into_interrupted_ones(&store).await;
    a_running_run_with_an_expired_lease_is_claimed_reopened(&store).await;
    a_claim_follows_its_filter(&store).await;
    concurrent_claims_of_one_run_one_wins(store.clone()).await;
    concurrent_updates_of_one_version_one_wins(store).await;
}

/// A run paused on one external tool call, as the agent stores it: a system and a user
/// message, the model's turn with two tool calls, the result of the internal one, and the
/// requirement of the external one. Text with non-ASCII characters, to catch encoding slips.
pub fn paused_run(run_id: &str, session_id: &str) -> RunOutput {
    let internal = ToolExecution {
        result: Some("2026-11-21T14:00:00Z".to_owned()),
        ..ToolExecution::new("call_1", "get_time", json!({}))
    };
    let external = ToolExecution::new(
        "call_2",
        "execute_shell_command",
        json!({ "command": "ls -la ~/Übungen" }),
    );
    let pause_id = format!("pause-of-{run_id}");
    let mut requirement = Requirement::new(RequirementKind::ExternalExecution, external);
    requirement.run_id = run_id.to_owned();
    requirement.pause_id.clone_from(&pause_id);
    RunOutput {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        session_id: session_id.to_owned(),
        user_id: None,
        status: RunStatus::Paused,
        content: None,
        messages: vec![
            Message::system("You are a helpful assistant with a shell."),
            Message::user("What files do I have in my current directory? ⚙"),
            Message::assistant(
                Some("Let me look.".to_owned()),
                vec![
                    ToolCall::new("call_1", "get_time", "{}"),
                    ToolCall::new(
                        "call_2",
                        "execute_shell_command",
                        r#"{"command":"ls -la ~/Übungen"}"#,
                    ),
                ],
            ),
            Message::tool_result("call_1", "get_time", "2026-11-21T14:00:00Z"),
        ],
        tool_executions: vec![internal],
        requirements: vec![requirement],
        pause_id,
        in_flight: Vec::new(),
        metrics: Metrics {
            turns: 1,
            tool_calls: 2,
            usage: Usage {
                input_tokens: 120,
                output_tokens: 48,
            },
        },
        error: None,
        lease: None,
    }
}

/// An id no other check (and no earlier run of this one on a persistent store) uses.
fn unique(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{label}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn load_ok(store: &impl RunStore, run_id: &str) -> StoredRun {
    match store.load(run_id).await {
        Ok(stored) => stored,
        Err(error) => panic!("load of run `{run_id}` failed: {error}"),
    }
}

/// A run reads back exactly as it was created, at version 1.
pub async fn create_then_load_round_trips(store: &impl RunStore) {
    let run = paused_run(&unique("round-trip"), &unique("session"));
    assert_eq!(store.create(&run).await.expect("create"), 1);
    let stored = load_ok(store, &run.run_id).await;
    assert_eq!(stored.version, 1, "a created run is at version 1");
    assert_eq!(
        stored.run, run,
        "the run read back differs from the one created"
    );
}

/// A claimed run with a batch of calls in flight (one finished, one started, one waiting, with
/// host-approved arguments recorded) reads back exactly as it was stored: what recovery needs.
pub async fn a_claimed_run_with_calls_in_flight_round_trips(store: &impl RunStore) {
    let mut run = paused_run(&unique("in-flight"), &unique("session"));
    let version = store.create(&run).await.expect("create");
    let waiting = run.requirements.remove(0);
    run.status = RunStatus::Running;
    run.in_flight = vec![
        InFlightCall::Finished {
            execution: ToolExecution {
                result: Some("ok ✓".to_owned()),
                ..ToolExecution::new("call_3", "get_time", json!({}))
            },
        },
        InFlightCall::Started {
            execution: ToolExecution {
                model_args: Some(json!({ "path": "/" })),
                ..ToolExecution::new("call_4", "delete_file", json!({ "path": "/tmp/x" }))
            },
            by_executor: false,
        },
        InFlightCall::Waiting {
            requirement: waiting,
        },
    ];
    let version = store.update(&run, version).await.expect("update");
    let stored = load_ok(store, &run.run_id).await;
    assert_eq!(stored.version, version);
    assert_eq!(
        stored.run, run,
        "a run with calls in flight read back differs"
    );
}

/// A second create of the same id is [`Error::RunExists`] and leaves the first run as it was.
pub async fn create_twice_is_refused(store: &impl RunStore) {
    let run = paused_run(&unique("twice"), &unique("session"));
    store.create(&run).await.expect("first create");
    let mut other = run.clone();
    other.content = Some("another run under the same id".to_owned());
    match store.create(&other).await {
        Err(Error::RunExists { run_id }) => assert_eq!(run_id, run.run_id),
        other => panic!(
            "second create of `{}`: expected RunExists, got {other:?}",
            run.run_id
        ),
    }
    let stored = load_ok(store, &run.run_id).await;
    assert_eq!(stored.run, run, "a refused create changed the stored run");
    assert_eq!(stored.version, 1);
    let session = store.session_runs(&run.session_id).await.expect("session");
    assert_eq!(session, vec![run], "a refused create changed the session");
}

/// An update at the current version applies and returns the next version, again and again.
pub async fn update_is_compare_and_set(store: &impl RunStore) {
    let mut run = paused_run(&unique("cas"), &unique("session"));
    store.create(&run).await.expect("create");
    for expected in 1..=3 {
        run.metrics.turns += 1;
        run.content = Some(format!("turn {}", run.metrics.turns));
        let version = store
            .update(&run, expected)
            .await
            .expect("update at current version");
        assert_eq!(version, expected + 1, "update returns the next version");
        let stored = load_ok(store, &run.run_id).await;
        assert_eq!(stored.version, expected + 1);
        assert_eq!(stored.run, run, "the update was not stored whole");
    }
    run.status = RunStatus::Completed;
    run.requirements.clear();
    store.update(&run, 4).await.expect("update to completed");
    assert_eq!(
        load_ok(store, &run.run_id).await.run.status,
        RunStatus::Completed
    );
}

/// An update at a stale version is [`Error::Conflict`] (naming the version found) and changes
/// nothing.
pub async fn conflicting_update_changes_nothing(store: &impl RunStore) {
    let run = paused_run(&unique("conflict"), &unique("session"));
    store.create(&run).await.expect("create");
    let mut winner = run.clone();
    winner.status = RunStatus::Completed;
    winner.content = Some("the winner".to_owned());
    assert_eq!(store.update(&winner, 1).await.expect("first update"), 2);

    let mut loser = run.clone();
    loser.content = Some("the loser".to_owned());
    for stale in [1, 3, 0] {
        match store.update(&loser, stale).await {
            Err(Error::Conflict {
                run_id,
                expected,
                found,
            }) => {
                assert_eq!(run_id, run.run_id);
                assert_eq!(expected, stale);
                assert_eq!(found, 2, "a conflict names the version in the store");
            }
            other => panic!("update at version {stale} of a run at 2: got {other:?}"),
        }
    }
    let stored = load_ok(store, &run.run_id).await;
    assert_eq!(
        stored.version, 2,
        "a conflicting update changed the version"
    );
    assert_eq!(stored.run, winner, "a conflicting update changed the run");
}

/// An update of a run the store does not have is [`Error::Conflict`] with `found: 0`, and
/// creates nothing.
pub async fn update_of_unknown_run_conflicts(store: &impl RunStore) {
    let run = paused_run(&unique("never-created"), &unique("session"));
    match store.update(&run, 1).await {
        Err(Error::Conflict {
            run_id,
            expected: 1,
            found: 0,
        }) => assert_eq!(run_id, run.run_id),
        other => panic!("update of an unknown run: got {other:?}"),
    }
    assert!(matches!(
        store.load(&run.run_id).await,
        Err(Error::RunNotFound { .. })
    ));
}

/// Loading an unknown id is [`Error::RunNotFound`] naming it.
pub async fn unknown_run_is_not_found(store: &impl RunStore) {
    let run_id = unique("unknown");
    match store.load(&run_id).await {
        Err(Error::RunNotFound { run_id: named }) => assert_eq!(named, run_id),
        other => panic!("load of an unknown run: got {other:?}"),
    }
}

/// `session_runs` gives a session's runs, only them, in creation order (not id order, not
/// update order); an unknown session has none.
pub async fn session_runs_are_grouped_oldest_first(store: &impl RunStore) {
    let a = unique("session-a");
    let b = unique("session-b");
    let base = unique("order");
    // Ids whose alphabetical order is not the creation order.
    let a_runs: Vec<RunOutput> = ["c", "a", "b"]
        .iter()
        .map(|p| paused_run(&format!("{p}-{base}"), &a))
        .collect();
    let b_runs: Vec<RunOutput> = ["z", "y"]
        .iter()
        .map(|p| paused_run(&format!("{p}-{base}"), &b))
        .collect();
    store.create(&a_runs[0]).await.expect("create");
    store.create(&b_runs[0]).await.expect("create");
    store.create(&a_runs[1]).await.expect("create");
    store.create(&b_runs[1]).await.expect("create");
    store.create(&a_runs[2]).await.expect("create");

    let mut a_runs = a_runs;
    // Updating the oldest run does not move it to the end.
    a_runs[0].status = RunStatus::Completed;
    a_runs[0].content = Some("done".to_owned());
    store.update(&a_runs[0], 1).await.expect("update");

    assert_eq!(store.session_runs(&a).await.expect("session a"), a_runs);
    assert_eq!(store.session_runs(&b).await.expect("session b"), b_runs);
    assert_eq!(
        store
            .session_runs(&unique("no-such-session"))
            .await
            .expect("unknown session"),
        Vec::new()
    );
}

/// A run updated with another session id is found in that session (at its creation place) and
/// no longer in the old one.
pub async fn update_to_another_session_regroups_the_run(store: &impl RunStore) {
    let old = unique("old-session");
    let new = unique("new-session");
    let first = paused_run(&unique("first"), &new);
    let mut moved = paused_run(&unique("moved"), &old);
    let last = paused_run(&unique("last"), &new);
    store.create(&first).await.expect("create");
    store.create(&moved).await.expect("create");
    store.create(&last).await.expect("create");
    moved.session_id = new.clone();
    store.update(&moved, 1).await.expect("update");
    assert_eq!(
        store.session_runs(&old).await.expect("old session"),
        Vec::new()
    );
    assert_eq!(
        store.session_runs(&new).await.expect("new session"),
        vec![first, moved, last]
    );
}

/// The user id is stored and read back, set or not.
pub async fn user_id_is_kept(store: &impl RunStore) {
    let session = unique("session");
    let mut with_user = paused_run(&unique("user"), &session);
    with_user.user_id = Some("user-42 ✓".to_owned());
    let without_user = paused_run(&unique("no-user"), &session);
    store.create(&with_user).await.expect("create");
    store.create(&without_user).await.expect("create");
    assert_eq!(
        load_ok(store, &with_user.run_id)
            .await
            .run
            .user_id
            .as_deref(),
        Some("user-42 ✓")
    );
    assert_eq!(load_ok(store, &without_user.run_id).await.run.user_id, None);
    let runs = store.session_runs(&session).await.expect("session");
    assert_eq!(runs, vec![with_user.clone(), without_user]);

    with_user.user_id = Some("user-43".to_owned());
    store.update(&with_user, 1).await.expect("update");
    assert_eq!(
        load_ok(store, &with_user.run_id)
            .await
            .run
            .user_id
            .as_deref(),
        Some("user-43")
    );
}

/// `user_runs` gives a user's runs, of every session, only them, in creation order; a run
/// updated to another user (or to none) moves with it; an unknown user has none.
pub async fn user_runs_are_grouped_oldest_first(store: &impl RunStore) {
    let ada = unique("user-ada");
    let bob = unique("user-bob");
    let with_user = |prefix: &str, session: &str, user: Option<&str>| {
        let mut run = paused_run(&unique(prefix), session);
        run.user_id = user.map(str::to_owned);
        run
    };
    let s1 = unique("session");
    let s2 = unique("session");
    let mut first = with_user("z-first", &s1, Some(&ada));
    let other = with_user("y-other", &s1, Some(&bob));
    let nobody = with_user("x-nobody", &s1, None);
    let second = with_user("w-second", &s2, Some(&ada));
    for run in [&first, &other, &nobody, &second] {
        store.create(run).await.expect("create");
    }
    assert_eq!(
        store.user_runs(&ada).await.expect("ada's runs"),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.user_runs(&bob).await.expect("bob's runs"),
        vec![other.clone()]
    );

    // An update that keeps the user keeps the run's place; one that changes it moves the run.
    first.content = Some("updated".to_owned());
    store.update(&first, 1).await.expect("update");
    assert_eq!(
        store.user_runs(&ada).await.expect("ada's runs"),
        vec![first.clone(), second.clone()]
    );
    first.user_id = Some(bob.clone());
    store.update(&first, 2).await.expect("update");
    assert_eq!(
        store.user_runs(&ada).await.expect("ada's runs"),
        vec![second.clone()]
    );
    assert_eq!(
        store.user_runs(&bob).await.expect("bob's runs"),
        vec![first.clone(), other]
    );
    first.user_id = None;
    store.update(&first, 3).await.expect("update");
    assert_eq!(
        store.user_runs(&bob).await.expect("bob's runs").len(),
        1,
        "a run updated to no user leaves its old user's runs"
    );
    assert_eq!(
        store
            .user_runs(&unique("no-such-user"))
            .await
            .expect("unknown user"),
        Vec::new()
    );
}

/// A run of a schema version this kern does not read is refused with
/// [`Error::UnsupportedSchemaVersion`] naming it, by `load`, by `session_runs` of its session and
/// by `user_runs` of its user; the other runs, of its session or not, are unaffected.
pub async fn unsupported_schema_version_is_refused(store: &impl RunStore) {
    let session = unique("session");
    let other_session = unique("session");
    let user = unique("user");
    let mut future = paused_run(&unique("future"), &session);
    future.schema_version = SCHEMA_VERSION + 1;
    future.user_id = Some(user.clone());
    let neighbour = paused_run(&unique("neighbour"), &session);
    let elsewhere = paused_run(&unique("elsewhere"), &other_session);
    store.create(&neighbour).await.expect("create");
    store.create(&future).await.expect("create");
    store.create(&elsewhere).await.expect("create");

    let check = |result: Result<_, Error>, what: &str| match result {
        Err(Error::UnsupportedSchemaVersion {
            run_id,
            found,
            supported,
        }) => {
            assert_eq!(run_id, future.run_id, "{what}: the error names the run");
            assert_eq!(found, SCHEMA_VERSION + 1, "{what}");
            assert_eq!(supported, SCHEMA_VERSION, "{what}");
        }
        other => panic!("{what}: expected UnsupportedSchemaVersion, got {other:?}"),
    };
    check(store.load(&future.run_id).await.map(|_| ()), "load");
    check(
        store.session_runs(&session).await.map(|_| ()),
        "session_runs",
    );
    check(store.user_runs(&user).await.map(|_| ()), "user_runs");

    assert_eq!(load_ok(store, &neighbour.run_id).await.run, neighbour);
    assert_eq!(load_ok(store, &elsewhere.run_id).await.run, elsewhere);
    assert_eq!(
        store
            .session_runs(&other_session)
            .await
            .expect("other session"),
        vec![elsewhere]
    );
}

/// Many updates of the same version at once, from parallel tasks: exactly one applies, every
/// other one is [`Error::Conflict`], and the stored run is the winner's.
pub async fn concurrent_updates_of_one_version_one_wins<S: RunStore + Clone>(store: S) {
    const RACERS: usize = 8;
    let run = paused_run(&unique("race"), &unique("session"));
    store.create(&run).await.expect("create");
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            let mut mine = run.clone();
            mine.status = RunStatus::Completed;
            mine.content = Some(format!("racer {i}"));
            tokio::spawn(async move {
                barrier.wait().await;
                let result = store.update(&mine, 1).await;
                (mine, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (mine, result) = task.await.expect("racer task panicked");
        match result {
            Ok(version) => {
                assert_eq!(version, 2);
                winners.push(mine);
            }
            Err(Error::Conflict {
                expected: 1,
                found: 2,
                ..
            }) => {}
            Err(other) => panic!("a racing update failed with {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {RACERS} racing updates must apply"
    );
    let stored = load_ok(&store, &run.run_id).await;
    assert_eq!(stored.version, 2);
    assert_eq!(stored.run, winners[0], "the stored run is not the winner's");
}

/// `created_at` and `updated_at` are the store's clock: both at creation, only `updated_at`
/// moves at an update.
pub async fn stored_times_are_kept(store: &impl RunStore) {
    let before = SystemTime::now() - Duration::from_secs(1);
    let run = paused_run(&unique("times"), &unique("session"));
    store.create(&run).await.expect("create");
    let created = load_ok(store, &run.run_id).await;
    assert!(created.created_at >= before, "created_at is now");
    assert!(created.updated_at >= created.created_at);
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.update(&run, 1).await.expect("update");
    let updated = load_ok(store, &run.run_id).await;
    assert_eq!(
        updated.created_at, created.created_at,
        "an update keeps created_at"
    );
    assert!(
        updated.updated_at > created.updated_at,
        "an update moves updated_at"
    );
}

fn ids(page: &RunPage) -> Vec<&str> {
    page.runs.iter().map(|s| s.run.run_id.as_str()).collect()
}

/// Every page of a listing, followed to its end.
async fn list_all(store: &impl RunStore, filter: &RunFilter, limit: usize) -> Vec<StoredRun> {
    let mut page = PageRequest::first(limit);
    let mut all = Vec::new();
    loop {
        let found = store.list_runs(filter, &page).await.expect("list_runs");
        assert!(found.runs.len() <= limit, "a page holds at most its limit");
        all.extend(found.runs);
        match found.next {
            Some(next) => page = PageRequest::after(limit, next),
            None => return all,
        }
    }
}

/// `list_runs` gives exactly the runs its filter takes (status, user, session, tool waited on,
/// last change before an instant), oldest first.
pub async fn listing_filters_by_status_user_session_tool_and_age(store: &impl RunStore) {
    let session = unique("list-session");
    let user = unique("list-user");
    let tool = format!("tool_{}", unique("t").replace('-', "_"));
    let mut runs = Vec::new();
    for i in 0..6 {
        let mut run = paused_run(&unique(&format!("list-{i}")), &session);
        if i % 2 == 0 {
            run.user_id = Some(user.clone());
        }
        if i == 1 || i == 4 {
            run.requirements[0]
                .tool_execution
                .tool_name
                .clone_from(&tool);
        }
        store.create(&run).await.expect("create");
        runs.push(run);
    }
    // Run 5 completes; run 4's requirement is resolved (it no longer waits on the tool).
    runs[5].status = RunStatus::Completed;
    runs[5].requirements.clear();
    store.update(&runs[5], 1).await.expect("update");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let middle = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    runs[4].requirements[0].set_external_execution_result("done");
    store.update(&runs[4], 1).await.expect("update");

    let listed = |filter: RunFilter| async move {
        let all = list_all(store, &filter, 100).await;
        all.iter().map(|s| s.run.run_id.clone()).collect::<Vec<_>>()
    };
    let names = |indexes: &[usize]| -> Vec<String> {
        indexes.iter().map(|&i| runs[i].run_id.clone()).collect()
    };
    let in_session = RunFilter::default().session(&session);
    assert_eq!(
        listed(in_session.clone()).await,
        names(&[0, 1, 2, 3, 4, 5]),
        "by session"
    );
    assert_eq!(
        listed(in_session.clone().status(RunStatus::Paused)).await,
        names(&[0, 1, 2, 3, 4]),
        "by status"
    );
    assert_eq!(
        listed(in_session.clone().status(RunStatus::Completed)).await,
        names(&[5])
    );
    assert_eq!(
        listed(RunFilter::default().user(&user)).await,
        names(&[0, 2, 4]),
        "by user"
    );
    assert_eq!(
        listed(RunFilter::paused().tool(&tool)).await,
        names(&[1]),
        "by the tool waited on (a resolved requirement does not wait)"
    );
    assert_eq!(
        listed(in_session.clone().updated_before(middle)).await,
        names(&[0, 1, 2, 3, 5]),
        "by last change"
    );
    assert_eq!(
        listed(RunFilter::default().user(&user).tool(&tool)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(RunFilter::default().tool("no such tool")).await,
        Vec::<String>::new(),
        "a tool name no run waits on (with a space) finds none"
    );
    let stored = list_all(store, &RunFilter::default().session(&session), 100).await;
    assert_eq!(stored[0].run, runs[0], "listed runs are whole");
    assert_eq!(stored[5].version, 2, "listed runs carry their version");
}

/// Paging through a listing gives every run once, in creation order, also when runs are created
/// and updated between pages (the new ones come on later pages).
pub async fn listing_pages_through_every_run_once(store: &impl RunStore) {
    let session = unique("page-session");
    let filter = RunFilter::default().session(&session);
    let mut expected = Vec::new();
    for i in 0..7 {
        let run = paused_run(&unique(&format!("page-{i}")), &session);
        store.create(&run).await.expect("create");
        expected.push(run.run_id);
    }
    let first = store
        .list_runs(&filter, &PageRequest::first(3))
        .await
        .expect("first page");
    assert_eq!(
        ids(&first),
        expected[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );
    // Between pages: an update of a listed run and of an unlisted one, and a new run.
    let mut changed = paused_run(&expected[0], &session);
    changed.content = Some("changed".to_owned());
    store.update(&changed, 1).await.expect("update");
    let mut later = paused_run(&expected[4], &session);
    later.content = Some("changed too".to_owned());
    store.update(&later, 1).await.expect("update");
    let new = paused_run(&unique("page-new"), &session);
    store.create(&new).await.expect("create");
    expected.push(new.run_id);

    let mut seen: Vec<String> = ids(&first).into_iter().map(str::to_owned).collect();
    let mut next = first.next.clone();
    while let Some(cursor) = next {
        let page = store
            .list_runs(&filter, &PageRequest::after(3, cursor))
            .await
            .expect("next page");
        seen.extend(ids(&page).into_iter().map(str::to_owned));
        next = page.next;
    }
    assert_eq!(seen, expected, "every run once, in creation order");
    let unique_seen: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique_seen.len(), seen.len());

    // A page that ends exactly at the last run has no next page.
    let exact = store
        .list_runs(&filter, &PageRequest::first(expected.len()))
        .await
        .expect("list");
    assert_eq!(exact.runs.len(), expected.len());
    assert_eq!(exact.next, None, "no cursor after the last page");
}

/// A cursor no store made is [`Error::InvalidCursor`] naming it, never a panic.
pub async fn a_malformed_cursor_is_a_typed_error(store: &impl RunStore) {
    for cursor in ["", "nonsense", "c", "c-3", "c99999999999999999999999", "🦀"] {
        match store
            .list_runs(&RunFilter::default(), &PageRequest::after(10, cursor))
            .await
        {
            Err(Error::InvalidCursor { cursor: named }) => assert_eq!(named, cursor),
            other => panic!("cursor {cursor:?}: expected InvalidCursor, got {other:?}"),
        }
    }
}

/// `delete` removes a run from everything (`load`, its session, its user, listings) and says
/// whether it was there.
pub async fn delete_removes_a_run(store: &impl RunStore) {
    let session = unique("delete-session");
    let user = unique("delete-user");
    let mut gone = paused_run(&unique("delete-me"), &session);
    gone.user_id = Some(user.clone());
    let kept = paused_run(&unique("keep-me"), &session);
    store.create(&gone).await.expect("create");
    store.create(&kept).await.expect("create");
    assert!(store.delete(&gone.run_id).await.expect("delete"));
    assert!(
        !store.delete(&gone.run_id).await.expect("delete again"),
        "a second delete finds nothing"
    );
    assert!(matches!(
        store.load(&gone.run_id).await,
        Err(Error::RunNotFound { .. })
    ));
    assert_eq!(
        store.session_runs(&session).await.expect("session"),
        vec![kept.clone()]
    );
    assert_eq!(store.user_runs(&user).await.expect("user"), Vec::new());
    let listed = list_all(store, &RunFilter::default().session(&session), 10).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].run, kept);
    // Its id may be used again.
    assert_eq!(store.create(&gone).await.expect("create again"), 1);
}

/// `purge` deletes the finished runs older than `keep_finished`, the paused ones older than
/// `keep_paused` when set, and never a running run.
pub async fn purge_follows_the_policy_and_never_touches_a_running_run(store: &impl RunStore) {
    let session = unique("purge-session");
    let mut runs = Vec::new();
    for status in [
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::TurnLimitReached,
        RunStatus::Paused,
        RunStatus::Running,
    ] {
        let mut run = paused_run(&unique(&format!("purge-{status:?}")), &session);
        run.status = status;
        store.create(&run).await.expect("create");
        runs.push(run);
    }
    let remaining = || async {
        list_all(store, &RunFilter::default().session(&session), 100)
            .await
            .into_iter()
            .map(|s| s.run.status)
            .collect::<Vec<_>>()
    };
    let hour = Duration::from_secs(3600);
    store
        .purge(&Retention::finished_for(hour).paused_for(hour))
        .await
        .expect("purge");
    assert_eq!(
        remaining().await.len(),
        5,
        "runs younger than the policy stay"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let purged = store
        .purge(&Retention::finished_for(Duration::ZERO))
        .await
        .expect("purge");
    assert!(purged >= 3, "purge counts what it deleted: {purged}");
    assert_eq!(
        remaining().await,
        [RunStatus::Paused, RunStatus::Running],
        "finished runs go, paused ones stay without keep_paused"
    );
    store
        .purge(&Retention::finished_for(Duration::ZERO).paused_for(Duration::ZERO))
        .await
        .expect("purge");
    assert_eq!(
        remaining().await,
        [RunStatus::Running],
        "a running run is never purged"
    );
    assert_eq!(load_ok(store, &runs[4].run_id).await.run, runs[4]);
}

fn claim_in(session: &str, worker: &str, lease: Duration) -> ClaimRequest {
    ClaimRequest::new(worker, lease).filter(RunFilter::default().session(session))
}

async fn claim_ok(store: &impl RunStore, request: &ClaimRequest) -> Option<StoredRun> {
    store.claim(request).await.expect("claim")
}

/// A claimed run is leased to its worker; while the lease lasts nobody else can claim it, once
/// it expired the next claim takes it (a new lease, the next version).
pub async fn an_unexpired_lease_is_not_claimable_an_expired_one_is(store: &impl RunStore) {
    let session = unique("lease-session");
    let run = paused_run(&unique("leased"), &session);
    store.create(&run).await.expect("create");
    let short = Duration::from_millis(300);
    let before = SystemTime::now() - Duration::from_secs(1);
    let first = claim_ok(store, &claim_in(&session, "w1", short))
        .await
        .expect("a paused run without a lease is claimable");
    assert_eq!(first.version, 2, "a claim is an update");
    let lease = first
        .run
        .lease
        .clone()
        .expect("the claimed run has a lease");
    assert_eq!(lease.worker, "w1");
    assert!(
        lease.expires_at() > before + short,
        "the lease lasts from the claim"
    );
    assert_eq!(
        load_ok(store, &run.run_id).await,
        first,
        "the claim is stored"
    );
    assert!(
        claim_ok(store, &claim_in(&session, "w2", short))
            .await
            .is_none(),
        "an unexpired lease is not claimable"
    );
    // The expiry is the store's clock; give it time to pass.
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    let second = claim_ok(store, &claim_in(&session, "w2", Duration::from_secs(60)))
        .await
        .expect("an expired lease is claimable");
    assert_eq!(second.version, 3);
    assert_eq!(
        second.run.lease.as_ref().map(|l| l.worker.as_str()),
        Some("w2")
    );
    assert!(
        claim_ok(store, &claim_in(&session, "w3", short))
            .await
            .is_none(),
        "the new lease holds"
    );

    // A run continued (its lease cleared, as a pause or end clears it) is not claimable again
    // unless paused; a finished one never is.
    let mut finished = second.run.clone();
    finished.status = RunStatus::Completed;
    finished.requirements.clear();
    finished.lease = None;
    store.update(&finished, 3).await.expect("update");
    assert!(
        claim_ok(store, &claim_in(&session, "w3", short))
            .await
            .is_none()
    );
}

/// A claim moves the run to a new pause: a fresh `pause_id`, every requirement bound to it (so
/// the requirements handed out before are stale), the calls unchanged.
pub async fn a_claim_rebinds_the_requirements_to_a_new_pause(store: &impl RunStore) {
    let session = unique("rebind-session");
    let run = paused_run(&unique("rebind"), &session);
    store.create(&run).await.expect("create");
    let claimed = claim_ok(store, &claim_in(&session, "w", Duration::from_secs(60)))
        .await
        .expect("claim");
    assert_ne!(
        claimed.run.pause_id, run.pause_id,
        "a claim makes a new pause"
    );
    assert!(!claimed.run.pause_id.is_empty());
    assert_eq!(claimed.run.requirements.len(), run.requirements.len());
    for (new, old) in claimed.run.requirements.iter().zip(&run.requirements) {
        assert_eq!(new.pause_id, claimed.run.pause_id, "bound to the new pause");
        assert_eq!(new.run_id, run.run_id);
        assert_ne!(new.pause_id, old.pause_id);
        assert_eq!(
            new.tool_execution, old.tool_execution,
            "the call is unchanged"
        );
        assert!(!new.interrupted);
    }
    assert_eq!(claimed.run.messages, run.messages);
    assert_eq!(claimed.run.status, RunStatus::Paused);
}

/// A requirement an earlier claimer marked started and did not resolve comes back interrupted
/// (and no longer started) at the next claim; one it resolved stays resolved.
pub async fn a_claim_turns_started_unresolved_requirements_into_interrupted_ones(
    store: &impl RunStore,
) {
    let session = unique("started-session");
    let mut run = paused_run(&unique("started"), &session);
    let mut resolved = run.requirements[0].clone();
    resolved.tool_execution.tool_call_id = "call_3".to_owned();
    run.requirements.push(resolved);
    store.create(&run).await.expect("create");
    let lease = Duration::from_millis(200);
    let mut claimed = claim_ok(store, &claim_in(&session, "w1", lease))
        .await
        .expect("claim")
        .run;
    for requirement in &mut claimed.requirements {
        requirement.mark_started();
    }
    claimed.requirements[1].set_external_execution_result("done before the crash");
    store.update(&claimed, 2).await.expect("save progress");
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let taken = claim_ok(store, &claim_in(&session, "w2", lease))
        .await
        .expect("claim after expiry")
        .run;
    let [unresolved, resolved] = taken.requirements.as_slice() else {
        panic!("two requirements expected: {:?}", taken.requirements);
    };
    assert!(
        unresolved.interrupted,
        "started and unresolved: interrupted"
    );
    assert!(!unresolved.started, "the new claimer has not started it");
    assert!(!unresolved.is_resolved());
    assert!(
        !resolved.interrupted,
        "a resolved requirement is not interrupted"
    );
    assert_eq!(
        resolved.tool_execution.result.as_deref(),
        Some("done before the crash"),
        "and stays resolved"
    );
}

/// A running run whose lease expired (its worker died inside the continue) is claimed back as a
/// pause: finished calls recorded, started ones interrupted.
pub async fn a_running_run_with_an_expired_lease_is_claimed_reopened(store: &impl RunStore) {
    let session = unique("running-session");
    let mut run = paused_run(&unique("running"), &session);
    let waiting = run.requirements.remove(0);
    run.status = RunStatus::Running;
    run.in_flight = vec![InFlightCall::Started {
        execution: waiting.tool_execution.clone(),
        by_executor: true,
    }];
    let mut unleased = run.clone();
    unleased.run_id = unique("running-unleased");
    store.create(&unleased).await.expect("create");
    run.lease = Some(Lease {
        worker: "dead".to_owned(),
        expires_at_ms: 1,
    });
    store.create(&run).await.expect("create");
    let claimed = claim_ok(store, &claim_in(&session, "w", Duration::from_secs(60)))
        .await
        .expect("claim");
    assert_eq!(
        claimed.run.run_id, run.run_id,
        "a running run without a lease belongs to its continue and is not claimed"
    );
    assert_eq!(claimed.run.status, RunStatus::Paused);
    assert!(claimed.run.in_flight.is_empty());
    let [requirement] = claimed.run.requirements.as_slice() else {
        panic!("{:?}", claimed.run.requirements);
    };
    assert!(requirement.interrupted);
    assert!(requirement.is_external_tool_execution());
    assert_eq!(requirement.pause_id, claimed.run.pause_id);
    assert!(
        claim_ok(store, &claim_in(&session, "w", Duration::from_secs(60)))
            .await
            .is_none()
    );
}

/// A claim takes only runs its filter takes: here, by the tool waited on.
pub async fn a_claim_follows_its_filter(store: &impl RunStore) {
    let session = unique("filter-session");
    let tool = format!("tool_{}", unique("c").replace('-', "_"));
    let mut other = paused_run(&unique("other-tool"), &session);
    other.requirements[0].tool_execution.tool_name = format!("{tool}_not");
    let mut mine = paused_run(&unique("my-tool"), &session);
    mine.requirements[0]
        .tool_execution
        .tool_name
        .clone_from(&tool);
    store.create(&other).await.expect("create");
    store.create(&mine).await.expect("create");
    let request =
        ClaimRequest::new("w", Duration::from_secs(60)).filter(RunFilter::default().tool(&tool));
    let claimed = claim_ok(store, &request).await.expect("claim");
    assert_eq!(claimed.run.run_id, mine.run_id);
    assert!(claim_ok(store, &request).await.is_none());
}

/// Many claimers at once, from parallel tasks, for runs of which one is claimable: exactly one
/// gets it. Then as many claimable runs as claimers: each gets a different one.
pub async fn concurrent_claims_of_one_run_one_wins<S: RunStore + Clone>(store: S) {
    const CLAIMERS: usize = 8;
    let session = unique("claim-race");
    let run = paused_run(&unique("claimed-once"), &session);
    store.create(&run).await.expect("create");
    async fn race<S: RunStore + Clone>(store: S, session: &str) -> Vec<String> {
        let barrier = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
        let tasks: Vec<_> = (0..CLAIMERS)
            .map(|i| {
                let store = store.clone();
                let barrier = barrier.clone();
                let request = claim_in(session, &format!("w{i}"), Duration::from_secs(60));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.claim(&request).await
                })
            })
            .collect();
        let mut won = Vec::new();
        for task in tasks {
            if let Some(claimed) = task.await.expect("claimer task").expect("claim") {
                won.push(claimed.run.run_id);
            }
        }
        won
    }
    let won = race(store.clone(), &session).await;
    assert_eq!(won, vec![run.run_id.clone()], "exactly one claimer wins");

    let mut expected = HashSet::new();
    for i in 0..CLAIMERS {
        let run = paused_run(&unique(&format!("claimed-{i}")), &session);
        store.create(&run).await.expect("create");
        expected.insert(run.run_id);
    }
    let won = race(store, &session).await;
    let distinct: HashSet<String> = won.iter().cloned().collect();
    assert_eq!(won.len(), CLAIMERS, "every claimer gets a run");
    assert_eq!(distinct, expected, "each run goes to one claimer");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_conforms() {
        run_all(MemoryStore::new()).await;
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_store_in_memory_conforms() {
        run_all(crate::store::SqliteStore::open_in_memory().unwrap()).await;
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_store_on_a_file_conforms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        run_all(crate::store::SqliteStore::open(&path).await.unwrap()).await;
        // And again on the same file, reopened, with the runs of the first pass in it.
        run_all(crate::store::SqliteStore::open(&path).await.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_with_retention_forgets_finished_runs_as_it_goes() {
        let store = MemoryStore::with_retention(Retention::finished_for(Duration::ZERO));
        let mut run = paused_run(&unique("forgotten"), "s");
        run.status = RunStatus::Completed;
        store.create(&run).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        // The policy is applied every 256 writes.
        for i in 0..256 {
            store
                .create(&paused_run(&unique(&format!("w{i}")), "s"))
                .await
                .unwrap();
        }
        assert!(matches!(
            store.load(&run.run_id).await,
            Err(Error::RunNotFound { .. })
        ));
    }

    #[test]
    fn unique_ids_differ() {
        assert_ne!(unique("x"), unique("x"));
    }
}

/// What a damaged row must read as: [`Error::CorruptRun`] or
/// [`Error::UnsupportedSchemaVersion`], naming the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The row cannot be read as a run.
    Corrupt,
    /// The row holds a run of a layout newer than this kern reads.
    FutureSchema,
}

/// For a store whose rows a test can damage by hand (`tamper(sql, run_id)` runs one statement
/// that changes the row of `run_id`): each of `cases` (a run id, the statement, what it must read
/// as) damages a run of a shared session and user; every read that meets it (`load`,
/// `session_runs`, `user_runs`) is that typed error naming the run, and every other run reads as
/// before, old ones and ones created after the damage. `repair` (a statement taking the run id)
/// removes the damaged row before the next case.
pub async fn damaged_rows_are_typed_errors_naming_the_run(
    store: &impl RunStore,
    cases: &[(&str, String, Damage)],
    repair: &str,
    mut tamper: impl AsyncFnMut(&str, &str),
) {
    let session = "shared-session";
    let user = "shared-user";
    let mut healthy = paused_run("healthy", session);
    healthy.user_id = Some(user.to_owned());
    let elsewhere = paused_run("elsewhere", "other-session");
    store.create(&healthy).await.unwrap();
    store.create(&elsewhere).await.unwrap();

    for (name, sql, expected) in cases {
        let mut run = paused_run(name, session);
        run.user_id = Some(user.to_owned());
        store.create(&run).await.unwrap();
        tamper(sql, name).await;

        let check = |result: crate::Result<()>, what: &str| match (expected, result) {
            (Damage::Corrupt, Err(Error::CorruptRun { run_id, reason })) => {
                assert_eq!(&run_id, name, "{what}");
                assert!(!reason.is_empty());
            }
            (Damage::FutureSchema, Err(Error::UnsupportedSchemaVersion { run_id, found, .. })) => {
                assert_eq!(&run_id, name, "{what}");
                assert!(found > SCHEMA_VERSION, "{what}");
            }
            (_, other) => panic!("{name}, {what}: expected {expected:?}, got {other:?}"),
        };
        check(store.load(name).await.map(|_| ()), "load");
        check(
            store.session_runs(session).await.map(|_| ()),
            "session_runs",
        );
        check(store.user_runs(user).await.map(|_| ()), "user_runs");

        // Everything else reads as before.
        assert_eq!(store.load("healthy").await.unwrap().run, healthy);
        assert_eq!(store.load("elsewhere").await.unwrap().run, elsewhere);
        assert_eq!(
            store.session_runs("other-session").await.unwrap(),
            vec![elsewhere.clone()]
        );
        // A run created after the damage is stored and read as usual.
        let later = paused_run(&format!("after-{name}"), "later-session");
        store.create(&later).await.unwrap();
        assert_eq!(store.load(&later.run_id).await.unwrap().run, later);

        tamper(repair, name).await;
    }
    assert_eq!(
        store.session_runs(session).await.unwrap(),
        vec![healthy.clone()]
    );
    assert_eq!(store.user_runs(user).await.unwrap(), vec![healthy]);
}

/// For a store whose rows a test can change by hand (as in
/// [`damaged_rows_are_typed_errors_naming_the_run`]; `refile(column, value, run_id)` sets a
/// key column of the row, `session_id` or `user_id`, to `value`): a run whose key column no
/// longer matches its data is [`Error::CorruptRun`] naming the run and its own session or user,
/// and is listed under neither.
pub async fn a_run_filed_under_another_session_or_user_is_corrupt(
    store: &impl RunStore,
    mut refile: impl AsyncFnMut(&str, &str, &str),
) {
    store.create(&paused_run("moved", "s1")).await.unwrap();
    refile("session_id", "s2", "moved").await;
    match store.session_runs("s2").await {
        Err(Error::CorruptRun { run_id, reason }) => {
            assert_eq!(run_id, "moved");
            assert!(reason.contains("`s1`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.session_runs("s1").await.unwrap(), Vec::new());

    // The same for a run filed under another user.
    let mut run = paused_run("reassigned", "s3");
    run.user_id = Some("u1".to_owned());
    store.create(&run).await.unwrap();
    refile("user_id", "u2", "reassigned").await;
    match store.user_runs("u2").await {
        Err(Error::CorruptRun { run_id, reason }) => {
            assert_eq!(run_id, "reassigned");
            assert!(reason.contains("user `u1`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.user_runs("u1").await.unwrap(), Vec::new());
}
