//! Plans in lines: each item in the words of the cases.

use std::collections::HashMap;

use model::ids::StudentId;
use model::run::PlanItem;
use planner::{Phase, Planned};

use super::{district, gid, Outcome, World};

/// Names for ids, to print plans in the words of the cases.
pub fn names(w: &World) -> HashMap<String, String> {
    let d = district();
    let mut n = HashMap::new();
    for s in w
        .pull
        .students
        .iter()
        .map(|s| s.source_id.clone())
        .chain(w.held.students.iter().map(|s| s.value.source_id.clone()))
    {
        n.insert(StudentId::derived(&d, &s).to_string(), s.to_string());
    }
    for s in &w.held.students {
        n.insert(s.value.id.to_string(), s.value.source_id.to_string());
    }
    for a in &w.pull.accounts {
        n.insert(
            gid(a.source_id.as_str()).to_string(),
            a.source_id.to_string(),
        );
    }
    for g in &w.held.guardians {
        let name = g
            .value
            .source_id
            .as_ref()
            .map_or_else(|| format!("local {}", g.value.email), |s| s.to_string());
        n.insert(g.value.id.to_string(), name);
    }
    n
}

/// One plan item in a line: entity, operation, the record in source ids, and what it
/// changes (the fields of an update; a link's tier, origin and rule).
pub fn line(item: &PlanItem, names: &HashMap<String, String>) -> String {
    let name = |id: String| names.get(&id).cloned().unwrap_or(id);
    let op = item.operation().as_str();
    let fields = |changes: &[model::change::FieldChange]| {
        changes
            .iter()
            .map(|c| c.field.as_str())
            .filter(|f| *f != "archived")
            .collect::<Vec<_>>()
            .join(",")
    };
    match item {
        PlanItem::School {
            school, changes, ..
        } => {
            format!("school.{op} {} [{}]", school.source_id, fields(changes))
        }
        PlanItem::Staff { staff, changes, .. } => {
            format!("staff.{op} {} [{}]", staff.source_id, fields(changes))
        }
        PlanItem::Classroom {
            classroom, changes, ..
        } => format!(
            "classroom.{op} {} [{}]",
            classroom.source_id,
            fields(changes)
        ),
        PlanItem::Enrollment { enrollment, .. } => format!(
            "enrollment.{op} {}/{}",
            enrollment.classroom_source_id, enrollment.person_source_id
        ),
        PlanItem::Student {
            student, changes, ..
        } => match item.operation() {
            model::change::Operation::Update => {
                format!("student.{op} {} [{}]", student.source_id, fields(changes))
            }
            _ => format!("student.{op} {}", student.source_id),
        },
        PlanItem::Contact {
            contact, changes, ..
        } => match item.operation() {
            model::change::Operation::Update => format!(
                "contact.{op} {}/{} [{}]",
                contact.student_source_id,
                contact.source_id,
                fields(changes)
            ),
            _ => format!(
                "contact.{op} {}/{}",
                contact.student_source_id, contact.source_id
            ),
        },
        PlanItem::Guardian {
            guardian, changes, ..
        } => match item.operation() {
            model::change::Operation::Create => format!(
                "guardian.create {} {}",
                name(guardian.id.to_string()),
                if guardian.sis_connected {
                    "sis"
                } else {
                    "not-sis"
                }
            ),
            _ => format!(
                "guardian.{op} {} [{}]",
                name(guardian.id.to_string()),
                fields(changes)
            ),
        },
        PlanItem::Link { link, .. } => format!(
            "link.{op} {}>{} {} {} {}",
            name(link.student_id.to_string()),
            name(link.guardian_id.to_string()),
            link.tier.as_str(),
            link.origin.as_str(),
            link.decision.rule
        ),
    }
}

/// The plan of a world in lines, in apply order.
pub fn lines(w: &World, o: &Outcome) -> Vec<String> {
    let names = names(w);
    o.items.iter().map(|p| line(&p.item, &names)).collect()
}

/// Phase of a line's item, for a reader.
pub fn phase_of(p: &Planned) -> Phase {
    p.phase
}
