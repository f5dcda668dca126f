//! Pass 1, the rest of the roster: schools, staff (with the district's staff
//! permissions), classrooms with their enrollments — each page of staged records against
//! the records we hold, planned by [`planner::roster`]. After a complete pull, staff and
//! classrooms the source no longer lists are archived. A kind the source would not give
//! (`unavailable`) is left as it is held: nothing of it is created, changed or archived,
//! and classrooms left so keep their enrollments too.

use connector::{KindSet, RecordKind};
use model::ids::SourceId;
use model::staging::StagedKind;
use planner::roster::{self as plan, ClassroomPage};

use super::{source_ids, Planning, Stop, PAGE};
use crate::sync::Runs;

impl Planning<'_> {
    pub(super) async fn plan_roster(&mut self, unavailable: KindSet) -> Result<(), Stop> {
        self.plan_schools().await?;
        let staff = !unavailable.contains(RecordKind::Staff);
        let classrooms = !unavailable.contains(RecordKind::Classroom);
        if staff {
            self.plan_staff().await?;
        }
        if classrooms {
            let enrollments = !unavailable.contains(RecordKind::Enrollment);
            self.plan_classrooms(enrollments).await?;
        }
        // A pull that lists none of a kind never archives all of it.
        let (d, run) = (self.ctx.district, self.run.id);
        if staff {
            let listed = self.store.count_staged(d, run, StagedKind::Staff).await?;
            self.archive_absent(RecordKind::Staff, listed).await?;
        }
        if classrooms {
            let listed = self
                .store
                .count_staged(d, run, StagedKind::Classroom)
                .await?;
            self.archive_absent(RecordKind::Classroom, listed).await?;
        }
        Ok(())
    }

    async fn plan_schools(&mut self) -> Result<(), Stop> {
        let mut after = None;
        loop {
            self.checkpoint()?;
            let page = self.staged_page(StagedKind::School, &mut after).await?;
            if page.is_empty() {
                return Ok(());
            }
            let sources = source_ids(&page);
            let held = self
                .store
                .schools_by_source(self.ctx.district, &sources)
                .await?;
            let items = plan::school_items(&self.ctx, &page, &held);
            self.push_all(items);
            self.flush().await?;
        }
    }

    async fn plan_staff(&mut self) -> Result<(), Stop> {
        let mut after = None;
        loop {
            self.checkpoint()?;
            let page = self.staged_page(StagedKind::Staff, &mut after).await?;
            if page.is_empty() {
                return Ok(());
            }
            let sources = source_ids(&page);
            let held = self
                .store
                .staff_by_source(self.ctx.district, &sources)
                .await?;
            let items = plan::staff_items(&self.ctx, &page, &held);
            self.push_all(items);
            self.flush().await?;
        }
    }

    /// Classrooms page by page, with their enrollments when the source gave them.
    async fn plan_classrooms(&mut self, enrollments: bool) -> Result<(), Stop> {
        let (d, run) = (self.ctx.district, self.run.id);
        let mut after = None;
        loop {
            self.checkpoint()?;
            let page = self.staged_page(StagedKind::Classroom, &mut after).await?;
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                return Ok(());
            };
            let sources = source_ids(&page);
            let held = self.store.classrooms_by_source(d, &sources).await?;
            let listed = match enrollments {
                true => Some((
                    self.store
                        .staged_in_groups(d, run, StagedKind::Enrollment, &first.key, &last.key)
                        .await?,
                    self.store.enrollments_of_classrooms(d, &sources).await?,
                )),
                false => None,
            };
            let facts = ClassroomPage {
                records: &page,
                held: &held,
                enrollments: listed.as_ref().map(|(s, h)| (s.as_slice(), h.as_slice())),
            };
            let items = plan::classroom_items(&self.ctx, &facts);
            self.push_all(items);
            self.flush().await?;
        }
    }

    /// Staff or classrooms the complete pull did not list are archived (`listed`: how
    /// many of the kind it listed; none listed archives none).
    async fn archive_absent(&mut self, kind: RecordKind, listed: u64) -> Result<(), Stop> {
        let held_now = match kind {
            RecordKind::Staff => self.w.impact.staff_held,
            _ => self.w.impact.classrooms_held,
        };
        if let Some(text) = plan::none_listed_warning(kind.as_str(), listed, held_now) {
            Runs::warn(self.run, text);
        }
        if listed == 0 {
            return Ok(());
        }
        let (store, d, run) = (self.store, self.ctx.district, self.run.id);
        let mut after: Option<SourceId> = None;
        loop {
            self.checkpoint()?;
            let gone = match kind {
                RecordKind::Staff => store.staff_not_staged(d, run, after.as_ref(), PAGE).await?,
                _ => {
                    store
                        .classrooms_not_staged(d, run, after.as_ref(), PAGE)
                        .await?
                }
            };
            let Some(last) = gone.last() else {
                return Ok(());
            };
            after = Some(last.clone());
            let items = match kind {
                RecordKind::Staff => {
                    let held = store.staff_by_source(d, &gone).await?;
                    plan::staff_archives(&present(&gone, held))
                }
                _ => {
                    let held = store.classrooms_by_source(d, &gone).await?;
                    plan::classroom_archives(&present(&gone, held))
                }
            };
            self.push_all(items);
            self.flush().await?;
        }
    }
}

/// The held records of `sources`, in their order.
fn present<T: Clone>(
    sources: &[SourceId],
    mut held: std::collections::HashMap<SourceId, store::Synced<T>>,
) -> Vec<store::Synced<T>> {
    sources.iter().filter_map(|s| held.remove(s)).collect()
}
