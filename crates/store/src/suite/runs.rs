//! Sync runs: stored whole, listed newest first, open ones oldest first.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use model::ids::{DistrictId, RunId};
use model::run::{RunCounts, RunMode, RunPhase, RunState, RunTrigger, SyncRun, ThresholdTrip};

use super::{district, district_id, store_with_district};
use crate::{Backend, StoreError};

crate::on_both_backends!(
    a_run_reads_back_exactly_as_stored,
    a_run_is_replaced_whole_by_update,
    a_duplicate_unknown_or_misplaced_run_is_refused,
    runs_are_listed_newest_first_and_paged,
    open_runs_are_the_running_and_paused_ones_oldest_first,
    a_run_lease_is_held_by_one_owner_until_it_lapses,
    a_state_change_is_a_compare_and_set_that_one_caller_wins,
    a_checkpoint_is_written_only_while_the_run_is_running,
);

/// A time with microseconds, which both databases keep exactly.
pub(super) fn at(minute: u32, micros: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, minute, 0)
        .single()
        .unwrap_or_default()
        + Duration::microseconds(micros)
}

/// A finished run (a district holds one open run at most, so tests open them explicitly).
pub(super) fn run(district: &DistrictId, created_at: DateTime<Utc>) -> SyncRun {
    SyncRun {
        id: RunId::new(),
        district_id: district.clone(),
        mode: RunMode::Full,
        trigger: RunTrigger::Manual,
        state: RunState::Succeeded,
        phase: RunPhase::Pulling,
        error: None,
        counts: RunCounts::default(),
        trips: Vec::new(),
        warnings: Vec::new(),
        created_at,
        started_at: None,
        finished_at: None,
        approved_at: None,
        request_id: None,
        phases: Vec::new(),
        by: Default::default(),
        exclusions: Vec::new(),
        revert: None,
    }
}

/// A run with every field set to something other than its default.
fn finished_run(district: &DistrictId) -> SyncRun {
    SyncRun {
        mode: RunMode::DryRun,
        trigger: RunTrigger::Schedule,
        state: RunState::Failed,
        phase: RunPhase::Checking,
        error: Some("the pull was not complete".into()),
        counts: RunCounts {
            fetched: BTreeMap::from([("students".into(), 1_200), ("contacts".into(), 2_410)]),
            planned: BTreeMap::from([("student.archive".into(), 40), ("link.delete".into(), 7)]),
            planned_by_school: BTreeMap::from([("17".into(), 30), ("18".into(), 17)]),
            applied: 12,
            plan_items: 47,
            warnings: 2,
            fingerprint: "students:1200;contacts:2410".into(),
            excluded: 5,
        },
        trips: vec![
            ThresholdTrip {
                limit: "students_archived".into(),
                count: 40,
                of: 1_200,
                max_percent: Some(100.0 / 3.0),
                max_count: None,
            },
            ThresholdTrip {
                limit: "guardians_archived".into(),
                count: 1,
                of: 10,
                max_percent: Some(98.56906946328695),
                max_count: None,
            },
            ThresholdTrip {
                limit: "links_removed".into(),
                count: 7,
                of: 3,
                // Shortest decimal forms that a fast float parser reads back one bit off.
                max_percent: Some(39.430133835633676),
                max_count: Some(5),
            },
        ],
        warnings: vec![
            "unknown relationship \"Step-aunt\" read as other".into(),
            "contact 88 has no e-mail".into(),
        ],
        started_at: Some(at(1, 250_001)),
        finished_at: Some(at(9, 999_999)),
        exclusions: vec![
            model::run::Exclusion {
                target: model::run::ExclusionTarget::Items { seqs: vec![4, 9] },
                reason: "families asked to wait".into(),
                by: "support".into(),
                at: at(5, 1),
                items: 3,
            },
            model::run::Exclusion {
                target: model::run::ExclusionTarget::Changes {
                    entity: Some(model::change::Entity::Link),
                    operation: None,
                },
                reason: String::new(),
                by: "support".into(),
                at: at(5, 1),
                items: 2,
            },
        ],
        ..run(district, at(0, 123_456))
    }
}

async fn a_run_reads_back_exactly_as_stored(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let full = finished_run(&cbe);
    store.create_run(&full).await.expect("create");
    assert_eq!(store.get_run(&cbe, full.id).await.expect("get"), full);
    assert_eq!(
        store
            .run_checkpoint(&cbe, full.id)
            .await
            .expect("checkpoint"),
        None,
        "a new run has applied nothing"
    );

    // Times keep microseconds on both databases; finer digits are dropped when stored.
    let precise = at(2, 0) + Duration::nanoseconds(123_456_789);
    let fine = SyncRun {
        started_at: Some(precise),
        ..run(&cbe, precise)
    };
    store.create_run(&fine).await.expect("create");
    let read = store.get_run(&cbe, fine.id).await.expect("get");
    assert_eq!(read.created_at, precise.trunc_subsecs(6));
    assert_eq!(read.started_at, Some(precise.trunc_subsecs(6)));
}

