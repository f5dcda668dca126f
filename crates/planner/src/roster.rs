//! The rest of the roster: schools, staff (with the district's staff permissions),
//! classrooms with their enrollments, and the students' source contacts — each staged
//! record against the one we hold, page by page in key order. After a complete pull,
//! staff and classrooms the source no longer lists are archived; a classroom that comes
//! back is unarchived only when the district says so (`unarchive_classrooms`), staff
//! always.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use model::change::{Entity, FieldChange, Operation};
use model::ids::{ClassroomId, SchoolId, SourceId, StaffId};
use model::roster::{Classroom, Contact, Enrollment, School, Staff};
use model::run::PlanItem;
use model::staging::StagedRecord;
use model::Synced;

use crate::{content_hash, parse, usable, Ctx, Planned};
use model::fields::{
    changes, classroom_fields, contact_fields, enrollment_fields, school_fields, staff_fields,
    Fields,
};

/// How one kind of record becomes plan items.
struct Shape<T> {
    entity: Entity,
    fields: fn(&T) -> Fields,
    archived: fn(&T) -> bool,
    make: fn(Operation, T, String, Vec<FieldChange>) -> PlanItem,
}

const SCHOOL: Shape<School> = Shape {
    entity: Entity::School,
    fields: school_fields,
    archived: |s| s.archived,
    make: school_item,
};
const STAFF: Shape<Staff> = Shape {
    entity: Entity::Staff,
    fields: staff_fields,
    archived: |s| s.archived,
    make: staff_item,
};
const CLASSROOM: Shape<Classroom> = Shape {
    entity: Entity::Classroom,
    fields: classroom_fields,
    archived: |c| c.archived,
    make: classroom_item,
};
const CONTACT: Shape<Contact> = Shape {
    entity: Entity::Contact,
    fields: contact_fields,
    archived: |_| false,
    make: contact_item,
};

/// The item that brings a held record (or none) to `new`, if anything changes.
fn record_item<T>(
    shape: &Shape<T>,
    held: Option<&Synced<T>>,
    new: T,
    hash: String,
    id: String,
) -> Option<PlanItem> {
    let Shape {
        entity,
        fields,
        archived,
        make,
    } = *shape;
    let operation = match held {
        None => Operation::Create,
        Some(h) if archived(&h.value) && !archived(&new) => Operation::Unarchive,
        Some(h) if !archived(&h.value) && archived(&new) => Operation::Archive,
        Some(_) => Operation::Update,
    };
    let old = held.map(|h| fields(&h.value));
    let c = changes(entity, &id, operation, old.as_ref(), &fields(&new));
    if let Some(h) = held {
        if c.is_empty() && h.source_hash == hash {
            return None;
        }
    }
    Some(make(operation, new, hash, c))
}

fn school_item(
    op: Operation,
    school: School,
    source_hash: String,
    changes: Vec<FieldChange>,
) -> PlanItem {
    PlanItem::School {
        operation: op,
        school,
        source_hash,
        changes,
    }
}

fn staff_item(
    op: Operation,
    staff: Staff,
    source_hash: String,
    changes: Vec<FieldChange>,
) -> PlanItem {
    PlanItem::Staff {
        operation: op,
        staff,
        source_hash,
        changes,
    }
}

fn classroom_item(
    op: Operation,
    classroom: Classroom,
    source_hash: String,
    changes: Vec<FieldChange>,
) -> PlanItem {
    PlanItem::Classroom {
        operation: op,
        classroom,
        source_hash,
        changes,
    }
}

fn contact_item(
    op: Operation,
    contact: Contact,
    source_hash: String,
    changes: Vec<FieldChange>,
) -> PlanItem {
    PlanItem::Contact {
        operation: op,
        contact,
        source_hash,
        changes,
    }
}

