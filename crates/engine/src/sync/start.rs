//! Starting a run: one open run per district (the store's rule), the run recorded as held
//! by this replica, its input kept, and its work spawned.

use std::sync::Arc;

use connector::Connector;
use model::ids::{DistrictId, RunId};
use model::run::{RunCounts, RunMode, RunPhase, RunState, RunTrigger, SyncRun};

use super::Runs;
use super::{Resume, Stop};
use crate::error::Refusal;
use crate::EngineError;

fn name_of_mode(mode: RunMode) -> &'static str {
    match mode {
        RunMode::Full => "full",
        RunMode::DryRun => "dry run",
    }
}

fn name_of_trigger(trigger: RunTrigger) -> &'static str {
    match trigger {
        RunTrigger::Manual => "started by hand",
        RunTrigger::Schedule => "nightly",
        RunTrigger::Import => "guardians.csv import",
        RunTrigger::Revert => "undo",
    }
}

impl Runs {
    /// Starts a run of `district` in the background and returns it as it starts.
    pub async fn start_sync(
        &self,
        district: &DistrictId,
        mode: RunMode,
        trigger: RunTrigger,
    ) -> Result<SyncRun, EngineError> {
        self.start_sync_for(district, mode, trigger, None, None, None)
            .await
    }

    /// Like [`Runs::start_sync`], for a caller's request `request_id`: the request's
    /// first attempt starts the run, and a retry (however late, even after the run
    /// ended) gets that run back instead of starting another.
    pub async fn start_sync_once(
        &self,
        district: &DistrictId,
        mode: RunMode,
        trigger: RunTrigger,
        request_id: &str,
    ) -> Result<SyncRun, EngineError> {
        self.districts().get_district(district).await?;
        if let Some(run) = self.store.run_of_request(district, request_id).await? {
            return Ok(run);
        }
        self.start_for_request(district, mode, trigger, Some(request_id), None)
            .await
    }

    /// Starts a run for the caller's request `request_id`, if it names one: should the
    /// start fail because another attempt of the same request started it meanwhile,
    /// that run is the answer.
    pub(crate) async fn start_for_request(
        &self,
        district: &DistrictId,
        mode: RunMode,
        trigger: RunTrigger,
        request_id: Option<&str>,
        given: Option<(Arc<dyn Connector>, crate::import::KeptFile)>,
    ) -> Result<SyncRun, EngineError> {
        let started = self
            .start_sync_for(
                district,
                mode,
                trigger,
                request_id.map(str::to_owned),
                given,
                None,
            )
            .await;
        match (started, request_id) {
            (Ok(run), _) => Ok(run),
            // Two attempts raced and the other one started it: that is the answer.
            (Err(e), Some(id)) => match self.store.run_of_request(district, id).await? {
                Some(run) => Ok(run),
                None => Err(e),
            },
            (Err(e), None) => Err(e),
        }
    }

