//! Pulling and planning: the connector's stream, batch by batch, planned against the store
//! through the policy; absent students planned for archiving once the pull proved complete.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use connector::{Connector, RosterEvent, Tally};
use futures::StreamExt;
use model::change::{Entity, Operation};
use model::district::{ArchivedStudents, District};
use model::ids::{DistrictId, GuardianId, SourceId};
use model::run::{PlanItem, SyncRun};

use super::checks::PlanImpact;
use super::plan::{is_downgrade, Batch, BatchState, Planner};
use super::{count, diff, plan, RunControl, Stop};
use crate::Engine;

/// Students per page of the archive sweep.
const SWEEP_PAGE: u64 = 1_000;

impl Engine {
    pub(super) async fn pull_and_plan(
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
                    Self::warn(run, format!("{} {}: {}", w.endpoint, w.record, w.message))
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
        self.save_progress(run).await?;
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
        self.save_progress(run).await?;
        Ok(())
    }
}
