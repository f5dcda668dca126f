//! A district of many pages: planned a page of staged students at a time, the next page
//! read while one is planned, and applied a page of plan items at a time, the next page
//! read while one is written. Every record is planned once and applied once, in order,
//! whatever order the source sent it in; a resync of the same roster plans nothing.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::{events, lenient, Bench, Order, Roster};
use model::change::ChangeSource;
use model::run::{PlanItem, RunMode, RunState};
use store::Backend;

/// More than two planning pages of students (500 each) and, with their contacts,
/// guardians and links, several apply pages (1,000 items each).
const STUDENTS: usize = 1_100;

async fn a_district_of_many_pages_is_planned_and_applied_exactly_once(backend: Backend) {
    let roster = Roster::generated(STUDENTS);
    let bench = Bench::new(backend, lenient()).await;
    let store = bench.engine.store();

    // Planned dry from a shuffled pull, then run from a pull in the source's own order.
    let dry = bench
        .run(events(&roster, Order::Shuffled(2)), RunMode::DryRun)
        .await;
    assert_eq!(dry.state, RunState::Succeeded, "{dry:?}");
    let first = bench
        .run(events(&roster, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");
    let plan = bench.plan(first.id).await;
    assert_eq!(
        bench.plan(dry.id).await,
        plan,
        "a dry run of a shuffled pull plans what the run did"
    );
    assert!(plan.len() > 5_000, "several apply pages: {}", plan.len());

    // Each student of the source is planned once; plan numbers only go up.
    let planned: Vec<_> = plan
        .iter()
        .filter_map(|(_, item)| match item {
            PlanItem::Student { student, .. } => Some(student.source_id.clone()),
            _ => None,
        })
        .collect();
    let distinct: BTreeSet<_> = planned.iter().cloned().collect();
    assert_eq!(planned.len(), distinct.len(), "a student planned twice");
    let sent: BTreeSet<_> = roster
        .students
        .iter()
        .map(|s| s.source_id.clone())
        .collect();
    assert_eq!(distinct, sent, "every student the source sent is planned");
    assert!(
        plan.windows(2).all(|w| w[0].0 < w[1].0),
        "plan numbers go up"
    );

    // Each item applied once: one change-log row each, numbered without gap or repeat.
    assert_eq!(first.counts.plan_items, plan.len() as u64);
    assert_eq!(first.counts.applied, plan.len() as u64);
    let log = store
        .list_changes(
            &bench.district,
            ChangeSource::Run(first.id),
            None,
            1_000_000,
        )
        .await
        .expect("change log");
    assert_eq!(log.len(), plan.len(), "one change-log row per plan item");
    assert!(
        log.iter().enumerate().all(|(i, c)| c.seq == i as u64),
        "change-log rows numbered 0.. without a gap or a repeat"
    );
    assert_eq!(
        store
            .count_students(&bench.district, false)
            .await
            .expect("count"),
        sent.len() as u64,
        "every student is held"
    );

    // The same roster again, in another order: nothing to do.
    let changes = store.count_changes(&bench.district).await.expect("count");
    let again = bench
        .run(events(&roster, Order::Shuffled(9)), RunMode::Full)
        .await;
    assert_eq!(again.state, RunState::Succeeded, "{again:?}");
    assert_eq!(again.counts.plan_items, 0, "{:?}", again.counts.planned);
    assert_eq!(
        store.count_changes(&bench.district).await.expect("count"),
        changes
    );
}

store::on_both_backends!(a_district_of_many_pages_is_planned_and_applied_exactly_once);