    /// Starts a run pulling from the district's connector, or from `given` (an import:
    /// its source and the input kept with the run), or undoing the run `revert` names.
    pub(crate) async fn start_sync_for(
        &self,
        district: &DistrictId,
        mode: RunMode,
        trigger: RunTrigger,
        request_id: Option<String>,
        given: Option<(Arc<dyn Connector>, crate::import::KeptFile)>,
        revert: Option<model::run::Revert>,
    ) -> Result<SyncRun, EngineError> {
        let d = self.districts().get_district(district).await?;
        let (connector, input) = match given {
            Some((source, input)) => (source, Some(input)),
            None => (self.districts().connector(&d)?, None),
        };
        if let Some(open) = self.store.open_runs(district).await?.into_iter().next() {
            return Err(EngineError::refused(
                Refusal::RunAlreadyOpen,
                format!(
                    "district {district} already has run {} ({}); one run per district at a time",
                    open.id,
                    open.state.as_str()
                ),
            ));
        }
        let detail = match &revert {
            Some(r) => format!(
                "{} undo of run {}{}",
                name_of_mode(mode),
                r.run,
                if r.force { ", forced" } else { "" }
            ),
            None => format!("{} {}", name_of_mode(mode), name_of_trigger(trigger)),
        };
        let mut run = new_run(district, mode, trigger, request_id, self.actor());
        run.revert = revert;
        let Some(control) = self.working.claim(run.id) else {
            return Err(EngineError::refused(
                Refusal::RunHeldElsewhere,
                format!("run {} is already being worked", run.id),
            ));
        };
        if let Err(e) = self.create_held(&run).await {
            self.working.release(run.id);
            return Err(e);
        }
        if let Some(input) = &input {
            if let Err(e) = self.keep_file(district, run.id, input).await {
                self.working.release(run.id);
                let mut failed = run.clone();
                self.finish(
                    &mut failed,
                    Err(Stop::Failed(format!("cannot keep the file: {e}"))),
                )
                .await;
                return Err(e);
            }
        }
        if !self.take_lease(district, run.id).await? {
            self.working.release(run.id);
            return Err(EngineError::refused(
                Refusal::RunHeldElsewhere,
                format!("run {} is held by another replica", run.id),
            ));
        }
        tracing::info!(district = %district, run = %run.id, ?mode, by = %self.actor(), "sync run started");
        self.access()
            .audit(district, "run.start", &run.id.to_string(), detail)
            .await;
        let started = run.clone();
        self.spawn_run(d, run, connector, control, Resume::No);
        Ok(started)
    }

    /// Starts an undo of run `undone`: a run whose plan puts back every field, link and
    /// archive it changed, from the change log; `force` puts back fields later changes
    /// moved too. Refused for a run still open, a dry run, or one that changed nothing.
    pub async fn start_revert(
        &self,
        district: &DistrictId,
        undone: RunId,
        mode: RunMode,
        force: bool,
    ) -> Result<SyncRun, EngineError> {
        let target = self.get_run(district, undone).await?;
        let refuse = |why: String| Err(EngineError::refused(Refusal::RunStateConflict, why));
        if !target.state.is_final() {
            return refuse(format!(
                "run {undone} is {}; a run is undone once it has ended",
                target.state.as_str()
            ));
        }
        if target.mode == RunMode::DryRun {
            return refuse(format!("run {undone} was a dry run: it changed nothing"));
        }
        let logged = self
            .store
            .list_changes(district, model::change::ChangeSource::Run(undone), None, 1)
            .await?;
        if logged.is_empty() {
            return refuse(format!(
                "run {undone} changed nothing: there is nothing to undo"
            ));
        }
        let revert = model::run::Revert {
            run: undone,
            force,
            left: 0,
        };
        self.start_sync_for(district, mode, RunTrigger::Revert, None, None, Some(revert))
            .await
    }

    /// Records a new run as held by this replica; a district with an open run refuses it.
    async fn create_held(&self, run: &SyncRun) -> Result<(), EngineError> {
        let until = crate::now() + self.lease_span();
        let created = self.store.create_held_run(run, &self.instance, until).await;
        match created {
            Ok(()) => Ok(()),
            Err(store::StoreError::AlreadyExists {
                entity: "open sync run",
                ..
            }) => Err(EngineError::refused(
                Refusal::RunAlreadyOpen,
                format!(
                    "district {} already has an open run; one run per district at a time",
                    run.district_id
                ),
            )),
            Err(other) => Err(other.into()),
        }
    }
}

/// A run as it starts: running, pulling, started by `actor`.
fn new_run(
    district: &DistrictId,
    mode: RunMode,
    trigger: RunTrigger,
    request_id: Option<String>,
    actor: &str,
) -> SyncRun {
    let now = crate::now();
    SyncRun {
        id: RunId::new(),
        district_id: district.clone(),
        mode,
        trigger,
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
        request_id,
        phases: vec![model::run::PhaseMark {
            phase: RunPhase::Pulling,
            at: now,
        }],
        by: model::run::RunActors {
            started: actor.to_owned(),
            ..Default::default()
        },
        exclusions: Vec::new(),
        revert: None,
    }
}
