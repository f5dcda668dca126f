//! A run whose task dies — a connector plugin that panics — is recorded as failed with
//! the reason within seconds and its lease released, so the district syncs again at
//! once; the engine itself goes on.

#[macro_use]
mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use model::run::{RunMode, RunPhase, RunState, RunTrigger};
use store::Backend;

use common::{Bench, Roster};

async fn a_run_whose_task_panics_fails_with_its_reason_and_frees_the_district(backend: Backend) {
    let bench = Bench::new(backend, common::lenient()).await;
    bench.source.panics.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let run = bench
        .engine
        .runs()
        .start_sync(&bench.district, RunMode::Full, RunTrigger::Manual)
        .await
        .expect("start");
    let ended = loop {
        let r = bench
            .engine
            .runs()
            .get_run(&bench.district, run.id)
            .await
            .expect("run");
        if r.state.is_final() {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the run is still {} in {:?} 5 s after its task died",
            r.state.as_str(),
            r.phase
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    assert_eq!(ended.state, RunState::Failed);
    assert_eq!(ended.phase, RunPhase::Done);
    assert!(ended.finished_at.is_some());
    let error = ended.error.clone().unwrap_or_default();
    assert!(
        error.contains("stopped unexpectedly") && error.contains("index 3 out of range"),
        "the reason is the panic's: {error}"
    );
    // Its lease is given back just after its end is recorded.
    loop {
        let lease = bench
            .engine
            .store()
            .run_lease(&bench.district, run.id)
            .await
            .expect("lease");
        if lease.is_none() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the lease is still held: {lease:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("a run task killed by a panic was recorded failed after {took:?}");

    // The district is free: the next run (the plugin fixed) syncs.
    bench.source.panics.store(false, Ordering::SeqCst);
    let roster = Roster::generated(5);
    let next = bench
        .run(
            common::events(&roster, common::Order::Grouped),
            RunMode::Full,
        )
        .await;
    assert_eq!(next.state, RunState::Succeeded, "{:?}", next.error);
}

store::on_both_backends!(a_run_whose_task_panics_fails_with_its_reason_and_frees_the_district);
