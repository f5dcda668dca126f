//! District sync runs (seed 001): connector stream → policy → plan → checks → apply.
//!
//! A run's life, one file per phase:
//! - this file: start, read, approve, cancel and finish — every change of a run's state is
//!   one compare-and-set in the store ([`store::Store::update_run`]), so of two racing
//!   calls exactly one wins and the other is told the state it found;
//! - [`stage`]: drain the connector into the store, record by record; counts and
//!   refused records checked when the source says the pull is complete;
//! - [`plan`]: plan the district from the staged pull, in key order, through the source's
//!   link rules;
//! - [`checks`]: completeness and thresholds on the plan, the approval fingerprint;
//! - [`apply`]: plan pages → store transactions with change log and checkpoint;
//! - [`lease`]: the background task working a run, its lease, and resuming interrupted
//!   runs; the nightly loop lives in [`crate::schedule`].
//!
//! Only when the pull ended complete are absent records archived; an empty, short or failed
//! pull fails the run and writes nothing. A plan over a threshold pauses the run until
//! approved or cancelled. A dry run stops at the plan.

pub mod apply;
pub mod checks;
pub mod lease;
pub mod plan;
mod review;
pub use review::ExclusionRequest;
pub mod stage;
mod start;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use connector::Connector;
use model::change::{Entity, Operation};
use model::ids::{DistrictId, RunId};
use model::run::{PlanItem, RunPhase, RunState, SyncRun};

use crate::access::Access;
use crate::districts::Districts;
use crate::error::Refusal;
use crate::{Engine, EngineError};

/// Warnings kept on a run record.
const KEPT_WARNINGS: usize = 100;
/// Runs per district whose plans are kept (ListRunChanges); older runs keep their
/// change-log rows only.
const KEPT_PLANS: u64 = 20;

/// How often a working run records its progress, and so sees through the store a cancel
/// asked of another replica; the checkpoint of an apply is written with every page.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Says when a run's progress is due to be recorded again: at once, then every
/// [`PROGRESS_EVERY`].
#[derive(Debug, Default)]
struct Pacer(Option<std::time::Instant>);

impl Pacer {
    fn due(&mut self) -> bool {
        let now = std::time::Instant::now();
        if self
            .0
            .is_some_and(|last| now.duration_since(last) < PROGRESS_EVERY)
        {
            return false;
        }
        self.0 = Some(now);
        true
    }
}

/// How a run in this process is told to stop.
#[derive(Debug, Default)]
pub struct RunControl {
    /// Someone asked to cancel the run (here; other replicas ask through the store).
    cancel: AtomicBool,
    /// The run's lease went to another replica: stop without writing anything more.
    lost: AtomicBool,
}

impl RunControl {
    fn stopping(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) || self.lost.load(Ordering::SeqCst)
    }
}

/// The runs this process is working on. One open run per district is the store's rule
/// (a unique index); this only keeps a process from working the same run twice.
#[derive(Debug, Default)]
pub struct RunRegistry {
    active: Mutex<HashMap<RunId, Arc<RunControl>>>,
}

impl RunRegistry {
    fn claim(&self, run: RunId) -> Option<Arc<RunControl>> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.contains_key(&run) {
            return None;
        }
        let control = Arc::new(RunControl::default());
        active.insert(run, control.clone());
        crate::metrics::leases_held(active.len());
        Some(control)
    }

    /// Claims a run the task that paused it may still be letting go of (it records the
    /// pause, then releases the run): waits a few seconds for that before giving up.
    async fn claim_when_free(&self, run: RunId) -> Option<Arc<RunControl>> {
        for _ in 0..500 {
            if let Some(control) = self.claim(run) {
                return Some(control);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        None
    }

    fn holds(&self, run: RunId) -> bool {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.contains_key(&run)
    }

    fn release(&self, run: RunId) {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.remove(&run);
        crate::metrics::leases_held(active.len());
    }

    /// Tells the run, if this process works it, to stop at its next step.
    fn cancel(&self, run: RunId) {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(control) = active.get(&run) {
            control.cancel.store(true, Ordering::SeqCst);
        }
    }
}

/// How a run starts working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// A new run.
    No,
    /// Interrupted before its plan was whole: plan again from the start.
    Replan,
    /// Interrupted while applying, or approved: apply from the checkpoint.
    Apply,
}

/// Why a run stopped before its end.
enum Stop {
    Failed(String),
    Cancelled,
}

impl From<store::StoreError> for Stop {
    fn from(e: store::StoreError) -> Self {
        match e {
            // Someone asked the run to stop: the conditional progress write saw it.
            store::StoreError::StateChanged { ref found, .. }
                if found == RunState::Cancelling.as_str() =>
            {
                Stop::Cancelled
            }
            e => Stop::Failed(format!("the store failed: {e}")),
        }
    }
}

