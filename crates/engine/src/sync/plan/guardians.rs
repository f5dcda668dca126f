//! Pass 3, guardians: the SIS accounts of the pull in key order against the guardians we
//! hold, with the notes the students' links left ([`planner::marks`]); then the guardians
//! only the notes name. Planned by [`planner::guardians`].

use model::ids::GuardianId;
use model::staging::{compound_key, StagedKind};
use planner::guardians::{self as plan, AccountPage};
use planner::marks::guardian_group;
use planner::Mark;

use super::{source_ids, Planning, Stop, PAGE};

impl Planning<'_> {
    /// Pass 3a: the SIS accounts in key order, with the notes the links left about them.
    pub(super) async fn plan_guardians(&mut self) -> Result<(), Stop> {
        let (store, d) = (self.store, self.ctx.district);
        let mut after: Option<String> = None;
        loop {
            self.checkpoint()?;
            let page = self
                .staged_page(StagedKind::GuardianAccount, &mut after)
                .await?;
            if page.is_empty() {
                break;
            }
            // The page is parsed once, by the planner.
            let sources = source_ids(&page);
            let held = store.guardians_by_source(d, &sources).await?;
            let groups = plan::account_page_groups(&sources, &held);
            let mut marks = self.marks_of(&groups).await?;
            let takers = plan::takers(&marks, &held);
            let taker_ids: Vec<GuardianId> = takers.values().flatten().copied().collect();
            let taken = store.synced_guardians_by_id(d, &taker_ids).await?;
            let taker_groups: Vec<String> = taker_ids.iter().map(|g| guardian_group(*g)).collect();
            marks.extend(self.marks_of(&taker_groups).await?);
            let links_now = store
                .count_links_of_guardians(d, &plan::unlinked(&marks))
                .await?;
            let facts = AccountPage {
                records: &page,
                held: &held,
                marks: &marks,
                taken: &taken,
                links_now: &links_now,
            };
            let planned = plan::plan_account_page(&self.ctx, &facts);
            self.take(planned);
            self.flush().await?;
        }
        Ok(())
    }

    async fn marks_of(&self, groups: &[String]) -> Result<Vec<Mark>, Stop> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .staged_of_groups(self.ctx.district, self.run.id, StagedKind::Mark, groups)
            .await?
            .iter()
            .filter_map(Mark::read)
            .collect())
    }

    /// Pass 3b: guardians only the notes name (no SIS account in this pull): marked
    /// incomplete, or losing their last link. A guardian's notes are read together.
    pub(super) async fn plan_marked_guardians(&mut self) -> Result<(), Stop> {
        let (store, d, run) = (self.store, self.ctx.district, self.run.id);
        let prefix = compound_key(&["guardian", ""]);
        let mut after = Some(compound_key(&["guardian"]));
        loop {
            self.checkpoint()?;
            let mut page = store
                .staged_page(d, run, StagedKind::Mark, after.as_deref(), PAGE)
                .await?;
            page.retain(|r| r.key.starts_with(&prefix));
            let Some(last_group) = page.last().map(|r| r.group.clone()) else {
                break;
            };
            // One guardian's notes cut by the page end wait for the next page.
            if page.len() as u64 == PAGE && page.iter().any(|r| r.group != last_group) {
                page.retain(|r| r.group != last_group);
            }
            after = page.last().map(|r| r.key.clone());
            let marked = plan::marked_guardians(&page);
            let ids: Vec<GuardianId> = marked.keys().copied().collect();
            let (held, links_now) = tokio::try_join!(
                store.synced_guardians_by_id(d, &ids),
                store.count_links_of_guardians(d, &ids),
            )?;
            let items = plan::plan_marked_guardians(&self.ctx, &marked, &held, &links_now);
            self.push_all(items);
            self.flush().await?;
        }
        Ok(())
    }
}
