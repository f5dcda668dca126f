//! Reviewing a held plan: what each exclusion keeps out, the changes that cannot apply
//! without what it keeps out, and exclusions that keep nothing out.

extern crate rostersync_planner as planner;

mod common;

use std::collections::HashMap;

use common::*;
use model::change::{Entity, Operation};
use model::ids::{SourceId, StudentId};
use model::link::{AccessTier, LinkOrigin};
use model::roster::AccountStatus;
use model::run::{ExclusionTarget, PlanItem};
use planner::review::{Review, ReviewError};

/// A first sync of school 17 with a teacher and a class, a new student 100 with a
/// guardian and a class, and student 200 already held, moving up a grade.
fn world() -> World {
    let pat = account("700", "501", PAT, &["100"]);
    let mut moved = student("200");
    moved.grade = "8".into();
    let mut teaching = enrollment("C1", "T1");
    teaching.role = model::roster::EnrollmentRole::Teacher;
    World {
        pull: Pull {
            schools: vec![school("17", "Lincoln")],
            staff: vec![staff("T1")],
            classrooms: vec![classroom("C1")],
            enrollments: vec![enrollment("C1", "100"), enrollment("C1", "200"), teaching],
            students: vec![student("100"), moved],
            contacts: vec![contact("100", "501", PAT, Some(true))],
            accounts: vec![pat],
            ..Pull::default()
        },
        held: Held {
            students: vec![held_student(&student("200"))],
            ..Held::default()
        },
        ..World::default()
    }
}

/// The world's plan numbered in apply order, as the engine stores it.
fn numbered(w: &World) -> Vec<(u64, PlanItem)> {
    let mut planned = w.plan(500).items;
    planned.sort_by_key(|p| p.phase);
    planned
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, p.item))
        .collect()
}

fn sid(source: &str) -> StudentId {
    StudentId::derived(&district(), &SourceId::new(source))
}

/// Each plan item's `entity.operation record`, with the exclusion and the item it
/// depends on, when kept out.
fn judged(
    plan: &[(u64, PlanItem)],
    targets: &[ExclusionTarget],
    held: HashMap<StudentId, SourceId>,
) -> (Vec<String>, Result<Vec<u64>, ReviewError>) {
    let mut review = Review::new(targets, held);
    let out = plan
        .iter()
        .filter_map(|(seq, item)| {
            let x = review.judge(*seq, item)?;
            let via = x.via.map_or(String::new(), |v| format!(" via #{v}"));
            Some(format!(
                "{}.{} {} by {}{via}",
                item.entity().as_str(),
                item.operation().as_str(),
                item.record_id(),
                x.exclusion
            ))
        })
        .collect();
    (out, review.finish())
}

fn seq_of(plan: &[(u64, PlanItem)], entity: Entity, record: &str) -> u64 {
    plan.iter()
        .find(|(_, i)| i.entity() == entity && i.record_id().contains(record))
        .map(|(s, _)| *s)
        .expect("an item of the record")
}

#[test]
fn excluding_a_students_creation_keeps_out_its_contacts_links_and_classes() {
    let w = world();
    let plan = numbered(&w);
    let created = seq_of(&plan, Entity::Student, &sid("100").to_string());
    let (out, counts) = judged(
        &plan,
        &[ExclusionTarget::Items {
            seqs: vec![created],
        }],
        HashMap::new(),
    );
    let s = sid("100");
    let g = gid("700");
    assert_eq!(
        out,
        vec![
            format!("student.create {s} by 0"),
            format!("contact.create 100/501 by 0 via #{created}"),
            format!("link.create {s}/{g} by 0 via #{created}"),
            format!("enrollment.create C1/100/student by 0 via #{created}"),
        ],
        "the guardian's account is not the student's: it stays in"
    );
    assert_eq!(counts, Ok(vec![4]));
}

#[test]
fn excluding_a_schools_creation_keeps_out_everything_in_it() {
    let w = world();
    let plan = numbered(&w);
    let (out, counts) = judged(
        &plan,
        &[ExclusionTarget::Changes {
            entity: Some(Entity::School),
            operation: None,
        }],
        HashMap::new(),
    );
    let everything_but_the_guardian = plan
        .iter()
        .filter(|(_, i)| i.entity() != Entity::Guardian)
        .count();
    assert_eq!(out.len(), everything_but_the_guardian, "{out:#?}");
    assert!(out[0].starts_with("school.create"), "{out:#?}");
    assert!(out[1..].iter().all(|l| l.contains(" via #")), "{out:#?}");
    assert_eq!(counts, Ok(vec![everything_but_the_guardian as u64]));
}

#[test]
fn a_held_student_is_excluded_with_its_changes_and_nothing_else() {
    let w = world();
    let plan = numbered(&w);
    let held = HashMap::from([(sid("200"), SourceId::new("200"))]);
    let (out, counts) = judged(&plan, &[ExclusionTarget::Student { id: sid("200") }], held);
    assert_eq!(
        out,
        vec![
            format!("student.update {} by 0", sid("200")),
            "enrollment.create C1/200/student by 0".to_owned(),
        ]
    );
    assert_eq!(counts, Ok(vec![2]));
}

#[test]
fn a_change_selected_twice_counts_under_the_first_exclusion() {
    let w = world();
    let plan = numbered(&w);
    let link = seq_of(&plan, Entity::Link, &sid("100").to_string());
    let (out, counts) = judged(
        &plan,
        &[
            ExclusionTarget::Changes {
                entity: Some(Entity::Link),
                operation: Some(Operation::Create),
            },
            ExclusionTarget::Items { seqs: vec![link] },
        ],
        HashMap::new(),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        counts,
        Err(ReviewError::SelectsNothing {
            index: 1,
            what: format!("items {link}")
        }),
        "an exclusion that keeps nothing out of its own is refused"
    );
}

#[test]
fn an_item_number_outside_the_plan_or_a_filter_matching_nothing_is_refused() {
    let w = world();
    let plan = numbered(&w);
    let (_, counts) = judged(
        &plan,
        &[ExclusionTarget::Items { seqs: vec![1, 999] }],
        HashMap::new(),
    );
    assert_eq!(counts, Err(ReviewError::NoSuchItem { index: 0, seq: 999 }));
    let (out, counts) = judged(
        &plan,
        &[ExclusionTarget::Changes {
            entity: Some(Entity::Link),
            operation: Some(Operation::Delete),
        }],
        HashMap::new(),
    );
    assert!(out.is_empty());
    assert_eq!(
        counts,
        Err(ReviewError::SelectsNothing {
            index: 0,
            what: "changes link.delete".into()
        })
    );
}

#[test]
fn an_excluded_update_keeps_out_nothing_that_refers_to_it() {
    // Student 100 held: its links and contacts do not wait on its update.
    let mut w = world();
    w.held.students.push(held_student(&student("100")));
    w.held.guardians.push(held_guardian(
        &account("700", "501", PAT, &["100"]),
        AccountStatus::Active,
    ));
    w.held
        .links
        .push(link("100", gid("700"), LinkOrigin::Sis, AccessTier::Full));
    w.pull.students[0].grade = "8".into();
    let plan = numbered(&w);
    let (out, _) = judged(
        &plan,
        &[ExclusionTarget::Changes {
            entity: Some(Entity::Student),
            operation: Some(Operation::Update),
        }],
        HashMap::new(),
    );
    assert!(!out.is_empty(), "the update itself is kept out");
    assert!(
        out.iter().all(|l| l.starts_with("student.update")),
        "{out:#?}"
    );
}