/// The contact items of one page of students: each staged contact against the one we
/// hold, and the held contacts of these students the source no longer lists deleted.
/// Students in `unsure` (a refused contact among theirs) keep their contacts.
pub fn contact_items(
    staged: &HashMap<String, Vec<(Contact, String)>>,
    held: &[Synced<Contact>],
    students: &BTreeSet<SourceId>,
    unsure: &HashSet<String>,
) -> Vec<PlanItem> {
    let held_by: BTreeMap<(SourceId, SourceId), &Synced<Contact>> = held
        .iter()
        .map(|c| {
            (
                (c.value.student_source_id.clone(), c.value.source_id.clone()),
                c,
            )
        })
        .collect();
    let mut items = Vec::new();
    let mut listed: HashSet<(SourceId, SourceId)> = HashSet::new();
    for student in students {
        if unsure.contains(student.as_str()) {
            listed.extend(
                held.iter()
                    .filter(|c| &c.value.student_source_id == student)
                    .map(|c| (student.clone(), c.value.source_id.clone())),
            );
            continue;
        }
        for (c, hash) in staged.get(student.as_str()).into_iter().flatten() {
            let key = (c.student_source_id.clone(), c.source_id.clone());
            let id = format!("{}/{}", key.0, key.1);
            if let Some(item) = record_item(
                &CONTACT,
                held_by.get(&key).copied(),
                c.clone(),
                hash.clone(),
                id,
            ) {
                items.push(item);
            }
            listed.insert(key);
        }
    }
    for (key, h) in &held_by {
        if students.contains(&key.0) && !listed.contains(key) {
            let id = format!("{}/{}", key.0, key.1);
            items.push(PlanItem::Contact {
                operation: Operation::Delete,
                changes: changes(
                    Entity::Contact,
                    &id,
                    Operation::Delete,
                    None,
                    &contact_fields(&h.value),
                ),
                contact: h.value.clone(),
                source_hash: h.source_hash.clone(),
            });
        }
    }
    items
}

fn enrollment_item(operation: Operation, e: &Enrollment) -> PlanItem {
    let id = format!(
        "{}/{}/{}",
        e.classroom_source_id,
        e.person_source_id,
        e.role.as_str()
    );
    PlanItem::Enrollment {
        operation,
        changes: changes(
            Entity::Enrollment,
            &id,
            operation,
            None,
            &enrollment_fields(e),
        ),
        enrollment: e.clone(),
    }
}

/// The schools of one page of staged records against the ones we hold (by source id).
pub fn school_items(
    ctx: &Ctx<'_>,
    records: &[StagedRecord],
    held: &HashMap<SourceId, Synced<School>>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for (s, hash) in usable::<School>(records) {
        let h = held.get(&s.source_id);
        let school = School {
            id: h.map_or_else(
                || SchoolId::derived(ctx.district, &s.source_id),
                |h| h.value.id,
            ),
            archived: false,
            ..s
        };
        let id = school.id.to_string();
        if let Some(item) = record_item(&SCHOOL, h, school, hash, id) {
            out.push(Planned::new(item));
        }
    }
    out
}

/// The staff of one page against the ones we hold, with the permissions the district
/// grants its synced staff.
pub fn staff_items(
    ctx: &Ctx<'_>,
    records: &[StagedRecord],
    held: &HashMap<SourceId, Synced<Staff>>,
) -> Vec<Planned> {
    let permissions = &ctx.settings.staff_permissions;
    let mut out = Vec::new();
    for (s, hash) in usable::<Staff>(records) {
        let h = held.get(&s.source_id);
        // The permissions the district grants are part of what the sync writes:
        // changing them updates every synced staff member.
        let hash = content_hash(&(hash, permissions));
        let staff = Staff {
            id: h.map_or_else(
                || StaffId::derived(ctx.district, &s.source_id),
                |h| h.value.id,
            ),
            permissions: permissions.clone(),
            archived: false,
            ..s
        };
        let id = staff.id.to_string();
        if let Some(item) = record_item(&STAFF, h, staff, hash, id) {
            out.push(Planned::new(item));
        }
    }
    out
}

/// One page of classrooms: its staged records, the classrooms we hold of them, and —
/// when the source gave enrollments — the staged enrollments of the page's classrooms
/// with the ones we hold.
#[derive(Debug, Clone, Copy)]
pub struct ClassroomPage<'a> {
    pub records: &'a [StagedRecord],
    pub held: &'a HashMap<SourceId, Synced<Classroom>>,
    pub enrollments: Option<(&'a [StagedRecord], &'a [Enrollment])>,
}