impl Engine {
    /// District runs — start, read, approve, cancel, import, resume — for this engine's
    /// actor.
    pub fn runs(&self) -> Runs {
        Runs {
            store: self.store.clone(),
            districts: self.districts(),
            working: self.runs.clone(),
            instance: self.instance.clone(),
            lease: self.lease,
        }
    }
}

/// District runs: they need the store, the districts' service (a district, its connector,
/// the audit trail), the runs this replica works, its name on leases and how long a lease
/// lasts — nothing else of the engine. Cheap to clone: a run's background task holds one.
#[derive(Debug, Clone)]
pub struct Runs {
    pub(crate) store: store::Store,
    districts: Districts,
    /// The runs this replica works.
    working: Arc<RunRegistry>,
    /// This replica's name on run leases.
    pub(crate) instance: Arc<str>,
    /// How long a run's lease lasts without renewal.
    pub(crate) lease: std::time::Duration,
}

impl Runs {
    pub(crate) fn districts(&self) -> &Districts {
        &self.districts
    }

    fn access(&self) -> &Access {
        &self.districts.access
    }

    fn actor(&self) -> &str {
        self.access().actor()
    }

    /// The same, recording its work under `name`.
    pub(crate) fn acting_as(&self, name: &str) -> Runs {
        Runs {
            districts: self.districts.acting_as(name),
            ..self.clone()
        }
    }

    pub async fn get_run(&self, district: &DistrictId, id: RunId) -> Result<SyncRun, EngineError> {
        self.districts().get_district(district).await?;
        Ok(self.store.get_run(district, id).await?)
    }

    /// A district's runs, newest first, after `after` (the creation time and id of the
    /// last run of the previous page).
    pub async fn list_runs(
        &self,
        district: &DistrictId,
        after: Option<(chrono::DateTime<chrono::Utc>, RunId)>,
        limit: u64,
    ) -> Result<Vec<SyncRun>, EngineError> {
        self.districts().get_district(district).await?;
        Ok(self.store.list_runs(district, after, limit).await?)
    }

