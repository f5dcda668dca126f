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
/// Students per page of the archive sweep.
const SWEEP_PAGE: u64 = 1_000;

/// The runs this process is working on, one per district.
#[derive(Debug, Default)]
pub struct RunRegistry {
    active: Mutex<HashMap<DistrictId, (RunId, Arc<AtomicBool>)>>,
}

impl RunRegistry {
    fn claim(&self, district: &DistrictId, run: RunId) -> Option<Arc<AtomicBool>> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.contains_key(district) {
            return None;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        active.insert(district.clone(), (run, cancel.clone()));
        Some(cancel)
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
            Some((id, flag)) if *id == run => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }
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
            return Err(e.into());
        }
        tracing::info!(district = %district, run = %run.id, ?mode, "sync run started");
        let engine = self.clone();
        let started = run.clone();
        tokio::spawn(async move {
            let id = run.id;
            let district_id = run.district_id.clone();
            engine.execute(d, run, connector, cancel).await;
            engine.runs.release(&district_id, id);
        });
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
        run.state = RunState::Running;
        run.phase = RunPhase::Applying;
        self.store.update_run(&run).await?;
        tracing::info!(district = %district, run = %id, "paused run approved");
        let engine = self.clone();
        let answer = run.clone();
        tokio::spawn(async move {
            let district_id = run.district_id.clone();
            let result = engine.apply(&mut run, &cancel).await;
            engine
                .finish(&mut run, result.map(|_| RunState::Succeeded))
                .await;
            engine.runs.release(&district_id, id);
        });
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

    async fn execute(
        &self,
        district: District,
        mut run: SyncRun,
        connector: Arc<dyn Connector>,
        cancel: Arc<AtomicBool>,
    ) {
        let result = self
            .pull_and_plan(&district, &mut run, connector, &cancel)
            .await;
        let result = match result {
            Ok(impact) => {
                self.check_and_apply(&district, &mut run, impact, &cancel)
                    .await
            }
            Err(stop) => Err(stop),
        };
        self.finish(&mut run, result).await;
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
    }

    async fn pull_and_plan(
        &self,
        district: &District,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        cancel: &AtomicBool,
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
            if cancel.load(Ordering::SeqCst) {
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
        let schools: HashMap<&SourceId, String> = batch
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
        for item in &items {
            count(run, item);
            if let PlanItem::Student { student, .. } = item {
                let school = schools.get(&student.source_id).cloned().unwrap_or_default();
                *run.counts.planned_by_school.entry(school).or_default() += 1;
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
        cancel: &AtomicBool,
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
    async fn apply(&self, run: &mut SyncRun, cancel: &AtomicBool) -> Result<(), Stop> {
        run.phase = RunPhase::Applying;
        self.store.update_run(run).await?;
        let district = run.district_id.clone();
        let mut after = self.store.run_checkpoint(&district, run.id).await?;
        let mut change_seq = self
            .store
            .next_change_seq(&district, ChangeSource::Run(run.id))
            .await?;
        loop {
            if cancel.load(Ordering::SeqCst) {
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
