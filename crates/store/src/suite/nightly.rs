//! The nightly clock kept with each district, and the claims replicas take on it.

use chrono::{Duration, TimeZone, Utc};
use model::district::District;
use model::run::{RunState, SyncRun};

use super::runs::{at, run};
use super::{district, district_id};
use crate::testing::TestDatabase;
use crate::Backend;

crate::on_both_backends!(
    a_district_is_due_from_its_midnight_only_while_daily_sync_is_on,
    a_claim_holds_a_district_until_its_next_time_is_set,
    concurrent_claims_never_take_one_district_twice,
    unheld_runs_are_the_open_ones_without_a_live_lease,
);

fn nightly(id: &str) -> District {
    let mut d = district(id);
    d.settings.daily_sync_enabled = true;
    d
}

async fn a_district_is_due_from_its_midnight_only_while_daily_sync_is_on(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    let on = nightly("on");
    let off = district("off");
    store.create_district(&on).await.expect("create");
    store.create_district(&off).await.expect("create");
    // Created 2026-11-24 09:00 UTC, 02:00 in Edmonton: due from that day's 07:00 UTC.
    let midnight = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
    assert_eq!(
        store.nightly_due_at(&on.id).await.expect("read"),
        Some(midnight)
    );
    assert_eq!(store.nightly_due_at(&off.id).await.expect("read"), None);

    // Turning daily sync on starts the clock at the start of the update's local day;
    // a change that moves neither the flag nor the zone leaves it.
    let mut turned = store.get_district(&off.id).await.expect("read");
    turned.settings.daily_sync_enabled = true;
    let turned = store.update_district(&turned).await.expect("update");
    let due = store
        .nightly_due_at(&off.id)
        .await
        .expect("read")
        .expect("due once on");
    assert_eq!(
        due,
        model::nightly::last_midnight(turned.time_zone, turned.updated_at)
    );
    assert!(store
        .set_nightly_due(&off.id, due, Some(midnight))
        .await
        .expect("set"));
    let mut renamed = store.get_district(&off.id).await.expect("read");
    renamed.name = "Renamed".into();
    store.update_district(&renamed).await.expect("update");
    assert_eq!(
        store.nightly_due_at(&off.id).await.expect("read"),
        Some(midnight),
        "a rename leaves the clock"
    );
    let mut off_again = store.get_district(&off.id).await.expect("read");
    off_again.settings.daily_sync_enabled = false;
    store.update_district(&off_again).await.expect("update");
    assert_eq!(store.nightly_due_at(&off.id).await.expect("read"), None);

    // Only what is due by `now` is claimed.
    let before = midnight - Duration::seconds(1);
    assert!(store
        .claim_due_nightly(before, before + Duration::minutes(2), 10)
        .await
        .expect("claim")
        .is_empty());
    let claimed = store
        .claim_due_nightly(midnight, midnight + Duration::minutes(2), 10)
        .await
        .expect("claim");
    assert_eq!(
        claimed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["on"]
    );
    assert_eq!(claimed[0], store.get_district(&on.id).await.expect("read"));
}

async fn a_claim_holds_a_district_until_its_next_time_is_set(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    for id in ["a", "b", "c"] {
        store.create_district(&nightly(id)).await.expect("create");
    }
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 7, 30, 0).unwrap();
    let hold = now + Duration::minutes(2);
    let first = store.claim_due_nightly(now, hold, 2).await.expect("claim");
    assert_eq!(
        first.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"],
        "a batch, soonest then by id"
    );
    let second = store.claim_due_nightly(now, hold, 2).await.expect("claim");
    assert_eq!(
        second.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["c"],
        "claimed districts are held"
    );
    assert!(store
        .claim_due_nightly(now, hold, 2)
        .await
        .expect("claim")
        .is_empty());

    // The claimer sets the next time; a district changed since its claim keeps its own.
    let tomorrow = Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap();
    assert!(store
        .set_nightly_due(&district_id("a"), hold, Some(tomorrow))
        .await
        .expect("set"));
    let mut b = store.get_district(&district_id("b")).await.expect("read");
    b.settings.daily_sync_enabled = false;
    store
        .update_district(&b)
        .await
        .expect("turned off meanwhile");
    assert!(!store
        .set_nightly_due(&district_id("b"), hold, Some(tomorrow))
        .await
        .expect("set"));
    assert_eq!(
        store.nightly_due_at(&district_id("b")).await.expect("read"),
        None
    );

    // A claimer that died: its hold lapses and the district is claimed again.
    let later = hold + Duration::seconds(1);
    let again = store
        .claim_due_nightly(later, later + Duration::minutes(2), 10)
        .await
        .expect("claim");
    assert_eq!(
        again.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
}

