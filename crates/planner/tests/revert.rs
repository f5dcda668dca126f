//! Undoing a run record by record: fields put back when they still hold what the run set,
//! left and named when a later change moved them (unless forced); creations deleted,
//! deletions made again, archives lifted.

extern crate rostersync_planner as planner;

mod common;

use chrono::Utc;
use common::*;
use model::change::{FieldChange, Operation};
use model::link::{AccessTier, LinkOrigin};
use model::run::PlanItem;
use planner::revert::undo;
use planner::Phase;

fn held(grade: &str) -> PlanItem {
    let mut s = held_student(&student("100")).value;
    s.grade = grade.into();
    PlanItem::Student {
        operation: Operation::Update,
        student: s,
        source_hash: "h".into(),
        changes: vec![],
    }
}

fn row(
    item: &PlanItem,
    operation: Operation,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> FieldChange {
    FieldChange {
        entity: item.entity(),
        record_id: item.record_id(),
        operation,
        field: field.into(),
        old_value: old.map(str::to_owned),
        new_value: new.map(str::to_owned),
    }
}

fn grade_of(item: &PlanItem) -> String {
    match item {
        PlanItem::Student { student, .. } => student.grade.clone(),
        _ => panic!("a student"),
    }
}

#[test]
fn a_field_still_as_the_run_set_it_is_put_back() {
    let now = held("8");
    let logged = [row(&now, Operation::Update, "grade", Some("7"), Some("8"))];
    let u = undo(&logged, Some(now), false, Utc::now()).expect("undo");
    let item = u.item.expect("an update").item;
    assert_eq!(
        (item.operation(), grade_of(&item)),
        (Operation::Update, "7".into())
    );
    assert_eq!(item.changes().len(), 1);
    assert!(u.left.is_empty());
    let PlanItem::Student { source_hash, .. } = &item else {
        unreachable!()
    };
    assert!(
        source_hash.is_empty(),
        "the next run compares it field by field"
    );
}

#[test]
fn a_field_a_later_change_moved_is_left_and_named_unless_forced() {
    let now = held("9");
    let logged = [row(&now, Operation::Update, "grade", Some("7"), Some("8"))];
    let u = undo(&logged, Some(now.clone()), false, Utc::now()).expect("undo");
    assert!(u.item.is_none());
    assert_eq!(u.left.len(), 1);
    assert_eq!(
        (
            u.left[0].field.as_str(),
            u.left[0].now.as_deref(),
            u.left[0].run_set.as_deref(),
            u.left[0].before.as_deref()
        ),
        ("grade", Some("9"), Some("8"), Some("7"))
    );
    assert!(
        u.left[0].describe().contains("grade"),
        "{}",
        u.left[0].describe()
    );
    let forced = undo(&logged, Some(now), true, Utc::now()).expect("undo");
    assert_eq!(grade_of(&forced.item.expect("forced").item), "7");
}

#[test]
fn an_archive_is_lifted_and_an_unarchive_archived_again() {
    let mut now = held("8");
    if let PlanItem::Student { student, .. } = &mut now {
        student.archived = true;
    }
    let logged = [row(
        &now,
        Operation::Archive,
        "archived",
        Some("false"),
        Some("true"),
    )];
    let u = undo(&logged, Some(now), false, Utc::now()).expect("undo");
    assert_eq!(
        u.item.expect("an item").item.operation(),
        Operation::Unarchive
    );
}

#[test]
fn a_creation_still_as_made_is_deleted_last_and_one_changed_since_is_left() {
    let now = held("8");
    let made: serde_json::Map<String, serde_json::Value> = now
        .record_fields()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f.to_owned(), v.into()))
        .collect();
    let json = serde_json::Value::Object(made).to_string();
    let logged = [row(&now, Operation::Create, "*", None, Some(&json))];
    let u = undo(&logged, Some(now.clone()), false, Utc::now()).expect("undo");
    let p = u.item.expect("a deletion");
    assert_eq!(
        (p.item.operation(), p.phase),
        (Operation::Delete, Phase::Archives)
    );
    assert!(u.left.is_empty());

    let moved = held("9");
    let u = undo(&logged, Some(moved), false, Utc::now()).expect("undo");
    assert!(u.item.is_none());
    assert_eq!(
        u.left.iter().map(|l| l.field.as_str()).collect::<Vec<_>>(),
        ["grade"]
    );
}

#[test]
fn a_deleted_link_is_made_again_with_its_tier_and_rule() {
    let l = link("100", gid("700"), LinkOrigin::Sis, AccessTier::Restricted);
    let gone = PlanItem::Link {
        operation: Operation::Delete,
        link: l.clone(),
        changes: vec![],
    };
    let old: serde_json::Map<String, serde_json::Value> = gone
        .record_fields()
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v.into()))
        .collect();
    let old = serde_json::Value::Object(old).to_string();
    let logged = [row(&gone, Operation::Delete, "*", Some(&old), None)];
    let u = undo(&logged, None, false, Utc::now()).expect("undo");
    let p = u.item.expect("a creation");
    assert_eq!(
        (p.item.operation(), p.phase),
        (Operation::Create, Phase::Links)
    );
    let PlanItem::Link { link: made, .. } = p.item else {
        unreachable!()
    };
    assert_eq!(
        (
            made.student_id,
            made.guardian_id,
            made.origin,
            made.tier,
            made.decision.rule.clone()
        ),
        (
            l.student_id,
            l.guardian_id,
            l.origin,
            l.tier,
            l.decision.rule
        )
    );
}

#[test]
fn a_record_gone_since_leaves_its_fields_named() {
    let now = held("8");
    let logged = [row(&now, Operation::Update, "grade", Some("7"), Some("8"))];
    let u = undo(&logged, None, false, Utc::now()).expect("undo");
    assert!(u.item.is_none());
    assert_eq!(u.left.len(), 1);
    assert_eq!(u.left[0].now, None);
}

#[test]
fn a_contact_logged_without_its_keys_is_still_deleted_as_made() {
    let c = contact("100", "501", PAT, Some(true));
    let now = PlanItem::Contact {
        operation: Operation::Update,
        contact: c,
        source_hash: String::new(),
        changes: vec![],
    };
    // As logs written before a contact listed its keys among its fields.
    let made: serde_json::Map<String, serde_json::Value> = now
        .record_fields()
        .into_iter()
        .filter(|(f, v)| !v.is_empty() && !f.ends_with("source_id"))
        .map(|(f, v)| (f.to_owned(), v.into()))
        .collect();
    let json = serde_json::Value::Object(made).to_string();
    let logged = [row(&now, Operation::Create, "*", None, Some(&json))];
    let u = undo(&logged, Some(now), false, Utc::now()).expect("undo");
    assert!(u.left.is_empty(), "{:?}", u.left);
    assert_eq!(
        u.item.expect("a deletion").item.operation(),
        Operation::Delete
    );
}
