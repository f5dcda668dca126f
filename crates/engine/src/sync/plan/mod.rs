//! Planning a run from its staged pull, in passes that read the staged records in key
//! order — so the plan is the same whatever order the source sent them in, and memory
//! holds one page:
//!
//! 1. students, page by page, each with its contacts and the SIS accounts related to it:
//!    the student's own changes ([`students`]) and its links through the source's rules
//!    and reconciliation ([`links`]), which leave notes for the guardians ([`marks`]);
//! 2. guardians: the SIS accounts in key order, then the guardians only the notes name
//!    ([`guardians`]);
//! 3. archives: held students the complete pull did not list.
//!
//! Items are numbered in the order they apply — students, guardians, links, archives —
//! whatever order they were planned in. With `manage_guardians` off, passes 1's links and
//! 2 are skipped: the run plans no guardian or link change at all.

pub mod guardians;
pub mod links;
pub mod marks;
mod page_links;
mod rekey;
pub mod roster;
pub mod students;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use connector::{Connector, KindSet};
use model::change::Operation;
use model::district::{ArchivedStudents, District};
use model::ids::{GuardianId, SourceId, StudentId};
use model::link::{Link, LinkOrigin};
use model::roster::Contact;
use model::run::{PlanItem, RunTrigger, SyncRun};
use model::source::{GuardianAccount, SourceStudent};
use model::staging::{StagedKind, StagedRecord};
use policy::reconcile::KnownGuardian;

pub use guardians::guardian_from_account;
pub use links::{held_links_of, is_downgrade, is_link_removal, link_item, Ctx};

use super::checks::PlanImpact;
use super::{count, Pacer, RunControl, Stop};
use crate::Engine;
use links::{plan_student_links, StudentLinks};
use marks::Mark;

/// Staged records read per page.
const PAGE: u64 = 500;
/// Plan numbers: the phase in the high bits, the item's place in its phase below.
const PHASE_BITS: u32 = 40;

/// The order a plan applies in: a record before what refers to it, archives last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Schools = 0,
    Staff = 1,
    Classrooms = 2,
    Students = 3,
    Guardians = 4,
    Contacts = 5,
    Links = 6,
    Enrollments = 7,
    Archives = 8,
}

/// Numbers plan items and keeps the run's counts as they are planned.
#[derive(Debug, Default)]
struct Writer {
    next: [u64; 9],
    page: Vec<(u64, PlanItem)>,
    marks: BTreeSet<Mark>,
    impact: PlanImpact,
    /// Students re-keyed to a new source id this run: not archived under their old one.
    rekeyed: HashSet<StudentId>,
    progress: Pacer,
}

impl Writer {
    fn push(&mut self, run: &mut SyncRun, phase: Phase, item: PlanItem, school: Option<&SourceId>) {
        count(run, &item);
        let per_school = matches!(item, PlanItem::Student { .. } | PlanItem::Link { .. });
        if let Some(school) = per_school.then(|| school.map_or("", |s| s.as_str())) {
            let key = format!(
                "{school}/{}.{}",
                item.entity().as_str(),
                item.operation().as_str()
            );
            *run.counts.planned_by_school.entry(key).or_default() += 1;
        }
        if is_downgrade(&item) {
            self.impact.links_downgraded += 1;
        }
        if is_link_removal(&item) {
            self.impact.links_removed += 1;
        }
        match &item {
            PlanItem::Student {
                operation: Operation::Archive,
                ..
            } => self.impact.students_archived += 1,
            PlanItem::Guardian {
                operation: Operation::Archive,
                ..
            } => self.impact.guardians_archived += 1,
            PlanItem::Staff {
                operation: Operation::Archive,
                ..
            } => self.impact.staff_archived += 1,
            PlanItem::Classroom {
                operation: Operation::Archive,
                ..
            } => self.impact.classrooms_archived += 1,
            _ => {}
        }
        let n = &mut self.next[phase as usize];
        let seq = ((phase as u64) << PHASE_BITS) | *n;
        *n += 1;
        self.page.push((seq, item));
        run.counts.plan_items += 1;
    }
}

fn parse<T: serde::de::DeserializeOwned>(r: &StagedRecord) -> Option<T> {
    serde_json::from_str(&r.payload).ok()
}

