//! Run events: written with the state that caused them and only then, numbered in commit
//! order without gaps whatever the concurrency, read per district.

use model::ids::DistrictId;
use model::notify::Outcome;
use model::run::{RunState, SyncRun};

use super::runs::{at, run};
use super::{district, district_id, store_with_district};
use crate::{Backend, Store, StoreError};

crate::on_both_backends!(
    a_run_is_told_once_it_ends_or_is_held_and_never_while_it_moves,
    events_are_numbered_in_commit_order_without_gaps,
    a_reader_sees_only_its_districts,
);

async fn open(store: &Store, district: &DistrictId) -> SyncRun {
    let mut r = run(district, at(1, 0));
    r.state = RunState::Running;
    store.create_run(&r).await.expect("create");
    r
}

async fn outcomes(store: &Store) -> Vec<(u64, Outcome)> {
    store
        .run_events_after(0, None, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.seq, e.summary.outcome))
        .collect()
}

async fn a_run_is_told_once_it_ends_or_is_held_and_never_while_it_moves(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    assert_eq!(store.run_events_head().await.expect("head"), 0);
    let mut r = open(&store, &cbe).await;
    // Progress saves tell nobody.
    r.counts.applied = 3;
    store
        .update_run(&r, &[RunState::Running])
        .await
        .expect("progress");
    assert!(outcomes(&store).await.is_empty());
    // Held by a threshold: told, with its counts.
    r.state = RunState::Paused;
    r.counts.planned.insert("student.archive".into(), 40);
    store
        .update_run(&r, &[RunState::Running])
        .await
        .expect("pause");
    // A compare-and-set that loses writes no event.
    r.state = RunState::Cancelled;
    let lost = store.update_run(&r, &[RunState::Running]).await;
    assert!(
        matches!(lost, Err(StoreError::StateChanged { .. })),
        "{lost:?}"
    );
    // Approved (moving again: nobody told), then ended.
    r.state = RunState::Running;
    store
        .update_run(&r, &[RunState::Paused])
        .await
        .expect("approve");
    r.state = RunState::Succeeded;
    store
        .update_run(&r, &[RunState::Running])
        .await
        .expect("end");
    assert_eq!(
        outcomes(&store).await,
        [(1, Outcome::Held), (2, Outcome::Succeeded)]
    );
    let events = store.run_events_after(0, None, 10).await.expect("events");
    assert_eq!(events[0].summary.counts["student.archive"], 40);
    assert_eq!(events[0].summary.run_id, r.id.to_string());
    assert_eq!(store.run_events_head().await.expect("head"), 2);
    assert_eq!(
        store
            .run_events_after(1, None, 10)
            .await
            .expect("after")
            .len(),
        1
    );
}

async fn events_are_numbered_in_commit_order_without_gaps(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "d0").await;
    let mut runs = Vec::new();
    for i in 0..24 {
        let id = format!("d{i}");
        if i > 0 {
            store
                .create_district(&district(&id))
                .await
                .expect("district");
        }
        runs.push(open(&store, &district_id(&id)).await);
    }
    // A reader follows the events while 24 runs end at once: each read continues exactly
    // where the last one stopped, so no event can appear behind it.
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            while seen.len() < 24 {
                for e in store
                    .run_events_after(after, None, 100)
                    .await
                    .expect("read")
                {
                    seen.push(e.seq);
                    after = e.seq;
                }
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for mut r in runs {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            r.state = RunState::Failed;
            r.error = Some("the source went away".into());
            // SQLite answers busy to a writer that waits too long: try again.
            for _ in 0..50 {
                match store.update_run(&r, &[RunState::Running]).await {
                    Ok(()) => return,
                    Err(StoreError::Database(_)) => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await
                    }
                    Err(e) => panic!("end a run: {e}"),
                }
            }
            panic!("the run never ended");
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let seen = reader.await.expect("reader");
    assert_eq!(seen, (1..=24).collect::<Vec<u64>>());
    let told = store.run_events_after(0, None, 100).await.expect("all");
    assert!(told
        .iter()
        .all(|e| e.summary.first_failure.as_deref() == Some("the source went away")));
}

async fn a_reader_sees_only_its_districts(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    store
        .create_district(&district("other"))
        .await
        .expect("district");
    let other = district_id("other");
    for d in [&cbe, &other, &cbe] {
        let mut r = open(&store, d).await;
        r.state = RunState::Succeeded;
        store
            .update_run(&r, &[RunState::Running])
            .await
            .expect("end");
    }
    let theirs = store
        .run_events_after(0, Some(std::slice::from_ref(&other)), 10)
        .await
        .expect("events");
    assert_eq!(theirs.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    let none = store
        .run_events_after(0, Some(&[]), 10)
        .await
        .expect("events");
    assert!(none.is_empty());
    // A deleted district's events go with it.
    let revision = store.get_district(&other).await.expect("district").revision;
    store
        .delete_district(&other, revision)
        .await
        .expect("delete");
    let left: Vec<u64> = store
        .run_events_after(0, None, 10)
        .await
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(left, [1, 3]);
}
