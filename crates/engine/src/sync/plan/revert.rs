//! Planning an undo: the undone run's change-log rows page by page, grouped by record; the
//! records as they are now read in bulk (one read per kind per page); the pure
//! [`planner::revert::undo`] says what puts each back, or which fields it leaves. Items are
//! numbered by phase like any plan, so deletions of what the run created come after the
//! links and enrollments that refer to them.

use std::collections::{HashMap, HashSet};

use model::change::{ChangeSource, Entity, FieldChange, Operation};
use model::district::District;
use model::ids::{GuardianId, SourceId, StudentId};
use model::run::{PlanItem, SyncRun};

use super::super::checks::PlanImpact;
use super::{RunControl, Stop, Writer};
use crate::sync::Runs;

/// Change-log rows read per page.
const LOG_PAGE: u64 = 2_000;

/// A record the undone run changed: its kind and our id.
type RecordKey = (Entity, String);

impl Runs {
    /// Plans the undo `run.revert` names, from the undone run's change log.
    pub(in crate::sync) async fn plan_revert(
        &self,
        district: &District,
        run: &mut SyncRun,
        control: &RunControl,
    ) -> Result<PlanImpact, Stop> {
        let Some(revert) = run.revert.clone() else {
            return Err(Stop::Failed("an undo that names no run to undo".into()));
        };
        let id = &district.id;
        let mut w = Writer::default();
        w.impact.students_held = self.store.count_students(id, false).await?;
        w.impact.guardians_held = self.store.count_guardians(id, false).await?;
        w.impact.links_held = self.store.count_links(id).await?;
        w.impact.staff_held = self.store.count_staff(id, false).await?;
        w.impact.classrooms_held = self.store.count_classrooms(id, false).await?;
        let source = ChangeSource::Run(revert.run);
        let mut after = None;
        // The rows of the record a page ended in: its next rows may be on the next page.
        let mut carried: Vec<FieldChange> = Vec::new();
        let mut left = 0;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let rows = self.store.list_changes(id, source, after, LOG_PAGE).await?;
            let whole = (rows.len() as u64) < LOG_PAGE;
            after = rows.last().map(|r| r.seq).or(after);
            carried.extend(rows.into_iter().map(|r| r.change));
            let mut groups = grouped(std::mem::take(&mut carried));
            if !whole {
                carried = groups.pop().unwrap_or_default();
            }
            let mut current = self.current_records(district, &groups).await?;
            let now = crate::now();
            for rows in groups {
                let key = (rows[0].entity, rows[0].record_id.clone());
                let undo = planner::revert::undo(&rows, current.remove(&key), revert.force, now)
                    .map_err(|e| {
                        Stop::Failed(format!("cannot undo {} {}: {e}", key.0.as_str(), key.1))
                    })?;
                for field in &undo.left {
                    left += 1;
                    Runs::warn(run, field.describe());
                }
                if let Some(item) = undo.item {
                    w.push(run, item);
                }
            }
            self.store
                .append_plan(id, run.id, &std::mem::take(&mut w.page))
                .await?;
            if w.progress.due() {
                self.save_progress(run).await?;
            }
            if whole {
                break;
            }
        }
        if let Some(r) = run.revert.as_mut() {
            r.left = left;
        }
        Ok(w.impact)
    }

    /// The records these groups of rows are about, as the district holds them now, each
    /// as a plan item (of no particular operation) the undo can compare and change.
    async fn current_records(
        &self,
        district: &District,
        groups: &[Vec<FieldChange>],
    ) -> Result<HashMap<RecordKey, PlanItem>, Stop> {
        let d = &district.id;
        let ids = |entity: Entity| -> Vec<String> {
            groups
                .iter()
                .filter(|g| g[0].entity == entity)
                .map(|g| g[0].record_id.clone())
                .collect()
        };
        // Each record keyed as the change log names it: its item's record id.
        let mut held: Vec<Record> = Vec::new();
        let students: Vec<StudentId> = ids(Entity::Student)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        held.extend(
            self.store
                .students_by_id(d, &students)
                .await?
                .into_iter()
                .map(Record::Student),
        );
        let guardians: Vec<GuardianId> = ids(Entity::Guardian)
            .iter()
            .filter_map(|g| g.parse().ok())
            .collect();
        held.extend(
            self.store
                .guardians_by_id(d, &guardians)
                .await?
                .into_values()
                .map(Record::Guardian),
        );
        let schools = self.store.schools_by_id(d, &ids(Entity::School)).await?;
        held.extend(schools.into_values().map(Record::School));
        let staff = self.store.staff_by_id(d, &ids(Entity::Staff)).await?;
        held.extend(staff.into_values().map(Record::Staff));
        let classrooms = self
            .store
            .classrooms_by_id(d, &ids(Entity::Classroom))
            .await?;
        held.extend(classrooms.into_values().map(Record::Classroom));
        // Links, contacts and enrollments are read by what they belong to (the first part
        // of their record id); only those the log names are kept.
        let owners = |entity: Entity| -> Vec<String> {
            ids(entity)
                .iter()
                .filter_map(|k| Some(k.split_once('/')?.0.to_owned()))
                .collect()
        };
        let linked: Vec<StudentId> = owners(Entity::Link)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        held.extend(
            self.store
                .links_of_students(d, &linked)
                .await?
                .into_iter()
                .map(Record::Link),
        );
        let of: Vec<SourceId> = owners(Entity::Contact).iter().map(SourceId::new).collect();
        held.extend(
            self.store
                .contacts_of_students(d, &of)
                .await?
                .into_iter()
                .map(|c| Record::Contact(c.value)),
        );
        let classes: Vec<SourceId> = owners(Entity::Enrollment)
            .iter()
            .map(SourceId::new)
            .collect();
        held.extend(
            self.store
                .enrollments_of_classrooms(d, &classes)
                .await?
                .into_iter()
                .map(Record::Enrollment),
        );
        let named: HashSet<RecordKey> = groups
            .iter()
            .map(|g| (g[0].entity, g[0].record_id.clone()))
            .collect();
        let out = held
            .into_iter()
            .map(Record::into_item)
            .map(|item| ((item.entity(), item.record_id()), item))
            .filter(|(key, _)| named.contains(key))
            .collect();
        Ok(out)
    }
}

