//! Runs planned from a staged pull, against a generated PowerSchool district replayed by a
//! source that can send it in any order:
//! - the same roster in four orders gives identical plans, links and tiers;
//! - with `manage_guardians` off, a run plans no guardian or link change;
//! - a few malformed records are refused one by one with a warning each, and a pull with
//!   more than the allowed share fails naming it.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{events, lenient, Bench, Order, Roster};
use model::run::{PlanItem, RunMode, RunState};
use model::source::SourceStudent;
use store::Backend;

/// What changes at the source between two nights: students leave, accounts close, e-mails
/// move, a contact stops being decision-making, contacts are removed.
fn next_night(roster: &Roster) -> Roster {
    let mut next = roster.clone();
    let leaving: BTreeSet<_> = next
        .students
        .iter()
        .take(6)
        .map(|s| s.source_id.clone())
        .collect();
    next.students.retain(|s| !leaving.contains(&s.source_id));
    next.contacts
        .retain(|c| !leaving.contains(&c.student_source_id));
    next.accounts.drain(..3);
    for a in &mut next.accounts {
        a.student_source_ids.retain(|s| !leaving.contains(s));
    }
    next.accounts.retain(|a| !a.student_source_ids.is_empty());
    for a in next.accounts.iter_mut().take(5) {
        a.mobile_phone = "403-555-0199".into();
    }
    for (i, c) in next.contacts.iter_mut().enumerate().take(40) {
        match i % 3 {
            0 => c.emails = vec![format!("moved{i}@example.org")],
            1 => c.decision_making = Some(false),
            _ => c.phones.clear(),
        }
    }
    // Two contacts of students who stay are gone.
    next.contacts.drain(45..47);
    next
}

const ORDERS: [Order; 4] = [
    Order::Grouped,
    Order::ContactsFirst,
    Order::StudentsFirst,
    Order::Shuffled(11),
];

async fn the_same_roster_in_four_orders_plans_the_same(backend: Backend) {
    let night1 = Roster::generated(180);
    let night2 = next_night(&night1);
    let mut plans: Vec<(Order, Vec<(u64, PlanItem)>)> = Vec::new();
    let mut links: Vec<(Order, BTreeSet<_>)> = Vec::new();
    for order in ORDERS {
        let bench = Bench::new(backend, lenient()).await;
        // The first night, always sent the same way: every store starts alike.
        let first = bench
            .run(events(&night1, Order::Grouped), RunMode::Full)
            .await;
        assert_eq!(first.state, RunState::Succeeded, "{order:?}: {first:?}");
        // The second night in this order: planned dry, then applied.
        let dry = bench.run(events(&night2, order), RunMode::DryRun).await;
        assert_eq!(dry.state, RunState::Succeeded, "{order:?}: {dry:?}");
        let full = bench.run(events(&night2, order), RunMode::Full).await;
        assert_eq!(full.state, RunState::Succeeded, "{order:?}: {full:?}");
        let plan = bench.plan(full.id).await;
        assert_eq!(
            bench.plan(dry.id).await,
            plan,
            "{order:?}: a dry run plans what a run does"
        );
        plans.push((order, plan));
        links.push((order, bench.links().await));
    }
    let (first_order, first_plan) = &plans[0];
    let kinds: BTreeMap<String, usize> =
        first_plan.iter().fold(BTreeMap::new(), |mut m, (_, i)| {
            *m.entry(format!(
                "{}.{}",
                i.entity().as_str(),
                i.operation().as_str()
            ))
            .or_default() += 1;
            m
        });
    // The second night changes something of every kind the test is about.
    for kind in [
        "student.archive",
        "link.delete",
        "link.update",
        "guardian.update",
        "guardian.archive",
        "contact.update",
        "contact.delete",
    ] {
        assert!(kinds.contains_key(kind), "{kind} missing from {kinds:?}");
    }
    for (order, plan) in &plans[1..] {
        assert_eq!(
            plan.len(),
            first_plan.len(),
            "{order:?} planned {} items, {first_order:?} {}",
            plan.len(),
            first_plan.len()
        );
        for (a, b) in first_plan.iter().zip(plan) {
            assert_eq!(a, b, "{order:?} differs from {first_order:?}");
        }
    }
    let (_, first_links) = &links[0];
    assert!(first_links.len() > 50, "links: {}", first_links.len());
    for (order, l) in &links[1..] {
        assert_eq!(l, first_links, "{order:?}: links and tiers differ");
    }
}

