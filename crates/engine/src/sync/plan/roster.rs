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
use model::run::{PlanItem, SyncRun};
use model::staging::{StagedKind, StagedRecord};
use store::Synced;

use super::{parse, Ctx, Phase, Writer, PAGE};
use crate::sync::stage::content_hash;
use crate::sync::{RunControl, Stop};
use crate::Engine;
use connector::{KindSet, RecordKind};
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

impl Engine {
    /// Schools, staff, and classrooms with their enrollments; then, once the pull proved
    /// complete, staff and classrooms it no longer lists are archived. A kind the source
    /// would not give (`unavailable`) is left as it is held: nothing of it is created,
    /// changed or archived, and classrooms left so keep their enrollments too.
    pub(super) async fn plan_roster(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
        unavailable: KindSet,
    ) -> Result<(), Stop> {
        self.plan_schools(ctx, run, w, control).await?;
        if !unavailable.contains(RecordKind::Staff) {
            self.plan_staff(ctx, run, w, control).await?;
        }
        if !unavailable.contains(RecordKind::Classroom) {
            let enrollments = !unavailable.contains(RecordKind::Enrollment);
            self.plan_classrooms(ctx, run, w, control, enrollments)
                .await?;
        }
        self.plan_roster_archives(ctx, run, w, control, unavailable)
            .await
    }

    /// Pages through one kind of staged record in key order.
    async fn staged_pages(
        &self,
        ctx: &Ctx<'_>,
        run: &SyncRun,
        kind: StagedKind,
        after: &mut Option<String>,
    ) -> Result<Vec<StagedRecord>, Stop> {
        let page = self
            .store
            .staged_page(ctx.district, run.id, kind, after.as_deref(), PAGE)
            .await?;
        if let Some(last) = page.last() {
            *after = Some(last.key.clone());
        }
        Ok(page)
    }

