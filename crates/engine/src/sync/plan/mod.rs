//! The planning driver: pages the run's staged pull and the held records it touches out
//! of the store in bulk (one read per kind per page), hands each page to the pure
//! [`planner`], and writes what comes back — items numbered by the phase they apply in,
//! notes for later passes, warnings. In passes, each reading staged records in key order,
//! so the plan is the same whatever order the source sent them in, and memory holds one
//! page:
//!
//! 1. the rest of the roster (`roster`): schools, staff, classrooms with enrollments;
//! 2. students, page by page, each with its contacts and the SIS accounts related to it
//!    (`facts` reads them, [`planner::plan_student_page`] plans them), leaving notes for
//!    the guardians;
//! 3. guardians (`guardians`): the SIS accounts in key order, then the guardians only
//!    the notes name;
//! 4. archives: held records the complete pull did not list.
//!
//! What a source's word covers — the whole roster, or only its own links and guardians —
//! is its rule set's [`policy::Authority`]; this driver reads the same facts either way.
//! With `manage_guardians` off, no guardian or link change is planned at all.

mod facts;
mod guardians;
mod revert;
mod roster;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use connector::{Connector, KindSet};
use model::change::Operation;
use model::district::{ArchivedStudents, District};
use model::ids::{SourceId, StudentId};
use model::run::{PlanItem, SyncRun};
use model::staging::{StagedKind, StagedRecord};
use planner::{Ctx, Mark, PagePlan, Phase, Planned};
use store::Store;

pub use planner::{guardian_from_account, held_links_of, is_downgrade, is_link_removal, link_item};

use super::checks::PlanImpact;
use super::{count, Pacer, RunControl, Stop};
use crate::sync::Runs;

/// Staged records read per page.
const PAGE: u64 = 500;
/// Plan numbers: the phase in the high bits, the item's place in its phase below.
const PHASE_BITS: u32 = 40;

/// Numbers plan items and keeps the run's counts as they are planned.
#[derive(Debug, Default)]
struct Writer {
    next: [u64; Phase::COUNT],
    page: Vec<(u64, PlanItem)>,
    marks: BTreeSet<Mark>,
    impact: PlanImpact,
    /// Students re-keyed to a new source id this run: not archived under their old one.
    rekeyed: HashSet<StudentId>,
    progress: Pacer,
}

impl Writer {
    fn push(&mut self, run: &mut SyncRun, planned: Planned) {
        let Planned {
            phase,
            item,
            school,
        } = planned;
        count(run, &item);
        let per_school = matches!(item, PlanItem::Student { .. } | PlanItem::Link { .. });
        if per_school {
            let school = school.as_ref().map_or("", SourceId::as_str);
            let key = format!(
                "{school}/{}.{}",
                item.entity().as_str(),
                item.operation().as_str()
            );
            *run.counts.planned_by_school.entry(key).or_default() += 1;
        }
        self.impact.add(&item);
        let n = &mut self.next[phase as usize];
        let seq = ((phase as u64) << PHASE_BITS) | *n;
        *n += 1;
        self.page.push((seq, item));
        run.counts.plan_items += 1;
    }
}

impl PlanImpact {
    /// Counts what an item removes or downgrades.
    fn add(&mut self, item: &PlanItem) {
        if is_downgrade(item) {
            self.links_downgraded += 1;
        }
        if is_link_removal(item) {
            self.links_removed += 1;
        }
        // A record archived, or deleted (only an undo deletes one a run created), is gone
        // from the district's users either way.
        if !matches!(item.operation(), Operation::Archive | Operation::Delete) {
            return;
        }
        let archived = match item {
            PlanItem::Student { .. } => &mut self.students_archived,
            PlanItem::Guardian { .. } => &mut self.guardians_archived,
            PlanItem::Staff { .. } => &mut self.staff_archived,
            PlanItem::Classroom { .. } => &mut self.classrooms_archived,
            _ => return,
        };
        *archived += 1;
    }
}

impl Runs {
    /// Stages the pull, checks it is whole, and plans the district from it.
    pub(super) async fn pull_and_plan(
        &self,
        district: &District,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        control: &RunControl,
    ) -> Result<PlanImpact, Stop> {
        let id = &district.id;
        let rules = policy::rules_for(connector.link_rules());
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
        tracing::info!(district = %id, run = %run.id, elapsed_ms = started.elapsed().as_millis() as u64, "pull staged");
        if rules.authority().owns_roster() {
            // The complete pull is now the one support reads; older pulls go. (A
            // supplement's is not the district's roster: the pull support reads stays.)
            self.store.keep_only_staged(id, run.id).await?;
            if pulled.tally.received.students == 0 && held > 0 {
                return Err(Stop::Failed(format!(
                    "the source listed no students while {held} are held; an empty pull never archives a district"
                )));
            }
        }
        let ctx = Ctx {
            district: id,
            settings: &district.settings,
            rules,
            now: crate::now(),
        };
        let mut planning = Planning {
            store: &self.store,
            ctx,
            run,
            w: Writer::default(),
            control,
        };
        planning.w.impact.students_held = held;
        planning.refresh_statistics().await;
        planning.plan(pulled.tally.unavailable).await?;
        tracing::info!(district = %id, run = %planning.run.id, items = planning.run.counts.plan_items, elapsed_ms = started.elapsed().as_millis() as u64, "planned");
        Ok(planning.w.impact)
    }
}