async fn a_run_is_replaced_whole_by_update(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let started = run(&cbe, at(0, 5));
    store.create_run(&started).await.expect("create");

    let finished = SyncRun {
        id: started.id,
        ..finished_run(&cbe)
    };
    store
        .update_run(&finished, &[RunState::Succeeded])
        .await
        .expect("update");
    assert_eq!(
        store.get_run(&cbe, started.id).await.expect("get"),
        finished
    );

    let cleared = SyncRun {
        error: None,
        trips: Vec::new(),
        warnings: Vec::new(),
        finished_at: None,
        approved_at: None,
        request_id: None,
        phases: Vec::new(),
        by: Default::default(),
        ..finished.clone()
    };
    store
        .update_run(&cleared, &[RunState::Failed])
        .await
        .expect("update");
    assert_eq!(store.get_run(&cbe, started.id).await.expect("get"), cleared);

    let ghost = run(&cbe, at(0, 0));
    match store.update_run(&ghost, &[RunState::Succeeded]).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id), ("sync run", ghost.id.to_string()));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn a_duplicate_unknown_or_misplaced_run_is_refused(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let first = run(&cbe, at(0, 0));
    store.create_run(&first).await.expect("create");
    match store.create_run(&first).await {
        Err(StoreError::AlreadyExists { entity, id }) => {
            assert_eq!((entity, id), ("sync run", first.id.to_string()));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    let nowhere = run(&district_id("nowhere"), at(0, 0));
    match store.create_run(&nowhere).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("district", "nowhere"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }

    let unknown = RunId::new();
    match store.get_run(&cbe, unknown).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id), ("sync run", unknown.to_string()));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(matches!(
        store.run_checkpoint(&cbe, unknown).await,
        Err(StoreError::NotFound {
            entity: "sync run",
            ..
        })
    ));

    // A run is found only in its own district.
    store
        .create_district(&district("other"))
        .await
        .expect("create district");
    assert!(matches!(
        store.get_run(&district_id("other"), first.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn runs_are_listed_newest_first_and_paged(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    store
        .create_district(&district("other"))
        .await
        .expect("create district");
    let oldest = run(&cbe, at(0, 0));
    let middle = run(&cbe, at(5, 0));
    let newest = run(&cbe, at(10, 0));
    // Two runs created in the same microsecond come newest-id first.
    let tied = run(&cbe, at(10, 0));
    let elsewhere = run(&district_id("other"), at(20, 0));
    for r in [&middle, &oldest, &tied, &newest, &elsewhere] {
        store.create_run(r).await.expect("create");
    }
    let (high, low) = if newest.id > tied.id {
        (&newest, &tied)
    } else {
        (&tied, &newest)
    };

    let listed = store.list_runs(&cbe, None, 10).await.expect("list");
    let ids: Vec<RunId> = listed.iter().map(|r| r.id).collect();
    assert_eq!(ids, [high.id, low.id, middle.id, oldest.id]);
    assert_eq!(listed[2], middle);

    // Pages continue after the last run seen (its time and id), ties broken by id.
    let first = store.list_runs(&cbe, None, 1).await.expect("page 1");
    assert_eq!(first[0].id, high.id);
    let page = store
        .list_runs(&cbe, Some((high.created_at, high.id)), 2)
        .await
        .expect("page 2");
    let ids: Vec<RunId> = page.iter().map(|r| r.id).collect();
    assert_eq!(ids, [low.id, middle.id]);
    // A run started meanwhile is newer: it shifts nothing of the pages to come.
    let later = run(&cbe, at(59, 0));
    store.create_run(&later).await.expect("create");
    let rest = store
        .list_runs(&cbe, Some((middle.created_at, middle.id)), 2)
        .await
        .expect("page 3");
    assert_eq!(rest.iter().map(|r| r.id).collect::<Vec<_>>(), [oldest.id]);
    assert!(store
        .list_runs(&cbe, Some((oldest.created_at, oldest.id)), 2)
        .await
        .expect("past the end")
        .is_empty());
}

async fn open_runs_are_the_running_and_paused_ones_oldest_first(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let states = [
        (RunState::Succeeded, 0),
        (RunState::Paused, 1),
        (RunState::Failed, 2),
        (RunState::Cancelled, 4),
    ];
    let mut runs = Vec::new();
    for (state, minute) in states {
        let r = SyncRun {
            state,
            ..run(&cbe, at(minute, 0))
        };
        store.create_run(&r).await.expect("create");
        runs.push(r);
    }
    let open = store.open_runs(&cbe).await.expect("open");
    assert_eq!(open, vec![runs[1].clone()]);

    // The database holds one open run per district: a second one is refused.
    let second = SyncRun {
        state: RunState::Running,
        ..run(&cbe, at(5, 0))
    };
    match store.create_run(&second).await {
        Err(StoreError::AlreadyExists { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("open sync run", "cbe"));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    let mut done = runs[1].clone();
    done.state = RunState::Cancelled;
    done.finished_at = Some(at(30, 0));
    store
        .update_run(&done, &[RunState::Paused])
        .await
        .expect("cancel");
    assert!(store.open_runs(&cbe).await.expect("open").is_empty());
    store
        .create_run(&second)
        .await
        .expect("open again once the first closed");
    assert_eq!(store.open_runs(&cbe).await.expect("open"), vec![second]);
}

async fn a_run_lease_is_held_by_one_owner_until_it_lapses(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let r = SyncRun {
        state: RunState::Running,
        ..run(&cbe, at(0, 0))
    };
    store.create_run(&r).await.expect("create");
    let t0 = at(10, 0);
    let lease = Duration::seconds(60);
    assert!(store
        .acquire_run_lease(&cbe, r.id, "a", t0, t0 + lease)
        .await
        .expect("acquire"));
    assert!(
        !store
            .acquire_run_lease(
                &cbe,
                r.id,
                "b",
                t0 + Duration::seconds(30),
                t0 + Duration::seconds(90)
            )
            .await
            .expect("refused"),
        "a live lease is not taken"
    );
    assert!(store
        .acquire_run_lease(
            &cbe,
            r.id,
            "a",
            t0 + Duration::seconds(30),
            t0 + Duration::seconds(90)
        )
        .await
        .expect("renew"));
    assert_eq!(
        store.run_lease(&cbe, r.id).await.expect("lease"),
        Some(("a".to_owned(), t0 + Duration::seconds(90)))
    );
    let later = t0 + Duration::seconds(91);
    assert!(
        store
            .acquire_run_lease(&cbe, r.id, "b", later, later + lease)
            .await
            .expect("take over"),
        "a lapsed lease is taken over"
    );
    store
        .release_run_lease(&cbe, r.id, "a")
        .await
        .expect("release by a former owner");
    assert_eq!(
        store
            .run_lease(&cbe, r.id)
            .await
            .expect("lease")
            .map(|l| l.0),
        Some("b".to_owned()),
        "only the owner releases"
    );
    store
        .release_run_lease(&cbe, r.id, "b")
        .await
        .expect("release");
    assert_eq!(store.run_lease(&cbe, r.id).await.expect("lease"), None);
    // Saving progress leaves the lease alone.
    assert!(store
        .acquire_run_lease(&cbe, r.id, "c", later, later + lease)
        .await
        .expect("acquire"));
    store
        .update_run(&r, &[RunState::Running])
        .await
        .expect("update");
    assert_eq!(
        store
            .run_lease(&cbe, r.id)
            .await
            .expect("lease")
            .map(|l| l.0),
        Some("c".to_owned())
    );
}

async fn a_state_change_is_a_compare_and_set_that_one_caller_wins(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let paused = SyncRun {
        state: RunState::Paused,
        ..run(&cbe, at(0, 0))
    };
    store.create_run(&paused).await.expect("create");

    // Twenty callers race to move the paused run, half approving, half cancelling.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let mut next = paused.clone();
        next.state = if i % 2 == 0 {
            RunState::Running
        } else {
            RunState::Cancelled
        };
        tasks.push(tokio::spawn(async move {
            (
                next.state,
                store.update_run(&next, &[RunState::Paused]).await,
            )
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        let (state, result) = t.await.expect("task");
        match result {
            Ok(()) => winners.push(state),
            Err(StoreError::StateChanged { entity, id, found }) => {
                assert_eq!((entity, id), ("sync run", paused.id.to_string()));
                losers.push(found);
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one caller wins: {winners:?}");
    let stored = store.get_run(&cbe, paused.id).await.expect("get");
    assert_eq!(stored.state, winners[0]);
    assert_eq!(losers.len(), 19);
    assert!(
        losers.iter().all(|f| f == stored.state.as_str()),
        "each loser is told the state it found: {losers:?}"
    );
}

async fn a_checkpoint_is_written_only_while_the_run_is_running(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let running = SyncRun {
        state: RunState::Running,
        ..run(&cbe, at(0, 0))
    };
    store.create_run(&running).await.expect("create");
    let cancelling = SyncRun {
        state: RunState::Cancelling,
        ..running.clone()
    };
    store
        .update_run(&cancelling, &[RunState::Running])
        .await
        .expect("ask it to stop");
    assert_eq!(
        store.run_state(&cbe, running.id).await.expect("state"),
        RunState::Cancelling
    );
    // A page applied after the request would land with the checkpoint: it writes nothing.
    let s = super::student("4101");
    let items = vec![(
        0,
        super::plan::student_item(model::change::Operation::Create, &s),
    )];
    match store
        .apply_plan_items(&cbe, running.id, &items, 0, at(1, 0))
        .await
    {
        Err(StoreError::StateChanged { found, .. }) => assert_eq!(found, "cancelling"),
        other => panic!("expected StateChanged, got {other:?}"),
    }
    assert_eq!(store.count_students(&cbe, false).await.expect("count"), 0);
    assert_eq!(
        store.run_checkpoint(&cbe, running.id).await.expect("cp"),
        None
    );
}
