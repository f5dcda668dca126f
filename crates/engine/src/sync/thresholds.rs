//! Seed 003's import thresholds, evaluated on a run's plan before anything is written.

use model::district::{Limit, Thresholds};
use model::run::ThresholdTrip;

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
