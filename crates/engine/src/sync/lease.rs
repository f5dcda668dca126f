//! The background task working a run, the run's lease, and resuming interrupted runs.
//!
//! A run is worked by the replica holding its lease (instance id + expiry in the run's
//! row), renewed every third of its span; a replica that loses it stops without writing
//! more. Runs left running by a process that died are taken over — at once by the same
//! instance after a restart, after the lease lapses by another replica — and resumed: an
//! apply from its checkpoint, a pull from the start. A run asked to stop whose replica is
//! gone is recorded as cancelled.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use connector::Connector;
use model::district::District;
use model::ids::{DistrictId, RunId};
use model::run::{RunCounts, RunPhase, RunState, SyncRun};

use super::Runs;
use super::{Resume, RunControl, Stop};
use crate::EngineError;

impl Runs {
    pub(super) fn lease_span(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
    }

    /// Takes or renews this replica's lease on a run; false when another live replica
    /// holds it.
    pub(super) async fn take_lease(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<bool, store::StoreError> {
        let now = crate::now();
        self.store
            .acquire_run_lease(district, id, &self.instance, now, now + self.lease_span())
            .await
    }

    /// Records a run that was asked to stop, and whose replica died, as cancelled.
    async fn finish_abandoned(&self, mut run: SyncRun) {
        if let Ok(Some(seq)) = self.store.run_checkpoint(&run.district_id, run.id).await {
            if let Ok(n) = self
                .store
                .count_plan_through(&run.district_id, run.id, seq)
                .await
            {
                run.counts.applied = n;
            }
        }
        let note = super::cancel_note(&run);
        run.state = RunState::Cancelled;
        run.enter(RunPhase::Done, crate::now());
        run.error = Some(note);
        run.finished_at = Some(crate::now());
        if let Err(e) = self.store.update_run(&run, &[RunState::Cancelling]).await {
            tracing::warn!(run = %run.id, error = %e, "cannot record a stopped run as cancelled");
        }
        let _ = self
            .store
            .release_run_lease(&run.district_id, run.id, &self.instance)
            .await;
    }

    /// Works `run` in the background while renewing its lease; a lost lease stops it. The
    /// work is watched: should its task end without finishing the run (a panic in a
    /// connector or anywhere on the run's path), the run is recorded as failed with the
    /// reason and its lease released at once — never left running under a lease this
    /// process keeps renewing.
    pub(super) fn spawn_run(
        &self,
        district: District,
        run: SyncRun,
        connector: Arc<dyn Connector>,
        control: Arc<RunControl>,
        resume: Resume,
    ) {
        let engine = self.clone();
        let (id, district_id) = (run.id, run.district_id.clone());
        let kind = district.connector.kind.clone();
        // Every line logged while the run is worked — the connector's too — carries the
        // district and the run.
        let span = tracing::info_span!("run", district = %run.district_id, run = %run.id);
        let renewer = engine.renew_lease(district_id.clone(), id, control.clone());
        let work = tokio::spawn(tracing::Instrument::instrument(
            engine
                .clone()
                .work(district, run, connector, control.clone(), resume),
            span.clone(),
        ));
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let ended = work.await;
                renewer.abort();
                if let Err(e) = ended {
                    let why = match e.try_into_panic() {
                        Ok(panic) => format!(
                            "the run stopped unexpectedly: {}",
                            model::limits::cut(&panic_text(panic.as_ref()), 300)
                        ),
                        Err(_) => "the run stopped unexpectedly: its task was cancelled".into(),
                    };
                    if control.lost.load(Ordering::SeqCst) {
                        tracing::warn!(run = %id, "the run's lease went to another replica; this replica stopped working it");
                    } else {
                        engine.end_dead_run(&district_id, id, &kind, why).await;
                    }
                }
                engine.working.release(id);
            },
            span,
        ));
    }

    /// The work of one run, from where `resume` says to its end.
    async fn work(
        self,
        district: District,
        mut run: SyncRun,
        connector: Arc<dyn Connector>,
        control: Arc<RunControl>,
        resume: Resume,
    ) {
        let engine = self;
        let id = run.id;
        let district_id = run.district_id.clone();
        let result = match resume {
            Resume::Apply => engine
                .apply(&mut run, &control)
                .await
                .map(|_| RunState::Succeeded),
            Resume::No | Resume::Replan => {
                if resume == Resume::Replan {
                    if let Err(e) = engine.store.delete_plan(&district_id, id).await {
                        tracing::error!(run = %id, error = %e, "cannot drop the interrupted plan");
                    }
                    if let Err(e) = engine.store.delete_staged(&district_id, id).await {
                        tracing::error!(run = %id, error = %e, "cannot drop the interrupted pull");
                    }
                    run.counts = RunCounts::default();
                    run.trips.clear();
                    run.warnings.clear();
                    run.enter(RunPhase::Pulling, crate::now());
                }
                let planned = if run.trigger == model::run::RunTrigger::Revert {
                    engine.plan_revert(&district, &mut run, &control).await
                } else {
                    engine
                        .pull_and_plan(&district, &mut run, connector, &control)
                        .await
                };
                match planned {
                    Ok(impact) => {
                        crate::metrics::planned(&run);
                        engine
                            .check_and_apply(&district, &mut run, impact, &control)
                            .await
                    }
                    Err(stop) => Err(stop),
                }
            }
        };
        if control.lost.load(Ordering::SeqCst) {
            tracing::warn!(run = %id, "the run's lease went to another replica; this replica stopped working it");
            return;
        }
        engine.finish(&mut run, result).await;
        crate::metrics::run_ended(&district.connector.kind, &run);
        engine.release_lease(&district_id, id).await;
    }

    async fn release_lease(&self, district: &DistrictId, id: RunId) {
        if let Err(e) = self
            .store
            .release_run_lease(district, id, &self.instance)
            .await
        {
            tracing::warn!(run = %id, error = %e, "cannot release the run's lease");
        }
    }

    /// Records a run whose task ended without finishing it as failed with `why` (or as
    /// cancelled, if it had been asked to stop), from what the store holds of it, and
    /// releases its lease: the district can sync again at once.
    async fn end_dead_run(&self, district: &DistrictId, id: RunId, kind: &str, why: String) {
        tracing::error!(run = %id, reason = %why, "a run's task ended without finishing it");
        let mut run = match self.store.get_run(district, id).await {
            Ok(run) => run,
            Err(e) => {
                tracing::error!(run = %id, error = %e, "cannot read the run to record how it ended");
                self.release_lease(district, id).await;
                return;
            }
        };
        if matches!(run.state, RunState::Running | RunState::Cancelling) {
            if run.phase == RunPhase::Applying {
                if let Ok(Some(seq)) = self.store.run_checkpoint(district, id).await {
                    if let Ok(n) = self.store.count_plan_through(district, id, seq).await {
                        run.counts.applied = n;
                    }
                }
            }
            self.finish(&mut run, Err(Stop::Failed(why))).await;
            crate::metrics::run_ended(kind, &run);
        }
        self.release_lease(district, id).await;
    }

    /// Renews the run's lease every third of its span; stops the run if it is lost.
    fn renew_lease(
        &self,
        district: DistrictId,
        id: RunId,
        control: Arc<RunControl>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let every = engine.lease / 3;
            loop {
                tokio::time::sleep(every).await;
                match engine.take_lease(&district, id).await {
                    Ok(true) => {}
                    Ok(false) => {
                        control.lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(run = %id, error = %e, "cannot renew the run's lease; trying again")
                    }
                }
            }
        })
    }

    /// Takes over running runs no live replica holds (this process after a restart, or a
    /// replica that died), up to [`RESUME_BATCH`] a call, and resumes them: an apply from
    /// its checkpoint, a pull from the start. Returns how many it resumed. One query when
    /// there is nothing to take over, however many districts there are.
    pub async fn resume_interrupted(&self) -> Result<usize, EngineError> {
        let mut resumed = 0;
        for run in self
            .store
            .unheld_open_runs(crate::now(), &self.instance, RESUME_BATCH)
            .await?
        {
            // Runs this process works are in hand.
            if self.working.holds(run.id) {
                continue;
            }
            let district = match self.store.get_district(&run.district_id).await {
                Ok(d) => d,
                Err(store::StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let d = &district;
            if !self.take_lease(&d.id, run.id).await? {
                continue;
            }
            if run.state == RunState::Cancelling {
                // Asked to stop, and whoever worked it is gone: it stops here.
                self.finish_abandoned(run).await;
                continue;
            }
            let Some(control) = self.working.claim(run.id) else {
                continue;
            };
            let connector = match self.source_of_run(d, run.id).await {
                Ok(c) => c,
                Err(e) => {
                    self.working.release(run.id);
                    let mut failed = run.clone();
                    self.finish(&mut failed, Err(Stop::Failed(e.to_string())))
                        .await;
                    continue;
                }
            };
            let how = if run.phase == RunPhase::Applying {
                Resume::Apply
            } else {
                Resume::Replan
            };
            tracing::info!(district = %d.id, run = %run.id, phase = ?run.phase, "resuming an interrupted run");
            self.spawn_run(d.clone(), run, connector, control, how);
            resumed += 1;
        }
        Ok(resumed)
    }
}

/// What a panic said, as text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Runs taken over in one look; more wait for the next.
pub const RESUME_BATCH: u64 = 100;
