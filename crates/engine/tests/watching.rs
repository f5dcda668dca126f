//! Watching a run: every watcher of a run on one replica shares one poll of it, the poll
//! stops when the run settles or its last watcher leaves, and each reading carries the
//! run's phase history, so a watcher that arrives late sees every phase it missed.

use std::time::Duration;

use connector::Registry;
use model::district::{ConnectorConfig, District, DistrictSettings};
use model::ids::{DistrictId, RunId};
use model::run::{PhaseMark, RunCounts, RunMode, RunPhase, RunState, RunTrigger, SyncRun};
use rostersync_engine::watch::RUN_POLL;
use rostersync_engine::Engine;
use store::testing::TestDatabase;
use store::{Backend, Store};

async fn engine_on(backend: Backend) -> (TestDatabase, Engine, DistrictId) {
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(db.url()).await.expect("connect");
    store.migrate().await.expect("migrate");
    let id: DistrictId = "watched".parse().expect("id");
    let now = chrono::Utc::now();
    store
        .create_district(&District {
            id: id.clone(),
            name: "Watched".into(),
            connector: ConnectorConfig {
                kind: "powerschool".into(),
                ..ConnectorConfig::default()
            },
            settings: DistrictSettings::default(),
            time_zone: chrono_tz::America::Edmonton,
            created_at: now,
            updated_at: now,
            revision: 1,
            created_by: String::new(),
            updated_by: String::new(),
        })
        .await
        .expect("district");
    (db, Engine::new(store, Registry::new()), id)
}

fn running(district: &DistrictId) -> SyncRun {
    let now = chrono::Utc::now();
    SyncRun {
        id: RunId::new(),
        district_id: district.clone(),
        mode: RunMode::Full,
        trigger: RunTrigger::Manual,
        state: RunState::Running,
        phase: RunPhase::Pulling,
        error: None,
        counts: RunCounts::default(),
        trips: vec![],
        warnings: vec![],
        created_at: now,
        started_at: Some(now),
        finished_at: None,
        approved_at: None,
        request_id: None,
        phases: vec![PhaseMark {
            phase: RunPhase::Pulling,
            at: now,
        }],
        by: Default::default(),
        exclusions: Vec::new(),
        revert: None,
    }
}

/// Waits until the engine polls `n` runs for watchers, within five seconds.
async fn until_polled(engine: &Engine, n: usize) {
    for _ in 0..500 {
        if engine.watches().watched_runs() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "expected {n} polled runs, found {}",
        engine.watches().watched_runs()
    );
}

async fn watchers_share_one_poll_and_see_every_phase(backend: Backend) {
    let (_db, engine, district) = engine_on(backend).await;
    let store = engine.store().clone();
    let mut run = running(&district);
    store.create_run(&run).await.expect("run");

    let mut watchers = Vec::new();
    for _ in 0..3 {
        watchers.push(
            engine
                .watches()
                .watch_run(&district, run.id)
                .await
                .expect("watch"),
        );
    }
    assert_eq!(
        engine.watches().watched_runs(),
        1,
        "three watchers, one poll"
    );

    // The run moves through its phases faster than anyone watches.
    for phase in [RunPhase::Checking, RunPhase::Applying] {
        run.enter(phase, chrono::Utc::now());
        store
            .update_run(&run, &[RunState::Running])
            .await
            .expect("progress");
    }
    run.state = RunState::Succeeded;
    run.enter(RunPhase::Done, chrono::Utc::now());
    store
        .update_run(&run, &[RunState::Running])
        .await
        .expect("end");

    for mut w in watchers {
        let last = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let seen = w.borrow_and_update().clone().expect("a reading");
                if seen.state.is_final() {
                    return seen;
                }
                w.changed().await.expect("the poll reports the end");
            }
        })
        .await
        .expect("the end is seen in time");
        let phases: Vec<RunPhase> = last.phases.iter().map(|m| m.phase).collect();
        assert_eq!(
            phases,
            [
                RunPhase::Pulling,
                RunPhase::Checking,
                RunPhase::Applying,
                RunPhase::Done
            ],
            "no phase change is missed"
        );
    }
    until_polled(&engine, 0).await;

    // A watcher of a finished run gets it at once, with no poll.
    let late = engine
        .watches()
        .watch_run(&district, run.id)
        .await
        .expect("watch");
    assert!(late.borrow().as_ref().expect("reading").state.is_final());
    assert_eq!(engine.watches().watched_runs(), 0);
}

async fn the_poll_stops_when_the_last_watcher_leaves(backend: Backend) {
    let (_db, engine, district) = engine_on(backend).await;
    let run = running(&district);
    engine.store().create_run(&run).await.expect("run");
    let a = engine
        .watches()
        .watch_run(&district, run.id)
        .await
        .expect("watch");
    let b = engine
        .watches()
        .watch_run(&district, run.id)
        .await
        .expect("watch");
    assert_eq!(engine.watches().watched_runs(), 1);
    drop(a);
    tokio::time::sleep(RUN_POLL * 3).await;
    assert_eq!(
        engine.watches().watched_runs(),
        1,
        "one watcher is still there"
    );
    drop(b);
    until_polled(&engine, 0).await;
}

#[tokio::test]
async fn watchers_share_one_poll_and_see_every_phase_on_sqlite() {
    watchers_share_one_poll_and_see_every_phase(Backend::Sqlite).await;
}

#[tokio::test]
async fn watchers_share_one_poll_and_see_every_phase_on_postgres() {
    watchers_share_one_poll_and_see_every_phase(Backend::Postgres).await;
}

#[tokio::test]
async fn the_poll_stops_when_the_last_watcher_leaves_on_sqlite() {
    the_poll_stops_when_the_last_watcher_leaves(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_poll_stops_when_the_last_watcher_leaves_on_postgres() {
    the_poll_stops_when_the_last_watcher_leaves(Backend::Postgres).await;
}
