//! The nightly run (seed 001), across any number of districts and replicas: the rules of
//! the night are [`model::nightly`]'s; this is the loop that applies them.
//!
//! Each district row carries when its nightly run is next to be looked at. A replica's
//! background loop claims the districts due (a batch at a time, rows other replicas are
//! claiming skipped), starts each one's run under a request id naming its night — so a
//! second start of the same night, by a retry or by another replica after a crash, gets
//! the same run — and sets the next time. The loop's queries per tick do not grow with the
//! number of districts.

use chrono::{DateTime, Duration, Utc};
use model::district::District;
use model::nightly::{last_midnight, next_midnight, night_of, nightly_due, CATCH_UP};
use model::run::{RunMode, RunTrigger};

use crate::sync::Runs;
use crate::{Engine, EngineError};

/// Districts claimed in one look; more wait for the next tick.
pub const NIGHTLY_BATCH: u64 = 50;

/// How long a claim keeps other replicas off a district while its run starts; should the
/// claiming replica die first, another takes the district over after it.
pub const CLAIM_HOLD: Duration = Duration::minutes(2);

/// When a night's run could not start (another run open, the store away), it is tried
/// again after this, within the night's catch-up window.
pub const RETRY_AFTER: Duration = Duration::minutes(1);

/// How often the outbox is looked at for deliveries due.
pub const NOTIFY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long run events are kept once every subscriber was told of them.
pub const EVENTS_KEPT: Duration = Duration::days(30);

/// How often old run events are dropped.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// How the request ids of scheduled runs begin; callers' request ids may not.
pub const NIGHTLY_REQUEST_PREFIX: &str = "nightly:";

/// The request id of a district's scheduled run for one night.
pub fn nightly_request_id(night: &str) -> String {
    format!("{NIGHTLY_REQUEST_PREFIX}{night}")
}

impl Engine {
    /// The nightly schedule and the background loop.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            runs: self.runs(),
            notify: self.notify(),
        }
    }
}

/// The nightly schedule and the background loop: it needs the runs' service (and its
/// store) and the notifications' — nothing else of the engine.
#[derive(Debug, Clone)]
pub struct Schedule {
    runs: Runs,
    notify: crate::notify::Notify,
}

impl Schedule {
    /// Starts tonight's run of every district this replica claims as due (up to
    /// [`NIGHTLY_BATCH`] a call); answers how many runs it started.
    pub async fn start_due_nightly_runs(&self) -> Result<usize, EngineError> {
        let now = crate::now();
        let hold = now + CLAIM_HOLD;
        let claimed = self
            .runs
            .store
            .claim_due_nightly(now, hold, NIGHTLY_BATCH)
            .await?;
        let mut started = 0;
        for d in &claimed {
            let (next, ran) = self.nightly(d, now).await;
            started += usize::from(ran);
            if let Err(e) = self.runs.store.set_nightly_due(&d.id, hold, next).await {
                // The claim lapses and the district is looked at again then.
                tracing::warn!(district = %d.id, error = %e, "cannot set the next nightly time");
            }
        }
        Ok(started)
    }

    /// Looks at one claimed district's night: starts its run when due. Answers when to
    /// look again and whether a run started.
    async fn nightly(&self, d: &District, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, bool) {
        if !d.settings.daily_sync_enabled {
            return (None, false);
        }
        let tomorrow = Some(next_midnight(d.time_zone, now));
        // Past the night's catch-up window: nothing to read.
        if !nightly_due(true, d.time_zone, now, None) {
            return (tomorrow, false);
        }
        // A run of tonight started before the district's clock was kept (or under another
        // request id) counts too.
        let last = match self.runs.store.list_runs(&d.id, None, 50).await {
            Ok(runs) => runs
                .into_iter()
                .find(|r| r.trigger == RunTrigger::Schedule)
                .map(|r| r.created_at),
            Err(e) => {
                tracing::warn!(district = %d.id, error = %e, "cannot read the district's runs");
                return (Some(retry(d, now)), false);
            }
        };
        if !nightly_due(true, d.time_zone, now, last) {
            return (tomorrow, false);
        }
        let request = nightly_request_id(&night_of(d.time_zone, now));
        match self
            .runs
            .acting_as(&model::access::Caller::service("schedule").name)
            .start_sync_once(&d.id, RunMode::Full, RunTrigger::Schedule, &request)
            .await
        {
            Ok(run) => {
                tracing::info!(district = %d.id, run = %run.id, instance = %self.runs.instance, "nightly run started");
                (tomorrow, true)
            }
            Err(EngineError::Precondition { message: why, .. }) => {
                tracing::info!(district = %d.id, "nightly run not started yet: {why}");
                (Some(retry(d, now)), false)
            }
            Err(e) => {
                tracing::warn!(district = %d.id, error = %e, "nightly run could not start");
                (Some(retry(d, now)), false)
            }
        }
    }

    /// The service's background work until `shutdown`: resume interrupted runs at once,
    /// then keep taking over lapsed runs and starting nightly runs (every third of a
    /// lease), and delivering notifications (every [`NOTIFY_EVERY`], or as often).
    pub async fn background(self, shutdown: impl std::future::Future<Output = ()>) {
        let runs_every = (self.runs.lease / 3).clamp(
            std::time::Duration::from_millis(200),
            std::time::Duration::from_secs(30),
        );
        let tick = runs_every.min(NOTIFY_EVERY);
        let mut runs_last: Option<std::time::Instant> = None;
        let mut pruned_last: Option<std::time::Instant> = None;
        tokio::pin!(shutdown);
        loop {
            if pruned_last.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned_last = Some(std::time::Instant::now());
                match self
                    .runs
                    .store
                    .prune_run_events(Utc::now() - EVENTS_KEPT)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "run events older than 30 days dropped"),
                    Err(e) => tracing::warn!(error = %e, "cannot drop old run events"),
                }
            }
            if runs_last.is_none_or(|at| at.elapsed() >= runs_every) {
                runs_last = Some(std::time::Instant::now());
                if let Err(e) = self.runs.resume_interrupted().await {
                    tracing::warn!(error = %e, "cannot look for interrupted runs");
                }
                if let Err(e) = self.start_due_nightly_runs().await {
                    tracing::warn!(error = %e, "cannot start nightly runs");
                }
            }
            if let Err(e) = self.notify.deliver_due().await {
                tracing::warn!(error = %e, "cannot deliver notifications");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    }
}

/// When to try a night's run again: shortly, or at the next midnight once the night's
/// catch-up window is over.
fn retry(d: &District, now: DateTime<Utc>) -> DateTime<Utc> {
    let again = now + RETRY_AFTER;
    if again - last_midnight(d.time_zone, now) >= CATCH_UP {
        next_midnight(d.time_zone, now)
    } else {
        again
    }
}
