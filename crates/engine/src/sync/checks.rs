//! The checks between a plan and its apply: seed 003's import thresholds, evaluated on the
//! plan before anything is written, and the fingerprint that tells an approval whether the
//! district's data moved since the plan was made.

use model::district::{District, Limit, Thresholds};
use model::ids::DistrictId;
use model::run::{RunMode, RunPhase, RunState, SyncRun, ThresholdTrip};

use super::Runs;
use super::{RunControl, Stop};
use crate::EngineError;

/// How much of each kind the plan would remove or downgrade, and out of how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanImpact {
    pub students_archived: u64,
    pub students_held: u64,
    pub guardians_archived: u64,
    pub guardians_held: u64,
    pub links_removed: u64,
    pub links_downgraded: u64,
    pub links_held: u64,
    pub staff_archived: u64,
    pub staff_held: u64,
    pub classrooms_archived: u64,
    pub classrooms_held: u64,
}

fn over(limit: &Limit, count: u64, of: u64) -> bool {
    if count == 0 {
        return false;
    }
    let by_count = limit.max_count.is_some_and(|max| count > max);
    let by_share = limit
        .max_percent
        .is_some_and(|max| of > 0 && (count as f64) * 100.0 / (of as f64) > max);
    by_count || by_share
}

/// Every limit the plan goes over.
pub fn trips(t: &Thresholds, impact: &PlanImpact) -> Vec<ThresholdTrip> {
    [
        (
            "students_archived",
            &t.students_archived,
            impact.students_archived,
            impact.students_held,
        ),
        (
            "guardians_archived",
            &t.guardians_archived,
            impact.guardians_archived,
            impact.guardians_held,
        ),
        (
            "links_removed",
            &t.links_removed,
            impact.links_removed,
            impact.links_held,
        ),
        (
            "links_downgraded",
            &t.links_downgraded,
            impact.links_downgraded,
            impact.links_held,
        ),
        (
            "staff_archived",
            &t.staff_archived,
            impact.staff_archived,
            impact.staff_held,
        ),
        (
            "classrooms_archived",
            &t.classrooms_archived,
            impact.classrooms_archived,
            impact.classrooms_held,
        ),
    ]
    .into_iter()
    .filter(|(_, limit, count, of)| over(limit, *count, *of))
    .map(|(name, limit, count, of)| ThresholdTrip {
        limit: name.to_owned(),
        count,
        of,
        max_percent: limit.max_percent,
        max_count: limit.max_count,
    })
    .collect()
}

impl Runs {
    /// Holds the plan against the thresholds: over one, the run pauses; a dry run stops
    /// here; otherwise the plan is applied.
    pub(super) async fn check_and_apply(
        &self,
        district: &District,
        run: &mut SyncRun,
        impact: PlanImpact,
        control: &RunControl,
    ) -> Result<RunState, Stop> {
        run.enter(RunPhase::Checking, crate::now());
        run.trips = trips(&district.settings.thresholds, &impact);
        if !run.trips.is_empty() {
            crate::metrics::tripped(&run.trips);
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
        self.apply(run, control).await?;
        Ok(RunState::Succeeded)
    }

    /// What approving checks has not moved: the change log, students and links held.
    pub(super) async fn fingerprint(&self, district: &DistrictId) -> Result<String, EngineError> {
        let changes = self.store.count_changes(district).await?;
        let students = self.store.count_students(district, false).await?;
        let links = self.store.count_links(district).await?;
        Ok(format!(
            "changes={changes};students={students};links={links}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_or_a_count_over_its_limit_trips() {
        let t = Thresholds::default();
        let half = PlanImpact {
            students_archived: 50,
            students_held: 100,
            ..PlanImpact::default()
        };
        let trips = trips(&t, &half);
        assert_eq!(trips.len(), 1);
        assert_eq!(
            (trips[0].limit.as_str(), trips[0].count, trips[0].of),
            ("students_archived", 50, 100)
        );
        let few = PlanImpact {
            students_archived: 10,
            students_held: 100,
            ..PlanImpact::default()
        };
        assert!(
            super::trips(&t, &few).is_empty(),
            "10 % is the limit, not over it"
        );
        let counted = Thresholds {
            links_removed: Limit {
                max_percent: None,
                max_count: Some(3),
            },
            ..t
        };
        let four = PlanImpact {
            links_removed: 4,
            links_held: 10_000,
            ..PlanImpact::default()
        };
        assert_eq!(super::trips(&counted, &four)[0].limit, "links_removed");
    }
}
