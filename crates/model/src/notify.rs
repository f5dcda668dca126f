//! What a district is told when a run ends or is held (seed 003: *Import Results* after
//! every import, *Check Your Data* when a threshold paused one): a run's summary, written
//! as an event in the same transaction as the run's state, and numbered in the order the
//! transactions committed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::run::{RunMode, RunState, RunTrigger, SyncRun, ThresholdTrip};

/// How a run ended, or that it is held for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
    /// Paused by a threshold: someone must review it, then approve or cancel it.
    Held,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Held => "held",
        }
    }

    /// The outcome a run in `state` has; `None` while it is still moving.
    pub fn of(state: RunState) -> Option<Outcome> {
        match state {
            RunState::Succeeded => Some(Outcome::Succeeded),
            RunState::Failed => Some(Outcome::Failed),
            RunState::Cancelled => Some(Outcome::Cancelled),
            RunState::Paused => Some(Outcome::Held),
            RunState::Running | RunState::Cancelling => None,
        }
    }
}

/// A run as its district's subscribers are told it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub district_id: String,
    pub run_id: String,
    pub trigger: RunTrigger,
    pub mode: RunMode,
    pub outcome: Outcome,
    /// Planned changes by `entity.operation` (`student.create`, `link.delete`, …).
    pub counts: BTreeMap<String, u64>,
    pub plan_items: u64,
    pub applied: u64,
    pub thresholds_tripped: Vec<ThresholdTrip>,
    pub warnings: u64,
    /// Why it failed or was cancelled, in words.
    pub first_failure: Option<String>,
    /// When the run ended or was held.
    pub at: DateTime<Utc>,
}

impl RunSummary {
    /// The summary of a run that ended or is held; `None` for one still moving.
    pub fn of(run: &SyncRun, at: DateTime<Utc>) -> Option<RunSummary> {
        let outcome = Outcome::of(run.state)?;
        Some(RunSummary {
            district_id: run.district_id.to_string(),
            run_id: run.id.to_string(),
            trigger: run.trigger,
            mode: run.mode,
            outcome,
            counts: run.counts.planned.clone(),
            plan_items: run.counts.plan_items,
            applied: run.counts.applied,
            thresholds_tripped: run.trips.clone(),
            warnings: run.counts.warnings,
            first_failure: match outcome {
                Outcome::Failed | Outcome::Cancelled => run.error.clone(),
                Outcome::Succeeded | Outcome::Held => None,
            },
            at,
        })
    }
}

/// A summary with its place in the order events were committed (from 1, no gaps).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    pub seq: u64,
    pub summary: RunSummary,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RunId;
    use crate::run::{RunCounts, RunPhase};

    fn run(state: RunState) -> SyncRun {
        SyncRun {
            id: RunId::new(),
            district_id: "cbe".parse().expect("id"),
            mode: RunMode::Full,
            trigger: RunTrigger::Import,
            state,
            phase: RunPhase::Done,
            error: Some("the source stopped answering".into()),
            counts: RunCounts {
                planned: BTreeMap::from([("student.create".into(), 3)]),
                plan_items: 3,
                applied: 3,
                warnings: 2,
                ..RunCounts::default()
            },
            trips: vec![],
            warnings: vec![],
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            approved_at: None,
            request_id: None,
            phases: vec![],
            by: Default::default(),
        }
    }

    #[test]
    fn only_a_run_that_ended_or_is_held_is_told() {
        let now = Utc::now();
        for moving in [RunState::Running, RunState::Cancelling] {
            assert_eq!(RunSummary::of(&run(moving), now), None);
        }
        let failed = RunSummary::of(&run(RunState::Failed), now).expect("told");
        assert_eq!(failed.outcome, Outcome::Failed);
        assert_eq!(
            failed.first_failure.as_deref(),
            Some("the source stopped answering")
        );
        let held = RunSummary::of(&run(RunState::Paused), now).expect("told");
        assert_eq!((held.outcome, held.first_failure), (Outcome::Held, None));
        let done = RunSummary::of(&run(RunState::Succeeded), now).expect("told");
        assert_eq!(done.counts["student.create"], 3);
        assert_eq!((done.warnings, done.trigger), (2, RunTrigger::Import));
    }
}
