//! District sync runs (seed 001): connector stream → policy → plan → checks → apply.
//!
//! A run pulls batch by batch, plans each batch against the store (the policy decides
//! links and tiers) and stores the plan as it goes, so memory holds one batch, the ids of
//! the students seen and the guardians planned. Only when the pull ended complete — the
//! connector's Complete event with counts that agree — are absent students planned for
//! archiving; an empty, short or failed pull fails the run and writes nothing. The plan is
//! then held against the district's thresholds: over one, the run pauses with its plan
//! stored until approved or cancelled. A dry run stops at the plan. Apply reads the plan
//! back in pages and writes each page in one transaction with its change-log rows and the
//! run's checkpoint, so an interrupted apply resumes where it stopped.

pub mod diff;
pub mod plan;
pub mod thresholds;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use connector::{Connector, RosterEvent, Tally};
use futures::StreamExt;
use model::change::{ChangeSource, Entity, Operation};
use model::district::{ArchivedStudents, District};
use model::ids::{DistrictId, GuardianId, RunId, SourceId};
use model::run::{PlanItem, RunCounts, RunMode, RunPhase, RunState, RunTrigger, SyncRun};

use crate::{Engine, EngineError};
use plan::{is_downgrade, Batch, BatchState, Planner};
use thresholds::PlanImpact;

/// Plan items read and applied per transaction.
const APPLY_PAGE: u64 = 500;
/// Warnings kept on a run record.
const KEPT_WARNINGS: usize = 100;
/// Runs per district whose plans are kept (ListRunChanges); older runs keep their
/// change-log rows only.
const KEPT_PLANS: u64 = 20;
/// Students per page of the archive sweep.
const SWEEP_PAGE: u64 = 1_000;

/// How a run in this process is told to stop.
#[derive(Debug, Default)]
pub struct RunControl {
    /// Someone asked to cancel the run.
    cancel: AtomicBool,
    /// The run's lease went to another replica: stop without writing anything more.
    lost: AtomicBool,
}

impl RunControl {
    fn stopping(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) || self.lost.load(Ordering::SeqCst)
    }
}

/// The runs this process is working on, one per district.
#[derive(Debug, Default)]
pub struct RunRegistry {
    active: Mutex<HashMap<DistrictId, (RunId, Arc<RunControl>)>>,
}

impl RunRegistry {
    fn claim(&self, district: &DistrictId, run: RunId) -> Option<Arc<RunControl>> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.contains_key(district) {
            return None;
        }
        let control = Arc::new(RunControl::default());
        active.insert(district.clone(), (run, control.clone()));
        Some(control)
    }

    fn holds(&self, district: &DistrictId) -> bool {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.contains_key(district)
    }

    fn release(&self, district: &DistrictId, run: RunId) {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.get(district).is_some_and(|(id, _)| *id == run) {
            active.remove(district);
        }
    }

    fn cancel(&self, district: &DistrictId, run: RunId) -> bool {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        match active.get(district) {
            Some((id, control)) if *id == run => {
                control.cancel.store(true, Ordering::SeqCst);
                true
            }
            _ => false,
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
        Stop::Failed(format!("the store failed: {e}"))
    }
}

impl Engine {
    /// Starts a run of `district` in the background and returns it as it starts.
    pub async fn start_sync(
        &self,
        district: &DistrictId,
        mode: RunMode,
        trigger: RunTrigger,
    ) -> Result<SyncRun, EngineError> {
        let d = self.get_district(district).await?;
        let connector = self.connector(&d)?;
        if let Some(open) = self.store.open_runs(district).await?.into_iter().next() {
            return Err(EngineError::Precondition(format!(
                "district {district} already has run {} ({}); one run per district at a time",
                open.id,
                state_name(open.state)
            )));
        }
        let now = crate::now();
        let run = SyncRun {
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
        };
        let Some(cancel) = self.runs.claim(district, run.id) else {
            return Err(EngineError::Precondition(format!(
                "district {district} already has a run in progress; one run per district at a time"
            )));
        };
        if let Err(e) = self.store.create_run(&run).await {
            self.runs.release(district, run.id);
            return Err(match e {
                store::StoreError::AlreadyExists {
                    entity: "open sync run",
                    ..
                } => EngineError::Precondition(format!(
                    "district {district} already has an open run; one run per district at a time"
                )),
                other => other.into(),
            });
        }
        let now = crate::now();
        if !self
            .store
            .acquire_run_lease(
                district,
                run.id,
                &self.instance,
                now,
                now + self.lease_span(),
            )
            .await?
        {
            self.runs.release(district, run.id);
            return Err(EngineError::Precondition(format!(
                "run {} is held by another replica",
                run.id
            )));
        }
        tracing::info!(district = %district, run = %run.id, ?mode, "sync run started");
        let started = run.clone();
        self.spawn_run(d, run, connector, cancel, Resume::No);
        Ok(started)
    }

