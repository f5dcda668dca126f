//! Applying a stored plan: pages of plan items, each page with its change-log rows and the
//! run's checkpoint in one transaction, so an interrupted apply resumes where it stopped.

use model::change::ChangeSource;
use model::run::{RunPhase, SyncRun};

use super::Runs;
use super::{Pacer, RunControl, Stop};

/// Plan items read and applied per transaction.
const APPLY_PAGE: u64 = 1_000;

impl Runs {
    /// Applies the stored plan from the run's checkpoint on.
    pub(super) async fn apply(&self, run: &mut SyncRun, cancel: &RunControl) -> Result<(), Stop> {
        run.enter(RunPhase::Applying, crate::now());
        self.save_progress(run).await?;
        let district = run.district_id.clone();
        let after = self.store.run_checkpoint(&district, run.id).await?;
        // Plan items are numbered in apply order, with gaps between phases: the items up
        // to the checkpoint are the ones in.
        run.counts.applied = match after {
            Some(seq) => {
                self.store
                    .count_plan_through(&district, run.id, seq)
                    .await?
            }
            None => 0,
        };
        let mut change_seq = self
            .store
            .next_change_seq(&district, ChangeSource::Run(run.id))
            .await?;
        let mut progress = Pacer::default();
        let (store, run_id) = (&self.store, run.id);
        // Items a review kept out are read and passed over: the plan's numbers go on.
        let read = |after| store.list_plan(&district, run_id, None, None, after, APPLY_PAGE);
        let mut entries = read(after).await?;
        loop {
            if cancel.stopping() {
                return Err(Stop::Cancelled);
            }
            let Some(last) = entries.last().map(|e| e.seq) else {
                break;
            };
            let page: Vec<_> = entries
                .into_iter()
                .filter(|e| e.excluded.is_none())
                .map(|e| (e.seq, e.item))
                .collect();
            // The next page is read while this one is written: a plan does not change once
            // made, and the database works on one while the service decodes the other.
            let apply =
                self.store
                    .apply_plan_items(&district, run.id, &page, change_seq, crate::now());
            let (written, next) = tokio::join!(apply, read(Some(last)));
            change_seq += written?;
            crate::metrics::applied(&page);
            run.counts.applied += page.len() as u64;
            if progress.due() {
                self.save_progress(run).await?;
            }
            entries = next?;
        }
        if run.counts.applied >= REFRESH_AFTER {
            // Best effort: a database that cannot analyze still has its rows.
            if let Err(e) = self.store.refresh_roster_statistics().await {
                tracing::warn!(run = %run.id, error = %e, "cannot refresh the roster's statistics");
            }
        }
        Ok(())
    }
}

/// Plan items applied from which the database is told what the roster tables now hold.
const REFRESH_AFTER: u64 = 10_000;