async fn with_guardians_not_managed_a_run_plans_no_guardian_or_link(backend: Backend) {
    let night1 = Roster::generated(120);
    let bench = Bench::new(backend, lenient()).await;
    let first = bench
        .run(events(&night1, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");
    let links_before = bench.links().await;
    assert!(!links_before.is_empty());

    let mut settings = lenient();
    settings.manage_guardians = false;
    let mut d = bench
        .engine
        .store()
        .get_district(&bench.district)
        .await
        .expect("district");
    d.settings = settings;
    bench
        .engine
        .store()
        .update_district(&d)
        .await
        .expect("update");

    // The source changes guardians and links; none of it is planned.
    let night2 = next_night(&night1);
    let run = bench
        .run(events(&night2, Order::Shuffled(3)), RunMode::Full)
        .await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    let plan = bench.plan(run.id).await;
    assert!(
        plan.iter()
            .all(|(_, i)| matches!(i, PlanItem::Student { .. })),
        "only students are planned: {:?}",
        run.counts.planned
    );
    assert!(run.counts.planned.contains_key("student.archive"));
    // The links of the students still active are exactly as they were: none added,
    // removed or re-tiered.
    let still: BTreeSet<_> = bench.links().await;
    assert!(!still.is_empty());
    assert!(still.iter().all(|l| links_before.contains(l)));
}

/// A copy of `s` no sync should accept.
fn malformed(s: &SourceStudent, i: usize) -> SourceStudent {
    let mut bad = s.clone();
    match i % 3 {
        0 => bad.birth_date = chrono::NaiveDate::from_ymd_opt(3000, 1, 1),
        1 => {
            bad.legal_first_name = String::new();
            bad.legal_last_name = " ".into();
        }
        _ => bad.middle_name = "x".repeat(1_048_576),
    }
    bad
}

async fn malformed_records_are_refused_one_by_one_until_too_many(backend: Backend) {
    let roster = Roster::generated(400);
    let bench = Bench::new(backend, lenient()).await;
    let first = bench
        .run(events(&roster, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");

    // Three malformed students out of 360 or so (under the default 1 %):
    // refused with a warning each, kept as they were, never archived.
    let mut few = roster.clone();
    let n = few.students.len();
    let picked: Vec<usize> = vec![3, 50, 101];
    for &i in &picked {
        few.students[i] = malformed(&few.students[i], i);
    }
    let run = bench
        .run(events(&few, Order::StudentsFirst), RunMode::Full)
        .await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    for &i in &picked {
        let id = few.students[i].source_id.as_str();
        assert!(
            run.warnings
                .iter()
                .any(|w| w.contains("refused student") && w.contains(id)),
            "a warning names student {id}: {:?}",
            run.warnings
        );
        let held = bench
            .engine
            .store()
            .find_student_by_source(&bench.district, &few.students[i].source_id)
            .await
            .expect("still held");
        assert!(!held.archived, "a refused student is not archived");
    }
    assert!(
        !run.counts.planned.contains_key("student.archive"),
        "{:?}",
        run.counts.planned
    );

    // Five per cent malformed: the run fails, naming the share, and writes nothing.
    let mut many = roster.clone();
    let bad = n.div_ceil(20);
    for i in 0..bad {
        many.students[i * 7 % n] = malformed(&many.students[i * 7 % n], i);
    }
    let changes_before = bench
        .engine
        .store()
        .count_changes(&bench.district)
        .await
        .expect("count");
    let failed = bench
        .run(events(&many, Order::Shuffled(5)), RunMode::Full)
        .await;
    assert_eq!(failed.state, RunState::Failed, "{failed:?}");
    let why = failed.error.clone().unwrap_or_default();
    assert!(
        why.contains("students") && why.contains("% allowed"),
        "the reason names the kind and the share: {why}"
    );
    assert_eq!(
        bench
            .engine
            .store()
            .count_changes(&bench.district)
            .await
            .expect("count"),
        changes_before
    );
}

store::on_both_backends!(
    the_same_roster_in_four_orders_plans_the_same,
    with_guardians_not_managed_a_run_plans_no_guardian_or_link,
    malformed_records_are_refused_one_by_one_until_too_many,
);