impl Engine {
    /// Stages the pull, checks it is whole, and plans the district from it.
    pub(super) async fn pull_and_plan(
        &self,
        district: &District,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        control: &RunControl,
    ) -> Result<PlanImpact, Stop> {
        let id = &district.id;
        let held = self.store.count_students(id, false).await?;
        let started = std::time::Instant::now();
        let pulled = match self.stage_pull(district, run, connector, control).await {
            Ok(p) => p,
            Err(stop) => {
                // A pull that did not finish is not the district's roster: drop it.
                if let Err(e) = self.store.delete_staged(id, run.id).await {
                    tracing::warn!(run = %run.id, error = %e, "cannot drop an unfinished pull");
                }
                return Err(stop);
            }
        };
        if run.trigger == RunTrigger::Import {
            // A file is not the SIS's roster: the pull support reads stays. Its rows
            // are as many as a pull's, so the database learns of them as after a pull.
            self.refresh_staging_statistics(run).await;
            return self
                .plan_run(district, run, control, held, KindSet::default())
                .await;
        }
        tracing::info!(district = %id, run = %run.id, elapsed_ms = started.elapsed().as_millis() as u64, "pull staged");
        // The complete pull is now the one support reads; older pulls go.
        self.store.keep_only_staged(id, run.id).await?;
        self.refresh_staging_statistics(run).await;
        tracing::info!(district = %id, run = %run.id, elapsed_ms = started.elapsed().as_millis() as u64, "older pulls dropped");
        if pulled.tally.received.students == 0 && held > 0 {
            return Err(Stop::Failed(format!(
                "the source listed no students while {held} are held; an empty pull never archives a district"
            )));
        }
        let unavailable = pulled.tally.unavailable;
        let planned = self
            .plan_run(district, run, control, held, unavailable)
            .await;
        tracing::info!(district = %id, run = %run.id, items = run.counts.plan_items, elapsed_ms = started.elapsed().as_millis() as u64, "planned");
        planned
    }

    /// Plans the district from the run's staged pull; `students_held` is how many
    /// active students the store held when the pull began; `unavailable` are the
    /// optional kinds the source would not give, of which nothing is planned.
    async fn plan_run(
        &self,
        district: &District,
        run: &mut SyncRun,
        control: &RunControl,
        students_held: u64,
        unavailable: KindSet,
    ) -> Result<PlanImpact, Stop> {
        let id = &district.id;
        let import = run.trigger == RunTrigger::Import;
        let rules = if import {
            policy::rules_for(model::link::LinkRuleSet::GuardiansCsv)
        } else {
            self.registry
                .get(&district.connector.kind)
                .map(|f| policy::rules_for(f.link_rules()))
                .map_err(|e| Stop::Failed(e.to_string()))?
        };
        let ctx = Ctx {
            district: id,
            settings: &district.settings,
            rules,
            now: crate::now(),
            import,
        };
        let mut w = Writer::default();
        w.impact.students_held = students_held;
        w.impact.guardians_held = self.store.count_guardians(id, false).await?;
        w.impact.links_held = self.store.count_links(id).await?;
        w.impact.staff_held = self.store.count_staff(id, false).await?;
        w.impact.classrooms_held = self.store.count_classrooms(id, false).await?;
        if !import {
            self.plan_roster(&ctx, run, &mut w, control, unavailable)
                .await?;
        }
        self.plan_students(&ctx, run, &mut w, control).await?;
        if district.settings.manage_guardians || import {
            // The students' pass staged its notes for the guardians' passes to read.
            self.refresh_staging_statistics(run).await;
            self.plan_guardians(&ctx, run, &mut w, control).await?;
            self.plan_marked_guardians(&ctx, run, &mut w, control)
                .await?;
        }
        if !import && district.settings.archived_students == ArchivedStudents::Archive {
            self.plan_student_archives(&ctx, run, &mut w, control)
                .await?;
        }
        Ok(w.impact)
    }

    /// Best effort: a database that cannot analyze plans its reads more slowly, no worse.
    async fn refresh_staging_statistics(&self, run: &SyncRun) {
        if let Err(e) = self.store.refresh_staging_statistics().await {
            tracing::warn!(run = %run.id, error = %e, "cannot refresh the staged records' statistics");
        }
    }

    /// Stores what a page planned: its items, its notes, and (when due) the run's counts.
    async fn flush(&self, ctx: &Ctx<'_>, run: &mut SyncRun, w: &mut Writer) -> Result<(), Stop> {
        self.store
            .append_plan(ctx.district, run.id, &std::mem::take(&mut w.page))
            .await?;
        let marks: Vec<StagedRecord> = std::mem::take(&mut w.marks)
            .iter()
            .map(Mark::staged)
            .collect();
        self.store.stage(ctx.district, run.id, &marks).await?;
        if w.progress.due() {
            self.save_progress(run).await?;
        }
        Ok(())
    }