    pub async fn get_run(&self, district: &DistrictId, id: RunId) -> Result<SyncRun, EngineError> {
        self.get_district(district).await?;
        Ok(self.store.get_run(district, id).await?)
    }

    pub async fn list_runs(
        &self,
        district: &DistrictId,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<SyncRun>, EngineError> {
        self.get_district(district).await?;
        Ok(self.store.list_runs(district, limit, offset).await?)
    }

    /// The plan of a run (what it intends, or applied), paged by plan sequence number.
    pub async fn list_run_changes(
        &self,
        district: &DistrictId,
        id: RunId,
        entity: Option<Entity>,
        operation: Option<Operation>,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, PlanItem)>, EngineError> {
        self.get_run(district, id).await?;
        Ok(self
            .store
            .list_plan(district, id, entity, operation, after_seq, limit)
            .await?)
    }

    /// Applies the stored plan of a run paused by a threshold, exactly as planned.
    pub async fn approve_run(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<SyncRun, EngineError> {
        let mut run = self.get_run(district, id).await?;
        if run.state != RunState::Paused {
            return Err(EngineError::Precondition(format!(
                "run {id} is {}; only a run paused by a threshold can be approved",
                state_name(run.state)
            )));
        }
        let now_print = self.fingerprint(district).await?;
        if now_print != run.counts.fingerprint {
            return Err(EngineError::Precondition(format!(
                "the district's data changed since run {id} was planned; cancel it and start a new run"
            )));
        }
        let Some(cancel) = self.runs.claim(district, id) else {
            return Err(EngineError::Precondition(format!(
                "district {district} has a run in progress"
            )));
        };
        let now = crate::now();
        if !self
            .store
            .acquire_run_lease(district, id, &self.instance, now, now + self.lease_span())
            .await?
        {
            self.runs.release(district, id);
            return Err(EngineError::Precondition(format!(
                "run {id} is held by another replica"
            )));
        }
        run.state = RunState::Running;
        run.phase = RunPhase::Applying;
        self.store.update_run(&run).await?;
        tracing::info!(district = %district, run = %id, "paused run approved");
        let d = self.get_district(district).await?;
        let connector = self.connector(&d)?;
        let answer = run.clone();
        self.spawn_run(d, run, connector, cancel, Resume::Apply);
        Ok(answer)
    }

    /// Cancels a paused run (its plan is dropped unapplied) or stops a running one.
    pub async fn cancel_run(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<SyncRun, EngineError> {
        let mut run = self.get_run(district, id).await?;
        match run.state {
            RunState::Paused => {
                run.state = RunState::Cancelled;
                run.phase = RunPhase::Done;
                run.finished_at = Some(crate::now());
                self.store.update_run(&run).await?;
                Ok(run)
            }
            RunState::Running => {
                if !self.runs.cancel(district, id) {
                    return Err(EngineError::Precondition(format!(
                        "run {id} is running in another process; cancel it there"
                    )));
                }
                Ok(run)
            }
            other => Err(EngineError::Precondition(format!(
                "run {id} is {}; it can no longer be cancelled",
                state_name(other)
            ))),
        }
    }

    /// What approving checks has not moved: the change log, students and links held.
    async fn fingerprint(&self, district: &DistrictId) -> Result<String, EngineError> {
        let changes = self.store.count_changes(district).await?;
        let students = self.store.count_students(district, false).await?;
        let links = self.store.count_links(district).await?;
        Ok(format!(
            "changes={changes};students={students};links={links}"
        ))
    }

    fn lease_span(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
    }

    /// Works `run` in the background while renewing its lease; a lost lease stops it.
    fn spawn_run(
        &self,
        district: District,
        mut run: SyncRun,
        connector: Arc<dyn Connector>,
        control: Arc<RunControl>,
        resume: Resume,
    ) {
        let engine = self.clone();
        tokio::spawn(async move {
            let id = run.id;
            let district_id = run.district_id.clone();
            let renewer = engine.renew_lease(district_id.clone(), id, control.clone());
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
                        run.counts = RunCounts::default();
                        run.trips.clear();
                        run.warnings.clear();
                        run.phase = RunPhase::Pulling;
                    }
                    match engine
                        .pull_and_plan(&district, &mut run, connector, &control)
                        .await
                    {
                        Ok(impact) => {
                            engine
                                .check_and_apply(&district, &mut run, impact, &control)
                                .await
                        }
                        Err(stop) => Err(stop),
                    }
                }
            };
            renewer.abort();
            if control.lost.load(Ordering::SeqCst) {
                tracing::warn!(run = %id, "the run's lease went to another replica; this replica stopped working it");
            } else {
                engine.finish(&mut run, result).await;
                if let Err(e) = engine
                    .store
                    .release_run_lease(&district_id, id, &engine.instance)
                    .await
                {
                    tracing::warn!(run = %id, error = %e, "cannot release the run's lease");
                }
            }
            engine.runs.release(&district_id, id);
        });
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
                let now = crate::now();
                match engine
                    .store
                    .acquire_run_lease(
                        &district,
                        id,
                        &engine.instance,
                        now,
                        now + engine.lease_span(),
                    )
                    .await
                {
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

    /// Takes over every running run no live replica holds (this process after a restart,
    /// or a replica that died) and resumes it: an apply from its checkpoint, a pull from
    /// the start. Returns how many it resumed.
    pub async fn resume_interrupted(&self) -> Result<usize, EngineError> {
        let mut resumed = 0;
        let mut after = None;
        loop {
            let page = self.store.list_districts(after.as_ref(), 100).await?;
            for d in &page.districts {
                if self.runs.holds(&d.id) {
                    continue;
                }
                for run in self.store.open_runs(&d.id).await? {
                    if run.state != RunState::Running {
                        continue;
                    }
                    let now = crate::now();
                    let taken = self
                        .store
                        .acquire_run_lease(
                            &d.id,
                            run.id,
                            &self.instance,
                            now,
                            now + self.lease_span(),
                        )
                        .await?;
                    if !taken {
                        continue;
                    }
                    let Some(control) = self.runs.claim(&d.id, run.id) else {
                        continue;
                    };
                    let connector = match self.connector(d) {
                        Ok(c) => c,
                        Err(e) => {
                            self.runs.release(&d.id, run.id);
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
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(resumed),
            }
        }
    }

    /// Starts tonight's run of every district whose nightly run is due.
    pub async fn start_due_nightly_runs(&self) -> Result<usize, EngineError> {
        let now = crate::now();
        let mut started = 0;
        let mut after = None;
        loop {
            let page = self.store.list_districts(after.as_ref(), 100).await?;
            for d in &page.districts {
                if !d.settings.daily_sync_enabled {
                    continue;
                }
                let last = self
                    .store
                    .list_runs(&d.id, 50, 0)
                    .await?
                    .into_iter()
                    .find(|r| r.trigger == RunTrigger::Schedule)
                    .map(|r| r.created_at);
                if !crate::schedule::nightly_due(true, d.time_zone, now, last) {
                    continue;
                }
                match self
                    .start_sync(&d.id, RunMode::Full, RunTrigger::Schedule)
                    .await
                {
                    Ok(run) => {
                        tracing::info!(district = %d.id, run = %run.id, "nightly run started");
                        started += 1;
                    }
                    Err(EngineError::Precondition(why)) => {
                        tracing::info!(district = %d.id, "nightly run not started: {why}")
                    }
                    Err(e) => {
                        tracing::warn!(district = %d.id, error = %e, "nightly run could not start")
                    }
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(started),
            }
        }
    }

    /// The service's background work until `shutdown`: resume interrupted runs at once,
    /// then keep taking over lapsed runs and starting nightly runs.
    pub async fn background(self, shutdown: impl std::future::Future<Output = ()>) {
        let tick = (self.lease / 3).clamp(
            std::time::Duration::from_millis(200),
            std::time::Duration::from_secs(30),
        );
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.resume_interrupted().await {
                tracing::warn!(error = %e, "cannot look for interrupted runs");
            }
            if let Err(e) = self.start_due_nightly_runs().await {
                tracing::warn!(error = %e, "cannot start nightly runs");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    }

    async fn finish(&self, run: &mut SyncRun, result: Result<RunState, Stop>) {
        let (state, error) = match result {
            Ok(state) => (state, None),
            Err(Stop::Cancelled) => (RunState::Cancelled, None),
            Err(Stop::Failed(reason)) => (RunState::Failed, Some(reason)),
        };
        run.state = state;
        run.error = error;
        if state != RunState::Paused {
            run.phase = RunPhase::Done;
            run.finished_at = Some(crate::now());
        }
        match state {
            RunState::Failed => {
                tracing::warn!(district = %run.district_id, run = %run.id, error = run.error.as_deref().unwrap_or(""), "sync run failed")
            }
            _ => {
                tracing::info!(district = %run.district_id, run = %run.id, state = state_name(state), planned = run.counts.plan_items, applied = run.counts.applied, "sync run ended")
            }
        }
        if let Err(e) = self.store.update_run(run).await {
            tracing::error!(run = %run.id, error = %e, "cannot record the end of a run");
        }
        if state.is_final() {
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

    async fn pull_and_plan(
        &self,
        district: &District,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        cancel: &RunControl,
    ) -> Result<PlanImpact, Stop> {
        let id = &district.id;
        let mut impact = PlanImpact {
            students_held: self.store.count_students(id, false).await?,
            links_held: self.store.count_links(id).await?,
            ..PlanImpact::default()
        };
        let mut planner = Planner::new(district.settings.clone(), crate::now());
        let mut stream = connector.roster();
        let mut tally = Tally::default();
        let mut declared = None;
        let mut pending = Batch::default();
        let mut seq = 0u64;
        while let Some(item) = stream.next().await {
            if cancel.stopping() {
                return Err(Stop::Cancelled);
            }
            let event = item
                .map_err(|e| Stop::Failed(format!("the pull failed, nothing was written: {e}")))?;
            tally.add(&event);
            match event {
                RosterEvent::Students(students) => {
                    if !pending.students.is_empty() {
                        let batch = std::mem::take(&mut pending);
                        seq = self
                            .plan_batch(district, run, &mut planner, &batch, seq, &mut impact)
                            .await?;
                    }
                    pending.students = students;
                }
                RosterEvent::Contacts(c) => pending.contacts.extend(c),
                RosterEvent::GuardianAccounts(a) => pending.accounts.extend(a),
                RosterEvent::Warning(w) => {
                    run.counts.warnings += 1;
                    if run.warnings.len() < KEPT_WARNINGS {
                        run.warnings
                            .push(format!("{} {}: {}", w.endpoint, w.record, w.message));
                    }
                }
                RosterEvent::Complete(counts) => declared = Some(counts),
                RosterEvent::Schools(_)
                | RosterEvent::Staff(_)
                | RosterEvent::Classrooms(_)
                | RosterEvent::Enrollments(_) => {}
            }
        }
        if !pending.is_empty() {
            let batch = std::mem::take(&mut pending);
            seq = self
                .plan_batch(district, run, &mut planner, &batch, seq, &mut impact)
                .await?;
        }
        let received = tally.received;
        run.counts.fetched = [
            ("schools", received.schools),
            ("students", received.students),
            ("contacts", received.contacts),
            ("guardian_accounts", received.guardian_accounts),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let Some(declared) = declared else {
            return Err(Stop::Failed(
                "the pull ended without the source declaring it complete; nothing was written"
                    .into(),
            ));
        };
        let mismatches = tally.verify(&declared);
        if !mismatches.is_empty() {
            let list: Vec<String> = mismatches
                .iter()
                .map(|m| {
                    format!(
                        "{}: declared {}, received {}",
                        m.entity, m.declared, m.received
                    )
                })
                .collect();
            return Err(Stop::Failed(format!(
                "the pull is incomplete ({}); nothing was written or archived",
                list.join("; ")
            )));
        }
        if received.students == 0 && impact.students_held > 0 {
            return Err(Stop::Failed(format!(
                "the source listed no students while {} are held; an empty pull never archives a district",
                impact.students_held
            )));
        }
        if district.settings.archived_students == ArchivedStudents::Archive {
            self.plan_archives(district, run, &planner, seq, &mut impact)
                .await?;
        }
        Ok(impact)
    }

    async fn plan_batch(
        &self,
        district: &District,
        run: &mut SyncRun,
        planner: &mut Planner,
        batch: &Batch,
        seq: u64,
        impact: &mut PlanImpact,
    ) -> Result<u64, Stop> {
        let state = self.batch_state(&district.id, batch).await?;
        let items = planner.plan_batch(batch, &state);
        // The school of each student of the batch, by our id, for the per-school summary.
        let school_of_source: HashMap<&SourceId, String> = batch
            .students
            .iter()
            .map(|s| {
                (
                    &s.source_id,
                    s.school_source_id
                        .as_ref()
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        let mut school_of: HashMap<model::ids::StudentId, String> = state
            .students
            .values()
            .map(|s| {
                let school = school_of_source
                    .get(&s.value.source_id)
                    .cloned()
                    .unwrap_or_default();
                (s.value.id, school)
            })
            .collect();
        for item in &items {
            if let PlanItem::Student { student, .. } = item {
                let school = school_of_source
                    .get(&student.source_id)
                    .cloned()
                    .unwrap_or_default();
                school_of.insert(student.id, school);
            }
        }
        for item in &items {
            count(run, item);
            let student = match item {
                PlanItem::Student { student, .. } => Some(student.id),
                PlanItem::Link { link, .. } => Some(link.student_id),
                PlanItem::Guardian { .. } => None,
            };
            if let Some(school) = student.and_then(|id| school_of.get(&id)) {
                let key = format!(
                    "{school}/{}.{}",
                    item.entity().as_str(),
                    item.operation().as_str()
                );
                *run.counts.planned_by_school.entry(key).or_default() += 1;
            }
            if is_downgrade(item) {
                impact.links_downgraded += 1;
            }
            if plan::is_link_removal(item) {
                impact.links_removed += 1;
            }
        }
        self.store
            .append_plan(&district.id, run.id, seq, &items)
            .await?;
        let next = seq + items.len() as u64;
        run.counts.plan_items = next;
        self.store.update_run(run).await?;
        Ok(next)
    }

    async fn batch_state(&self, district: &DistrictId, batch: &Batch) -> Result<BatchState, Stop> {
        let student_ids: Vec<SourceId> =
            batch.students.iter().map(|s| s.source_id.clone()).collect();
        let account_ids: Vec<SourceId> = {
            let set: HashSet<&SourceId> = batch.accounts.iter().map(|a| &a.source_id).collect();
            set.into_iter().cloned().collect()
        };
        let students = self
            .store
            .students_by_source(district, &student_ids)
            .await?;
        let guardians = self
            .store
            .guardians_by_source(district, &account_ids)
            .await?;
        let ours: Vec<_> = students.values().map(|s| s.value.id).collect();
        let links = self.store.links_of_students(district, &ours).await?;
        let linked: Vec<GuardianId> = {
            let set: HashSet<GuardianId> = links.iter().map(|l| l.guardian_id).collect();
            set.into_iter().collect()
        };
        let linked_guardians = self.store.guardians_by_id(district, &linked).await?;
        let form_authors = self
            .store
            .form_authors_of(district, &ours)
            .await?
            .into_iter()
            .map(|f| (f.guardian_id, f.student_id))
            .collect();
        Ok(BatchState {
            students,
            guardians,
            links,
            linked_guardians,
            form_authors,
        })
    }

    /// Plans the archiving of every held student the complete pull did not list.
    async fn plan_archives(
        &self,
        district: &District,
        run: &mut SyncRun,
        planner: &Planner,
        mut seq: u64,
        impact: &mut PlanImpact,
    ) -> Result<(), Stop> {
        let id = &district.id;
        let mut after: Option<SourceId> = None;
        loop {
            let page = self
                .store
                .active_students_page(id, after.as_ref(), SWEEP_PAGE)
                .await?;
            let Some((_, last)) = page.last() else { break };
            after = Some(last.clone());
            let missing: Vec<SourceId> = page
                .into_iter()
                .map(|(_, s)| s)
                .filter(|s| !planner.saw(s))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let held = self.store.students_by_source(id, &missing).await?;
            let items: Vec<PlanItem> = held
                .into_values()
                .map(|s| {
                    let old = diff::student_fields(&s.value);
                    let student = model::roster::Student {
                        archived: true,
                        ..s.value
                    };
                    let record = student.id.to_string();
                    PlanItem::Student {
                        operation: Operation::Archive,
                        changes: diff::changes(
                            Entity::Student,
                            &record,
                            Operation::Archive,
                            Some(&old),
                            &diff::student_fields(&student),
                        ),
                        student,
                        source_hash: s.source_hash,
                    }
                })
                .collect();
            impact.students_archived += items.len() as u64;
            for item in &items {
                count(run, item);
                if let PlanItem::Student { student, .. } = item {
                    let school = student
                        .school_source_id
                        .as_ref()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    *run.counts
                        .planned_by_school
                        .entry(format!("{school}/student.archive"))
                        .or_default() += 1;
                }
            }
            self.store.append_plan(id, run.id, seq, &items).await?;
            seq += items.len() as u64;
            run.counts.plan_items = seq;
        }
        self.store.update_run(run).await?;
        Ok(())
    }

    async fn check_and_apply(
        &self,
        district: &District,
        run: &mut SyncRun,
        impact: PlanImpact,
        cancel: &RunControl,
    ) -> Result<RunState, Stop> {
        run.phase = RunPhase::Checking;
        run.trips = thresholds::trips(&district.settings.thresholds, &impact);
        if !run.trips.is_empty() {
            run.counts.fingerprint = self
                .fingerprint(&district.id)
                .await
                .map_err(|e| Stop::Failed(e.to_string()))?;
            tracing::warn!(district = %district.id, run = %run.id, trips = run.trips.len(), "sync run paused by a threshold");
            return Ok(RunState::Paused);
        }
        if run.mode == RunMode::DryRun {
            return Ok(RunState::Succeeded);
        }
        self.apply(run, cancel).await?;
        Ok(RunState::Succeeded)
    }

    /// Applies the stored plan from the run's checkpoint on.
    async fn apply(&self, run: &mut SyncRun, cancel: &RunControl) -> Result<(), Stop> {
        run.phase = RunPhase::Applying;
        self.store.update_run(run).await?;
        let district = run.district_id.clone();
        let mut after = self.store.run_checkpoint(&district, run.id).await?;
        // Plan items are numbered from 0 without gaps: the checkpoint says how many are in.
        run.counts.applied = after.map_or(0, |seq| seq + 1);
        let mut change_seq = self
            .store
            .next_change_seq(&district, ChangeSource::Run(run.id))
            .await?;
        loop {
            if cancel.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .store
                .read_plan(&district, run.id, after, APPLY_PAGE)
                .await?;
            let Some((last, _)) = page.last() else { break };
            let last = *last;
            let written = self
                .store
                .apply_plan_items(&district, run.id, &page, change_seq, crate::now())
                .await?;
            change_seq += written;
            run.counts.applied += page.len() as u64;
            after = Some(last);
            self.store.update_run(run).await?;
        }
        Ok(())
    }
}

fn count(run: &mut SyncRun, item: &PlanItem) {
    let key = format!("{}.{}", item.entity().as_str(), item.operation().as_str());
    *run.counts.planned.entry(key).or_default() += 1;
}

pub fn state_name(state: RunState) -> &'static str {
    match state {
        RunState::Running => "running",
        RunState::Paused => "paused",
        RunState::Succeeded => "succeeded",
        RunState::Failed => "failed",
        RunState::Cancelled => "cancelled",
    }
}