/// A page of classrooms: each against the one we hold (an archived one comes back only
/// when the district says so, `unarchive_classrooms`), with its enrollments.
pub fn classroom_items(ctx: &Ctx<'_>, page: &ClassroomPage<'_>) -> Vec<Planned> {
    let mut out = Vec::new();
    // Classrooms whose enrollments are planned: the usable ones we keep active.
    let mut active: BTreeSet<SourceId> = BTreeSet::new();
    for (c, hash) in usable::<Classroom>(page.records) {
        let h = page.held.get(&c.source_id);
        let stays_archived =
            h.is_some_and(|h| h.value.archived) && !ctx.settings.unarchive_classrooms;
        if stays_archived {
            continue;
        }
        active.insert(c.source_id.clone());
        let classroom = Classroom {
            id: h.map_or_else(
                || ClassroomId::derived(ctx.district, &c.source_id),
                |h| h.value.id,
            ),
            archived: false,
            ..c
        };
        let id = classroom.id.to_string();
        if let Some(item) = record_item(&CLASSROOM, h, classroom, hash, id) {
            out.push(Planned::new(item));
        }
    }
    if let Some((staged, held)) = page.enrollments {
        out.extend(enrollment_items(&active, staged, held));
    }
    out
}

/// The enrollments of one page of classrooms: those the source lists and we do not hold
/// are created, those we hold and it no longer lists are deleted. A classroom with a
/// refused enrollment keeps the ones it has.
fn enrollment_items(
    classrooms: &BTreeSet<SourceId>,
    rows: &[StagedRecord],
    held: &[Enrollment],
) -> Vec<Planned> {
    let mut rows: Vec<&StagedRecord> = rows.iter().collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut unsure: HashSet<&str> = HashSet::new();
    let mut listed: BTreeSet<(String, String, &'static str)> = BTreeSet::new();
    let mut staged: Vec<Enrollment> = Vec::new();
    for r in rows {
        match parse::<Enrollment>(r) {
            Some(e) if classrooms.contains(&e.classroom_source_id) => {
                listed.insert(key(&e));
                staged.push(e);
            }
            Some(_) => {}
            None => {
                unsure.insert(r.group.as_str());
            }
        }
    }
    let mut held: Vec<&Enrollment> = held
        .iter()
        .filter(|e| classrooms.contains(&e.classroom_source_id))
        .collect();
    held.sort_by_key(|e| key(e));
    let held_keys: BTreeSet<_> = held.iter().map(|e| key(e)).collect();
    let created = staged
        .iter()
        .filter(|e| !held_keys.contains(&key(e)))
        .map(|e| enrollment_item(Operation::Create, e));
    let deleted = held
        .iter()
        .filter(|e| !listed.contains(&key(e)) && !unsure.contains(e.classroom_source_id.as_str()))
        .map(|e| enrollment_item(Operation::Delete, e));
    created.chain(deleted).map(Planned::new).collect()
}

/// Why a kind the source read was not archived: it listed none of it while some are held.
pub fn none_listed_warning(kind: &str, listed: u64, held: u64) -> Option<String> {
    (listed == 0 && held > 0)
        .then(|| format!("the source listed no {kind} while {held} are held; none were archived"))
}

/// Held staff the complete pull did not list, archived.
pub fn staff_archives(absent: &[Synced<Staff>]) -> Vec<Planned> {
    archives(&STAFF, absent, |s| {
        let id = s.id.to_string();
        let archived = Staff {
            archived: true,
            ..s.clone()
        };
        (archived, id)
    })
}

/// Held classrooms the complete pull did not list, archived.
pub fn classroom_archives(absent: &[Synced<Classroom>]) -> Vec<Planned> {
    archives(&CLASSROOM, absent, |c| {
        let id = c.id.to_string();
        let archived = Classroom {
            archived: true,
            ..c.clone()
        };
        (archived, id)
    })
}

/// Each held record brought to its archived self (with its id), keeping its source hash.
fn archives<T>(
    shape: &Shape<T>,
    absent: &[Synced<T>],
    archived: fn(&T) -> (T, String),
) -> Vec<Planned> {
    absent
        .iter()
        .filter_map(|h| {
            let (record, id) = archived(&h.value);
            record_item(shape, Some(h), record, h.source_hash.clone(), id)
        })
        .map(Planned::new)
        .collect()
}

fn key(e: &Enrollment) -> (String, String, &'static str) {
    (
        e.classroom_source_id.to_string(),
        e.person_source_id.to_string(),
        e.role.as_str(),
    )
}
