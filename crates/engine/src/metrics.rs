//! What the engine tells an operator's Prometheus (through the `metrics` facade; the
//! binary installs the exporter): runs by connector, trigger and outcome and how long
//! they took; records planned and applied by entity and operation; threshold trips;
//! spot sync latency; the run leases this replica holds. Every name is here.

use std::time::Duration;

use model::run::{PlanItem, SyncRun, ThresholdTrip};

pub const RUNS: &str = "rostersync_runs_total";
pub const RUN_SECONDS: &str = "rostersync_run_duration_seconds";
pub const PLANNED: &str = "rostersync_records_planned_total";
pub const APPLIED: &str = "rostersync_records_applied_total";
pub const TRIPS: &str = "rostersync_threshold_trips_total";
pub const SPOT_SECONDS: &str = "rostersync_spot_sync_duration_seconds";
pub const LEASES: &str = "rostersync_run_leases_held";

fn trigger(run: &SyncRun) -> &'static str {
    match run.trigger {
        model::run::RunTrigger::Manual => "manual",
        model::run::RunTrigger::Schedule => "schedule",
        model::run::RunTrigger::Import => "import",
        model::run::RunTrigger::Revert => "revert",
    }
}

/// A run ended (or paused) with this connector.
pub fn run_ended(connector: &str, run: &SyncRun) {
    let labels = [
        ("connector", connector.to_owned()),
        ("trigger", trigger(run).to_owned()),
        ("outcome", run.state.as_str().to_owned()),
    ];
    metrics::counter!(RUNS, &labels).increment(1);
    if let (Some(start), Some(end)) = (run.started_at, run.finished_at) {
        let seconds = (end - start).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!(RUN_SECONDS, &labels[..2]).record(seconds);
    }
}

/// A run's plan, by entity and operation (`student.create` → student, create).
pub fn planned(run: &SyncRun) {
    for (key, n) in &run.counts.planned {
        let (entity, operation) = key.split_once('.').unwrap_or((key.as_str(), ""));
        metrics::counter!(PLANNED, "entity" => entity.to_owned(), "operation" => operation.to_owned())
            .increment(*n);
    }
}

/// Plan items written to the store.
pub fn applied(items: &[(u64, PlanItem)]) {
    for (_, item) in items {
        metrics::counter!(
            APPLIED,
            "entity" => item.entity().as_str(),
            "operation" => item.operation().as_str()
        )
        .increment(1);
    }
}

/// Limits a run's plan went over.
pub fn tripped(trips: &[ThresholdTrip]) {
    for t in trips {
        metrics::counter!(TRIPS, "limit" => t.limit.clone()).increment(1);
    }
}

/// One spot sync's service time, with whether it succeeded.
pub fn spot_sync(ok: bool, took: Duration) {
    metrics::histogram!(SPOT_SECONDS, "outcome" => if ok { "ok" } else { "error" })
        .record(took.as_secs_f64());
}

/// How many runs this replica holds now.
pub fn leases_held(n: usize) {
    metrics::gauge!(LEASES).set(n as f64);
}