    /// Pass 1: students page by page, with their links. The next page is read while one is
    /// planned (the staged pull does not change while it is planned, and the notes a page
    /// leaves are staged records of another kind).
    async fn plan_students(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let (store, run_id) = (&self.store, run.id);
        let read = |after: Option<String>| async move {
            store
                .staged_page(
                    ctx.district,
                    run_id,
                    StagedKind::Student,
                    after.as_deref(),
                    PAGE,
                )
                .await
        };
        let mut page = read(None).await?;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                break;
            };
            let keys = (first.key.clone(), last.key.clone());
            let (planned, next) = tokio::join!(
                self.plan_student_page(ctx, run, w, &page, (&keys.0, &keys.1)),
                read(Some(keys.1.clone()))
            );
            planned?;
            page = next?;
        }
        Ok(())
    }

    /// One page of pass 1: its students' items and links, flushed.
    async fn plan_student_page(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        page: &[StagedRecord],
        (first, last): (&str, &str),
    ) -> Result<(), Stop> {
        let students: Vec<(SourceStudent, String)> = page
            .iter()
            .filter(|r| r.usable())
            .filter_map(|r| parse(r).map(|s| (s, r.hash.clone())))
            .collect();
        let sources: Vec<SourceId> = students.iter().map(|(s, _)| s.source_id.clone()).collect();
        let mut held = self
            .store
            .students_by_source(ctx.district, &sources)
            .await?;
        let mut ids: HashMap<SourceId, StudentId> = HashMap::new();
        if ctx.import {
            // A file names students we hold; it never changes them.
            for (src, _) in &students {
                if let Some(h) = held.get(&src.source_id) {
                    ids.insert(src.source_id.clone(), h.value.id);
                }
            }
            self.plan_page_links(ctx, run, w, &students, &ids, (first, last))
                .await?;
            return self.flush(ctx, run, w).await;
        }
        self.rekey_students(ctx, run, w, &students, &mut held)
            .await?;
        for (src, hash) in &students {
            let (id, item) = students::student_item(
                ctx.district,
                ctx.settings.student_id_source,
                src,
                hash,
                held.get(&src.source_id),
            );
            ids.insert(src.source_id.clone(), id);
            if let Some(item) = item {
                w.push(run, Phase::Students, item, src.school_source_id.as_ref());
            }
        }
        if ctx.settings.manage_guardians {
            self.plan_page_links(ctx, run, w, &students, &ids, (first, last))
                .await?;
        }
        self.flush(ctx, run, w).await
    }

    /// Identity churn of students: a source may list a student we hold under a new id
    /// (Clever, after its `sis_id` changed or 300+ days unshared). A student we do not hold
    /// whose shown id (the district's choice of student number or SIS id), legal names and
    /// birth date are those of exactly one student we hold whose own id the pull no longer
    /// lists is that student: `held` gets it under the new id, so the same record is
    /// updated (and unarchived) rather than archived and created again.
    async fn rekey_students(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        students: &[(SourceStudent, String)],
        held: &mut HashMap<SourceId, store::Synced<model::roster::Student>>,
    ) -> Result<(), Stop> {
        let unheld: Vec<&SourceStudent> = students
            .iter()
            .map(|(s, _)| s)
            .filter(|s| !held.contains_key(&s.source_id))
            .collect();
        let numbers: Vec<String> = unheld
            .iter()
            .map(|s| students::shown_id(s, ctx.settings.student_id_source))
            .filter(|n| !n.is_empty())
            .collect();
        if numbers.is_empty() {
            return Ok(());
        }
        let candidates = self
            .store
            .students_by_number(ctx.district, &numbers)
            .await?;
        let old_keys: Vec<String> = candidates
            .iter()
            .map(|c| c.value.source_id.as_str().to_owned())
            .collect();
        let listed: HashSet<String> = self
            .store
            .staged_by_keys(ctx.district, run.id, StagedKind::Student, &old_keys)
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect();
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        for src in unheld {
            let shown = students::shown_id(src, ctx.settings.student_id_source);
            let matching: Vec<&store::Synced<model::roster::Student>> = candidates
                .iter()
                .filter(|c| {
                    let h = &c.value;
                    !listed.contains(h.source_id.as_str())
                        && !w.rekeyed.contains(&h.id)
                        && h.student_number == shown
                        && same(&h.legal_first_name, &src.legal_first_name)
                        && same(&h.legal_last_name, &src.legal_last_name)
                        && h.birth_date == src.birth_date
                })
                .collect();
            let [found] = matching[..] else { continue };
            w.rekeyed.insert(found.value.id);
            Self::warn(
                run,
                format!(
                    "student {} re-keyed from source id {} to {}: the source no longer lists {}, and the new record has the same student id {shown}, names and birth date",
                    found.value.id, found.value.source_id, src.source_id, found.value.source_id
                ),
            );
            held.insert(src.source_id.clone(), found.clone());
        }
        Ok(())
    }

    /// Pass 3: every held student the complete pull did not list is archived.
    async fn plan_student_archives(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let mut after: Option<SourceId> = None;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .store
                .students_not_staged(ctx.district, run.id, after.as_ref(), PAGE)
                .await?;
            let Some((_, last)) = page.last() else { break };
            after = Some(last.clone());
            let sources: Vec<SourceId> = page.into_iter().map(|(_, s)| s).collect();
            let held = self
                .store
                .students_by_source(ctx.district, &sources)
                .await?;
            for source in &sources {
                let Some(h) = held.get(source) else { continue };
                if w.rekeyed.contains(&h.value.id) {
                    continue;
                }
                let school = h.value.school_source_id.clone();
                w.push(
                    run,
                    Phase::Archives,
                    students::archive_item(h.clone()),
                    school.as_ref(),
                );
            }
            self.flush(ctx, run, w).await?;
        }
        Ok(())
    }
}