    async fn plan_schools(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let mut after = None;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .staged_pages(ctx, run, StagedKind::School, &mut after)
                .await?;
            if page.is_empty() {
                return Ok(());
            }
            let staged: Vec<(School, String)> = page
                .iter()
                .filter(|r| r.usable())
                .filter_map(|r| parse(r).map(|s| (s, r.hash.clone())))
                .collect();
            let sources: Vec<SourceId> = staged.iter().map(|(s, _)| s.source_id.clone()).collect();
            let held = self.store.schools_by_source(ctx.district, &sources).await?;
            for (s, hash) in staged {
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
                    w.push(run, Phase::Schools, item, None);
                }
            }
            self.flush(ctx, run, w).await?;
        }
    }

    async fn plan_staff(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let permissions = &ctx.settings.staff_permissions;
        let mut after = None;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .staged_pages(ctx, run, StagedKind::Staff, &mut after)
                .await?;
            if page.is_empty() {
                return Ok(());
            }
            let staged: Vec<(Staff, String)> = page
                .iter()
                .filter(|r| r.usable())
                .filter_map(|r| parse(r).map(|s| (s, r.hash.clone())))
                .collect();
            let sources: Vec<SourceId> = staged.iter().map(|(s, _)| s.source_id.clone()).collect();
            let held = self.store.staff_by_source(ctx.district, &sources).await?;
            for (s, hash) in staged {
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
                    w.push(run, Phase::Staff, item, None);
                }
            }
            self.flush(ctx, run, w).await?;
        }
    }

    /// Classrooms page by page, with their enrollments when the source gave them.
    async fn plan_classrooms(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
        enrollments: bool,
    ) -> Result<(), Stop> {
        let mut after = None;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .staged_pages(ctx, run, StagedKind::Classroom, &mut after)
                .await?;
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                return Ok(());
            };
            let range = (first.key.clone(), last.key.clone());
            let staged: Vec<(Classroom, String)> = page
                .iter()
                .filter(|r| r.usable())
                .filter_map(|r| parse(r).map(|s| (s, r.hash.clone())))
                .collect();
            let sources: Vec<SourceId> = staged.iter().map(|(c, _)| c.source_id.clone()).collect();
            let held = self
                .store
                .classrooms_by_source(ctx.district, &sources)
                .await?;
            // Classrooms whose enrollments are planned: the usable ones we keep active.
            let mut active: BTreeSet<SourceId> = BTreeSet::new();
            for (c, hash) in staged {
                let h = held.get(&c.source_id);
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
                    w.push(run, Phase::Classrooms, item, None);
                }
            }
            if enrollments {
                self.plan_enrollments(ctx, run, w, &active, (&range.0, &range.1))
                    .await?;
            }
            self.flush(ctx, run, w).await?;
        }
    }

    /// The enrollments of one page of classrooms: those the source lists and we do not
    /// hold are created, those we hold and it no longer lists are deleted. A classroom
    /// with a refused enrollment keeps the ones it has.
    async fn plan_enrollments(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        classrooms: &BTreeSet<SourceId>,
        range: (&str, &str),
    ) -> Result<(), Stop> {
        let rows = self
            .store
            .staged_in_groups(
                ctx.district,
                run.id,
                StagedKind::Enrollment,
                range.0,
                range.1,
            )
            .await?;
        let mut unsure: HashSet<String> = HashSet::new();
        let mut listed: BTreeSet<(String, String, &'static str)> = BTreeSet::new();
        let mut staged: Vec<Enrollment> = Vec::new();
        for r in &rows {
            match parse::<Enrollment>(r).filter(|_| r.usable()) {
                Some(e) if classrooms.contains(&e.classroom_source_id) => {
                    listed.insert(key(&e));
                    staged.push(e);
                }
                Some(_) => {}
                None => {
                    unsure.insert(r.group.clone());
                }
            }
        }
        let ids: Vec<SourceId> = classrooms.iter().cloned().collect();
        let held = self
            .store
            .enrollments_of_classrooms(ctx.district, &ids)
            .await?;
        let held_keys: BTreeSet<_> = held.iter().map(key).collect();
        for e in &staged {
            if !held_keys.contains(&key(e)) {
                w.push(
                    run,
                    Phase::Enrollments,
                    enrollment_item(Operation::Create, e),
                    None,
                );
            }
        }
        for e in &held {
            if !listed.contains(&key(e)) && !unsure.contains(e.classroom_source_id.as_str()) {
                w.push(
                    run,
                    Phase::Enrollments,
                    enrollment_item(Operation::Delete, e),
                    None,
                );
            }
        }
        Ok(())
    }

    /// Staff and classrooms the complete pull did not list are archived; a kind the
    /// source would not give is not archived at all.
    async fn plan_roster_archives(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
        unavailable: KindSet,
    ) -> Result<(), Stop> {
        // A pull that lists none of a kind never archives all of it.
        let listed = |kind| self.store.count_staged(ctx.district, run.id, kind);
        let staff_read = !unavailable.contains(RecordKind::Staff);
        let classrooms_read = !unavailable.contains(RecordKind::Classroom);
        let staff_listed = staff_read && listed(StagedKind::Staff).await? > 0;
        let classrooms_listed = classrooms_read && listed(StagedKind::Classroom).await? > 0;
        for (kind, read, listed, held) in [
            ("staff", staff_read, staff_listed, w.impact.staff_held),
            (
                "classrooms",
                classrooms_read,
                classrooms_listed,
                w.impact.classrooms_held,
            ),
        ] {
            if read && !listed && held > 0 {
                Engine::warn(
                    run,
                    format!(
                        "the source listed no {kind} while {held} are held; none were archived"
                    ),
                );
            }
        }
        if staff_listed {
            self.archive_absent_staff(ctx, run, w, control).await?;
        }
        if classrooms_listed {
            self.archive_absent_classrooms(ctx, run, w, control).await?;
        }
        Ok(())
    }
}

/// One pass archiving the held records of a kind the pull did not list.
macro_rules! archive_absent {
    ($name:ident, $not_staged:ident, $by_source:ident, $shape:expr, $ty:ident) => {
        impl Engine {
            async fn $name(
                &self,
                ctx: &Ctx<'_>,
                run: &mut SyncRun,
                w: &mut Writer,
                control: &RunControl,
            ) -> Result<(), Stop> {
                let mut after: Option<SourceId> = None;
                loop {
                    if control.stopping() {
                        return Err(Stop::Cancelled);
                    }
                    let gone = self
                        .store
                        .$not_staged(ctx.district, run.id, after.as_ref(), PAGE)
                        .await?;
                    let Some(last) = gone.last() else {
                        return Ok(());
                    };
                    after = Some(last.clone());
                    let held = self.store.$by_source(ctx.district, &gone).await?;
                    for source in &gone {
                        let Some(h) = held.get(source) else { continue };
                        let archived = $ty {
                            archived: true,
                            ..h.value.clone()
                        };
                        let id = archived.id.to_string();
                        let hash = h.source_hash.clone();
                        if let Some(item) = record_item(&$shape, Some(h), archived, hash, id) {
                            w.push(run, Phase::Archives, item, None);
                        }
                    }
                    self.flush(ctx, run, w).await?;
                }
            }
        }
    };
}

archive_absent!(
    archive_absent_staff,
    staff_not_staged,
    staff_by_source,
    STAFF,
    Staff
);
archive_absent!(
    archive_absent_classrooms,
    classrooms_not_staged,
    classrooms_by_source,
    CLASSROOM,
    Classroom
);

fn key(e: &Enrollment) -> (String, String, &'static str) {
    (
        e.classroom_source_id.to_string(),
        e.person_source_id.to_string(),
        e.role.as_str(),
    )
}