/// Rows in log order, grouped by the record they are about (a record's rows are written
/// together, one plan item at a time).
fn grouped(rows: Vec<FieldChange>) -> Vec<Vec<FieldChange>> {
    let mut out: Vec<Vec<FieldChange>> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some(g) if g[0].entity == row.entity && g[0].record_id == row.record_id => g.push(row),
            _ => out.push(vec![row]),
        }
    }
    out
}

/// A record as the district holds it.
enum Record {
    Student(model::roster::Student),
    Guardian(model::roster::Guardian),
    School(model::roster::School),
    Staff(model::roster::Staff),
    Classroom(model::roster::Classroom),
    Link(model::link::Link),
    Contact(model::roster::Contact),
    Enrollment(model::roster::Enrollment),
}

impl Record {
    /// The record as a plan item the undo compares and changes (its operation and hash are
    /// the undo's to set).
    fn into_item(self) -> PlanItem {
        let (operation, source_hash, changes) = (Operation::Update, String::new(), Vec::new());
        match self {
            Record::Student(student) => PlanItem::Student {
                operation,
                student,
                source_hash,
                changes,
            },
            Record::Guardian(guardian) => PlanItem::Guardian {
                operation,
                guardian,
                source_hash,
                changes,
            },
            Record::School(school) => PlanItem::School {
                operation,
                school,
                source_hash,
                changes,
            },
            Record::Staff(staff) => PlanItem::Staff {
                operation,
                staff,
                source_hash,
                changes,
            },
            Record::Classroom(classroom) => PlanItem::Classroom {
                operation,
                classroom,
                source_hash,
                changes,
            },
            Record::Link(link) => PlanItem::Link {
                operation,
                link,
                changes,
            },
            Record::Contact(contact) => PlanItem::Contact {
                operation,
                contact,
                source_hash,
                changes,
            },
            Record::Enrollment(enrollment) => PlanItem::Enrollment {
                operation,
                enrollment,
                changes,
            },
        }
    }
}