    /// The plan of a run (what it intends, or applied), paged by plan sequence number, each
    /// item with why a review kept it out, if it did; and the run, whose exclusions say who
    /// and why.
    pub async fn list_run_changes(
        &self,
        district: &DistrictId,
        id: RunId,
        entity: Option<Entity>,
        operation: Option<Operation>,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<(SyncRun, Vec<model::run::PlanEntry>), EngineError> {
        let run = self.get_run(district, id).await?;
        let entries = self
            .store
            .list_plan(district, id, entity, operation, after_seq, limit)
            .await?;
        Ok((run, entries))
    }

    /// Cancels a paused run (its plan is dropped unapplied) or asks a running one to stop:
    /// the replica working it sees the request through the store at its next page and
    /// records what it had applied. A run applying a plan someone approved is not
    /// cancelled: approving and cancelling are one decision, taken once.
    pub async fn cancel_run(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<SyncRun, EngineError> {
        // The state can move between the read and the write (a run pausing); look again
        // a few times rather than refuse a cancel that is still possible.
        for _ in 0..3 {
            let mut run = self.get_run(district, id).await?;
            let from = run.state;
            run.by.cancelled = self.actor().to_owned();
            match from {
                RunState::Paused => {
                    run.state = RunState::Cancelled;
                    run.enter(RunPhase::Done, crate::now());
                    run.finished_at = Some(crate::now());
                    run.error = Some("cancelled while paused; nothing was applied".into());
                }
                RunState::Running if run.approved_at.is_some() => {
                    return Err(EngineError::refused(Refusal::RunApproved, format!(
                        "run {id} is applying the plan approved at {}; an approved plan is applied to its end",
                        run.approved_at.map(|t| t.to_rfc3339()).unwrap_or_default()
                    )));
                }
                RunState::Running => run.state = RunState::Cancelling,
                other => {
                    return Err(EngineError::refused(
                        Refusal::RunStateConflict,
                        format!(
                            "run {id} is {}; it can no longer be cancelled",
                            other.as_str()
                        ),
                    ))
                }
            }
            match self.store.update_run(&run, &[from]).await {
                Ok(()) => {
                    self.working.cancel(id);
                    tracing::info!(district = %district, run = %id, from = from.as_str(), by = %self.actor(), "run cancelled");
                    self.access()
                        .audit(
                            district,
                            "run.cancel",
                            &id.to_string(),
                            format!("was {}", from.as_str()),
                        )
                        .await;
                    return Ok(run);
                }
                Err(store::StoreError::StateChanged { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let run = self.get_run(district, id).await?;
        Err(EngineError::refused(
            Refusal::RunStateConflict,
            format!(
                "run {id} is {}; it changed state while being cancelled, try again",
                run.state.as_str()
            ),
        ))
    }

    /// Records a run's progress, only while it is still running: a run someone asked to
    /// stop learns it here ([`Stop::Cancelled`]).
    async fn save_progress(&self, run: &SyncRun) -> Result<(), Stop> {
        self.store
            .update_run(run, &[RunState::Running])
            .await
            .map_err(Stop::from)
    }

    /// Records how a run ended, from the state it is in now.
    async fn finish(&self, run: &mut SyncRun, result: Result<RunState, Stop>) {
        let (state, error) = match result {
            Ok(state) => (state, None),
            Err(Stop::Cancelled) => (RunState::Cancelled, Some(cancel_note(run))),
            Err(Stop::Failed(reason)) => (RunState::Failed, Some(reason)),
        };
        run.state = state;
        run.error = error;
        if state != RunState::Paused {
            run.enter(RunPhase::Done, crate::now());
            run.finished_at = Some(crate::now());
        }
        let mut saved = self.store.update_run(run, &[RunState::Running]).await;
        if let Err(store::StoreError::StateChanged { found, .. }) = &saved {
            if found == RunState::Cancelling.as_str() {
                // Who asked is recorded on the stored run, not on this copy.
                if let Ok(stored) = self.store.get_run(&run.district_id, run.id).await {
                    run.by = stored.by;
                }
                // Asked to stop as it ended: a plan paused or dropped is a cancelled run;
                // a plan applied in full is recorded as it is, with the late request noted.
                if matches!(state, RunState::Paused | RunState::Cancelled) {
                    run.state = RunState::Cancelled;
                    run.enter(RunPhase::Done, crate::now());
                    run.finished_at = Some(crate::now());
                    run.error = Some(cancel_note(run));
                } else {
                    run.warnings
                        .push("a cancel arrived after the run had done its work".into());
                }
                saved = self.store.update_run(run, &[RunState::Cancelling]).await;
            }
        }
        if let Err(e) = saved {
            tracing::error!(run = %run.id, error = %e, "cannot record the end of a run");
            return;
        }
        match run.state {
            RunState::Failed => {
                tracing::warn!(district = %run.district_id, run = %run.id, error = run.error.as_deref().unwrap_or(""), "sync run failed")
            }
            s => {
                tracing::info!(district = %run.district_id, run = %run.id, state = s.as_str(), planned = run.counts.plan_items, applied = run.counts.applied, "sync run ended")
            }
        }
        if run.state.is_final() {
            match self.store.prune_plans(&run.district_id, KEPT_PLANS).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(district = %run.district_id, items = n, "plans of older runs dropped")
                }
                Err(e) => {
                    tracing::warn!(district = %run.district_id, error = %e, "cannot drop older plans")
                }
            }
        }
    }

    /// The source a run reads: the input kept with it (the file an import was given),
    /// or else its district's connector.
    pub(crate) async fn source_of_run(
        &self,
        d: &model::district::District,
        run: RunId,
    ) -> Result<Arc<dyn Connector>, EngineError> {
        match self.store.run_input_name(&d.id, run).await? {
            Some(_) => self.kept_input_source(d, run).await,
            None => self.districts().connector(d),
        }
    }

    /// Keeps a pull warning on the run (the first hundred in words, all counted).
    fn warn(run: &mut SyncRun, text: String) {
        run.counts.warnings += 1;
        if run.warnings.len() < KEPT_WARNINGS {
            run.warnings.push(text);
        }
    }
}

/// What a cancelled run had done, in words.
fn cancel_note(run: &SyncRun) -> String {
    match run.phase {
        RunPhase::Applying if run.counts.applied > 0 => format!(
            "cancelled while applying: {} of {} plan items had been applied (the change log holds them); the rest were not",
            run.counts.applied, run.counts.plan_items
        ),
        RunPhase::Applying => "cancelled before anything was applied".into(),
        _ => "cancelled before applying; nothing was written".into(),
    }
}

/// The answer to a caller whose conditional update lost to another.
fn lost_race(id: RunId, verb: &str, e: store::StoreError) -> EngineError {
    match e {
        store::StoreError::StateChanged { found, .. } => EngineError::refused(
            Refusal::RunStateConflict,
            format!("run {id} is {found}; it can no longer be {verb}"),
        ),
        e => e.into(),
    }
}

fn count(run: &mut SyncRun, item: &PlanItem) {
    let key = format!("{}.{}", item.entity().as_str(), item.operation().as_str());
    *run.counts.planned.entry(key).or_default() += 1;
}