async fn concurrent_claims_never_take_one_district_twice(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    let ids: Vec<String> = (0..60).map(|i| format!("d{i:03}")).collect();
    for id in &ids {
        store.create_district(&nightly(id)).await.expect("create");
    }
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 7, 30, 0).unwrap();
    let hold = now + Duration::minutes(2);
    let mut claimers = Vec::new();
    for _ in 0..4 {
        let store = db.store().await;
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim_due_nightly(now, hold, 5).await.expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|d| d.id.to_string()));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.expect("claimer"));
    }
    all.sort();
    assert_eq!(all, ids, "every district claimed, none twice");
}

async fn unheld_runs_are_the_open_ones_without_a_live_lease(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    let mut open = Vec::new();
    for (i, id) in ["free", "held", "lapsed", "paused", "done"]
        .iter()
        .enumerate()
    {
        store.create_district(&district(id)).await.expect("create");
        let state = match *id {
            "paused" => RunState::Paused,
            "done" => RunState::Succeeded,
            _ => RunState::Running,
        };
        let r = SyncRun {
            state,
            ..run(&district_id(id), at(i as u32, 0))
        };
        store.create_run(&r).await.expect("run");
        open.push(r);
    }
    let now = at(30, 0);
    assert!(store
        .acquire_run_lease(
            &district_id("held"),
            open[1].id,
            "a",
            now,
            now + Duration::minutes(1)
        )
        .await
        .expect("lease"));
    assert!(store
        .acquire_run_lease(
            &district_id("lapsed"),
            open[2].id,
            "b",
            now - Duration::minutes(2),
            now - Duration::minutes(1)
        )
        .await
        .expect("lease"));
    let unheld = store.unheld_open_runs(now, "b", 10).await.expect("read");
    assert_eq!(
        unheld.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![open[0].id, open[2].id],
        "no lease or a lapsed one; paused and finished runs are not taken over"
    );
    assert_eq!(
        store
            .unheld_open_runs(now, "b", 1)
            .await
            .expect("read")
            .len(),
        1
    );
    // Replica a, restarted, takes back its own live lease at once.
    let own = store.unheld_open_runs(now, "a", 10).await.expect("read");
    assert_eq!(
        own.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![open[0].id, open[1].id, open[2].id],
        "a replica's own runs are its to resume without waiting for the lease"
    );

    // A run created held is its starter's from the moment it exists.
    store
        .create_district(&district("started"))
        .await
        .expect("create");
    let started = SyncRun {
        state: RunState::Running,
        ..run(&district_id("started"), at(20, 0))
    };
    store
        .create_held_run(&started, "a", now + Duration::minutes(1))
        .await
        .expect("run");
    assert!(!store
        .unheld_open_runs(now, "b", 10)
        .await
        .expect("read")
        .iter()
        .any(|r| r.id == started.id));
    let take = |owner: &'static str| {
        let store = store.clone();
        let id = started.id;
        async move {
            store
                .acquire_run_lease(
                    &district_id("started"),
                    id,
                    owner,
                    now,
                    now + Duration::minutes(1),
                )
                .await
                .expect("lease")
        }
    };
    assert!(!take("b").await, "another replica cannot take it");
    assert!(take("a").await, "its starter renews it");
}
