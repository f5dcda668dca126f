//! Every way a change comes in is planned by the same functions: a spot sync of a student
//! plans the same link changes a run plans for that student.

mod common;

use common::{events, lenient, Bench, Order, Roster};
use model::run::{PlanItem, RunMode, RunState};
use rostersync_engine::SpotUser;
use store::Backend;

store::on_both_backends!(a_spot_sync_and_a_run_plan_the_same_links_for_a_student);

async fn a_spot_sync_and_a_run_plan_the_same_links_for_a_student(backend: Backend) {
    let bench = Bench::new(backend, lenient()).await;
    let roster = Roster::generated(60);
    let first = bench
        .run(events(&roster, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");

    // At the source, the contacts of a student with guardians stop being
    // decision-making: its Full links drop to Restricted (seed 001 rule 4).
    let student = roster
        .accounts
        .iter()
        .flat_map(|a| a.student_source_ids.iter())
        .next()
        .cloned()
        .expect("a student with a guardian account");
    let mut changed = roster.clone();
    for c in changed
        .contacts
        .iter_mut()
        .filter(|c| c.student_source_id == student)
    {
        c.decision_making = Some(false);
    }
    let dry = bench
        .run(events(&changed, Order::Grouped), RunMode::DryRun)
        .await;
    assert_eq!(dry.state, RunState::Succeeded, "{dry:?}");
    let held = bench
        .engine
        .store()
        .students_by_source(&bench.district, std::slice::from_ref(&student))
        .await
        .expect("held")
        .remove(&student)
        .expect("the student is held");
    let links_of = |items: Vec<PlanItem>| -> Vec<PlanItem> {
        items
            .into_iter()
            .filter_map(|item| match item {
                PlanItem::Link {
                    operation,
                    mut link,
                    changes,
                } if link.student_id == held.value.id => {
                    link.updated_at = chrono::DateTime::UNIX_EPOCH;
                    Some(PlanItem::Link {
                        operation,
                        link,
                        changes,
                    })
                }
                _ => None,
            })
            .collect()
    };
    let run_links = links_of(
        bench
            .plan(dry.id)
            .await
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
    );
    assert!(
        !run_links.is_empty(),
        "the run re-tiers the student's links"
    );

    let spot = bench
        .engine
        .spot()
        .spot_sync(&bench.district, SpotUser::Student(held.value.id), true)
        .await
        .expect("spot sync");
    assert_eq!(links_of(spot.items), run_links);
}