/// The source ids of a page of top-level staged records that may be used: a school's,
/// a student's, a staff member's, a classroom's or an account's key is its source id.
fn source_ids(page: &[StagedRecord]) -> Vec<SourceId> {
    page.iter()
        .filter(|r| r.usable())
        .map(|r| SourceId::new(&r.key))
        .collect()
}

/// One run's planning: its store, what it plans with, the run it counts on, and the plan
/// written so far.
struct Planning<'a> {
    store: &'a Store,
    ctx: Ctx<'a>,
    run: &'a mut SyncRun,
    w: Writer,
    control: &'a RunControl,
}

impl Planning<'_> {
    /// Plans the district from the run's staged pull; `unavailable` are the optional
    /// kinds the source would not give, of which nothing is planned.
    async fn plan(&mut self, unavailable: KindSet) -> Result<(), Stop> {
        let id = self.ctx.district;
        let settings = self.ctx.settings;
        let roster = self.ctx.authority().owns_roster();
        self.w.impact.guardians_held = self.store.count_guardians(id, false).await?;
        self.w.impact.links_held = self.store.count_links(id).await?;
        self.w.impact.staff_held = self.store.count_staff(id, false).await?;
        self.w.impact.classrooms_held = self.store.count_classrooms(id, false).await?;
        if roster {
            self.plan_roster(unavailable).await?;
        }
        self.plan_students().await?;
        if settings.manage_guardians || !roster {
            // The students' pass staged its notes for the guardians' passes to read.
            self.refresh_statistics().await;
            self.plan_guardians().await?;
            self.plan_marked_guardians().await?;
        }
        if roster && settings.archived_students == ArchivedStudents::Archive {
            self.plan_student_archives().await?;
        }
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), Stop> {
        if self.control.stopping() {
            return Err(Stop::Cancelled);
        }
        Ok(())
    }

    /// Best effort: a database that cannot analyze plans its reads more slowly, no worse.
    async fn refresh_statistics(&self) {
        if let Err(e) = self.store.refresh_staging_statistics().await {
            tracing::warn!(run = %self.run.id, error = %e, "cannot refresh the staged records' statistics");
        }
    }

    /// Takes what a page planned.
    fn take(&mut self, plan: PagePlan) {
        let PagePlan {
            items,
            marks,
            warnings,
            rekeyed,
        } = plan;
        for text in warnings {
            Runs::warn(self.run, text);
        }
        self.w.rekeyed.extend(rekeyed);
        self.w.marks.extend(marks);
        self.push_all(items);
    }

    fn push_all(&mut self, items: Vec<Planned>) {
        for p in items {
            self.w.push(self.run, p);
        }
    }

    /// Stores what a page planned: its items, its notes, and (when due) the run's counts.
    async fn flush(&mut self) -> Result<(), Stop> {
        let run = self.run.id;
        self.store
            .append_plan(self.ctx.district, run, &std::mem::take(&mut self.w.page))
            .await?;
        let marks: Vec<StagedRecord> = std::mem::take(&mut self.w.marks)
            .iter()
            .map(Mark::staged)
            .collect();
        self.store.stage(self.ctx.district, run, &marks).await?;
        if self.w.progress.due() {
            self.store
                .update_run(self.run, &[model::run::RunState::Running])
                .await?;
        }
        Ok(())
    }

    /// Reads one page of a kind of staged record in key order, after `after`.
    async fn staged_page(
        &self,
        kind: StagedKind,
        after: &mut Option<String>,
    ) -> Result<Vec<StagedRecord>, Stop> {
        let page = self
            .store
            .staged_page(self.ctx.district, self.run.id, kind, after.as_deref(), PAGE)
            .await?;
        if let Some(last) = page.last() {
            *after = Some(last.key.clone());
        }
        Ok(page)
    }

    /// Pass 2: students page by page, with their contacts and links. The next page is read
    /// while one is planned (the staged pull does not change while it is planned, and the
    /// notes a page leaves are staged records of another kind).
    async fn plan_students(&mut self) -> Result<(), Stop> {
        let (store, district, run) = (self.store, self.ctx.district, self.run.id);
        let mut after = None;
        let mut records = self.staged_page(StagedKind::Student, &mut after).await?;
        while !records.is_empty() {
            self.checkpoint()?;
            let next_after = records.last().map(|r| r.key.clone());
            let page = async {
                let facts = self.student_page(records).await?;
                let plan = planner::plan_student_page(&self.ctx, &facts, &self.w.rekeyed);
                self.take(plan);
                self.flush().await
            };
            let next = store.staged_page(
                district,
                run,
                StagedKind::Student,
                next_after.as_deref(),
                PAGE,
            );
            let (planned, next) = tokio::join!(page, next);
            planned?;
            records = next?;
        }
        Ok(())
    }

    /// Pass 4: every held student the complete pull did not list is archived.
    async fn plan_student_archives(&mut self) -> Result<(), Stop> {
        let d = self.ctx.district;
        let mut after: Option<SourceId> = None;
        loop {
            self.checkpoint()?;
            let page = self
                .store
                .students_not_staged(d, self.run.id, after.as_ref(), PAGE)
                .await?;
            let Some((_, last)) = page.last() else { break };
            after = Some(last.clone());
            let sources: Vec<SourceId> = page.into_iter().map(|(_, s)| s).collect();
            let held = self.store.students_by_source(d, &sources).await?;
            let absent: Vec<_> = sources
                .iter()
                .filter_map(|s| held.get(s).cloned())
                .collect();
            let items = planner::students::student_archives(&absent, &self.w.rekeyed);
            self.push_all(items);
            self.flush().await?;
        }
        Ok(())
    }
}
