//! Approving a held run, whole or change by change: the approver's exclusions are judged
//! against the stored plan by the pure [`planner::review`], and the items they keep out
//! (with what depends on them) are stored with the approval in one transaction. The
//! apply skips them; the district's next run finds them still to do and plans them again.

use std::collections::HashMap;

use model::ids::{DistrictId, RunId};
use model::run::{Excluded, Exclusion, ExclusionTarget, RunPhase, RunState, SyncRun};
use model::ValidationErrors;
use planner::review::{Review, ReviewError};

use super::{lost_race, Resume, Runs};
use crate::error::Refusal;
use crate::EngineError;

/// Plan items judged per read.
const REVIEW_PAGE: u64 = 5_000;

/// What an approver keeps out: the target and, optionally, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionRequest {
    pub target: ExclusionTarget,
    pub reason: String,
}

impl Runs {
    /// Applies the stored plan of a run paused by a threshold: all of it, or all but what
    /// `exclusions` keep out (an exclusion that keeps nothing out, or names an item the plan
    /// does not hold, is refused and nothing is approved). paused → running (applying),
    /// with the items kept out, is one compare-and-set: of an approve and a cancel sent at
    /// once, exactly one wins.
    pub async fn approve_run(
        &self,
        district: &DistrictId,
        id: RunId,
        exclusions: Vec<ExclusionRequest>,
    ) -> Result<SyncRun, EngineError> {
        let mut run = self.get_run(district, id).await?;
        if run.state != RunState::Paused {
            return Err(EngineError::refused(
                Refusal::RunStateConflict,
                format!(
                    "run {id} is {}; only a run paused by a threshold can be approved",
                    run.state.as_str()
                ),
            ));
        }
        let now_print = self.fingerprint(district).await?;
        if now_print != run.counts.fingerprint {
            return Err(EngineError::refused(Refusal::DistrictDataChanged, format!(
                "the district's data changed since run {id} was planned; cancel it and start a new run"
            )));
        }
        let kept_out = self.judge(&mut run, exclusions).await?;
        let now = crate::now();
        run.state = RunState::Running;
        run.enter(RunPhase::Applying, now);
        run.approved_at = Some(now);
        run.by.approved = self.actor().to_owned();
        self.store
            .approve_run(&run, &kept_out)
            .await
            .map_err(|e| lost_race(id, "approved", e))?;
        tracing::info!(district = %district, run = %id, by = %self.actor(), excluded = run.counts.excluded, "paused run approved");
        self.access()
            .audit(
                district,
                "run.approve",
                &id.to_string(),
                approval_detail(&run),
            )
            .await;
        self.start_approved(district, &run).await?;
        Ok(run)
    }

    /// Sets the approved run going on this replica. Should this process or another
    /// replica's resume loop take it first, that one applies it: approving has happened
    /// either way.
    async fn start_approved(
        &self,
        district: &DistrictId,
        run: &SyncRun,
    ) -> Result<(), EngineError> {
        let id = run.id;
        let Some(control) = self.working.claim_when_free(id).await else {
            return Ok(());
        };
        if !self.take_lease(district, id).await? {
            self.working.release(id);
            return Ok(());
        }
        let d = self.districts().get_district(district).await?;
        match self.source_of_run(&d, id).await {
            Ok(connector) => {
                self.spawn_run(d, run.clone(), connector, control, Resume::Apply);
                Ok(())
            }
            Err(e) => {
                self.working.release(id);
                Err(e)
            }
        }
    }

    /// Judges the whole plan against `requests`, in plan order; records the exclusions on
    /// the run and answers the items they keep out.
    async fn judge(
        &self,
        run: &mut SyncRun,
        requests: Vec<ExclusionRequest>,
    ) -> Result<Vec<(u64, Excluded)>, EngineError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let targets: Vec<ExclusionTarget> = requests.iter().map(|r| r.target.clone()).collect();
        let mut held = HashMap::new();
        for target in &targets {
            if let ExclusionTarget::Student { id } = target {
                match self.store.get_student(&run.district_id, *id).await {
                    Ok(s) => {
                        held.insert(*id, s.source_id);
                    }
                    Err(store::StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut review = Review::new(&targets, held);
        let mut kept_out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_plan(&run.district_id, run.id, None, None, after, REVIEW_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            kept_out.extend(
                page.iter()
                    .filter_map(|e| review.judge(e.seq, &e.item).map(|x| (e.seq, x))),
            );
        }
        let counts = review.finish().map_err(invalid)?;
        let (by, at) = (self.actor().to_owned(), crate::now());
        run.exclusions = requests
            .into_iter()
            .zip(counts)
            .map(|(r, items)| Exclusion {
                target: r.target,
                reason: r.reason,
                by: by.clone(),
                at,
                items,
            })
            .collect();
        run.counts.excluded = kept_out.len() as u64;
        Ok(kept_out)
    }
}

/// A review's refusal, naming the exclusion at fault.
fn invalid(e: ReviewError) -> EngineError {
    let index = match &e {
        ReviewError::NoSuchItem { index, .. } | ReviewError::SelectsNothing { index, .. } => *index,
    };
    let mut errors = ValidationErrors::new();
    errors.push(format!("exclusions[{index}]"), e.to_string());
    EngineError::Invalid(errors)
}

/// What the audit trail says of an approval: what was kept out, and why.
fn approval_detail(run: &SyncRun) -> String {
    if run.exclusions.is_empty() {
        return String::new();
    }
    let each: Vec<String> = run
        .exclusions
        .iter()
        .map(|x| {
            let why = if x.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", x.reason)
            };
            format!("{} kept {} out{why}", x.target.describe(), x.items)
        })
        .collect();
    format!(
        "excluded {} of {} plan items: {}",
        run.counts.excluded,
        run.counts.plan_items,
        each.join("; ")
    )
}
