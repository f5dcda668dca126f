//! Spot sync (seed 000) as a filter over the run's plan of a page of one:
//!
//! > Student accounts: first name (legal), last name (legal), middle name, date of birth,
//! > gender, ASN, current school, current grade, enrollment status, parents (only those
//! > with active access accounts). Guardian accounts: first and last name, e-mail (of the
//! > access account), home phone, cell phone, address (mailing if present, else
//! > physical), students (only those for whom they have active access accounts).
//!
//! A spot sync never creates an account, never links an account the district does not
//! hold, never archives or unarchives, and writes no contact. A record it updates keeps
//! the hash of the content the last run wrote, so the next run still writes the fields a
//! spot sync leaves.

use std::collections::{BTreeSet, HashMap};

use model::change::{Entity, Operation};
use model::fields::{changes, guardian_fields, student_fields};
use model::ids::GuardianId;
use model::roster::{AccountStatus, Guardian, Student};
use model::run::PlanItem;

use crate::{Ctx, Mark, PagePlan};

/// Exactly the fields seed 000 lets spot sync change on a student, taken from `planned`.
pub fn seed_000_student(current: &Student, planned: &Student) -> Student {
    Student {
        legal_first_name: planned.legal_first_name.clone(),
        legal_last_name: planned.legal_last_name.clone(),
        middle_name: planned.middle_name.clone(),
        birth_date: planned.birth_date,
        gender: planned.gender.clone(),
        state_id: planned.state_id.clone(),
        school_source_id: planned.school_source_id.clone(),
        grade: planned.grade.clone(),
        enrollment_status: planned.enrollment_status.clone(),
        ..current.clone()
    }
}

/// Whose changes a spot sync keeps.
#[derive(Debug, Clone, Copy)]
pub enum SpotUser<'a> {
    /// A student, as held now, with the hash its record keeps.
    Student {
        current: &'a Student,
        held_hash: &'a str,
    },
    /// A guardian: only its own links and marks.
    Guardian(GuardianId),
}

/// The spot sync's items of a page planned for one user: seed 000's student fields, the
/// links of guardians the district holds, and guardians the rules mark incomplete.
/// `linked` are the guardians of the student's held links.
pub fn spot_items(
    ctx: &Ctx<'_>,
    plan: &PagePlan,
    user: SpotUser<'_>,
    linked: &HashMap<GuardianId, Guardian>,
) -> Vec<PlanItem> {
    // Links to guardians the run would create first: a spot sync creates no account.
    let new: BTreeSet<GuardianId> = plan
        .marks
        .iter()
        .filter_map(|m| match m {
            Mark::Need(source) => Some(GuardianId::derived(ctx.district, source)),
            _ => None,
        })
        .collect();
    let only = match user {
        SpotUser::Guardian(g) => Some(g),
        SpotUser::Student { .. } => None,
    };
    let mut items = Vec::new();
    for p in &plan.items {
        match (&p.item, user) {
            (PlanItem::Student { student, .. }, SpotUser::Student { current, held_hash }) => {
                items.extend(student_update(current, student, held_hash))
            }
            (PlanItem::Link { link, .. }, _)
                if !new.contains(&link.guardian_id)
                    && only.is_none_or(|g| g == link.guardian_id) =>
            {
                items.push(p.item.clone());
            }
            _ => {}
        }
    }
    for m in &plan.marks {
        let Mark::Incomplete(g) = m else { continue };
        if only.is_some_and(|o| o != *g) {
            continue;
        }
        if let Some(item) = linked.get(g).and_then(mark_incomplete) {
            items.push(item);
        }
    }
    items
}

/// The student's seed 000 fields brought to the planned record; none when none moved.
fn student_update(current: &Student, planned: &Student, held_hash: &str) -> Option<PlanItem> {
    let updated = seed_000_student(current, planned);
    let c = changes(
        Entity::Student,
        &current.id.to_string(),
        Operation::Update,
        Some(&student_fields(current)),
        &student_fields(&updated),
    );
    (!c.is_empty()).then(|| PlanItem::Student {
        operation: Operation::Update,
        student: updated,
        source_hash: held_hash.to_owned(),
        changes: c,
    })
}

/// A guardian marked incomplete, unless it already is.
fn mark_incomplete(g: &Guardian) -> Option<PlanItem> {
    if g.status == AccountStatus::Incomplete {
        return None;
    }
    let updated = Guardian {
        status: AccountStatus::Incomplete,
        ..g.clone()
    };
    Some(PlanItem::Guardian {
        operation: Operation::Update,
        changes: changes(
            Entity::Guardian,
            &g.id.to_string(),
            Operation::Update,
            Some(&guardian_fields(g)),
            &guardian_fields(&updated),
        ),
        source_hash: String::new(),
        guardian: updated,
    })
}

/// A guardian's own seed 000 update from its account, planned as a run plans it; keeps
/// the held hash. None when no field moves.
pub fn guardian_update(planned: Option<PlanItem>, held_hash: &str) -> Option<PlanItem> {
    match planned {
        Some(PlanItem::Guardian {
            guardian, changes, ..
        }) if !changes.is_empty() => Some(PlanItem::Guardian {
            operation: Operation::Update,
            guardian,
            source_hash: held_hash.to_owned(),
            changes,
        }),
        _ => None,
    }
}
