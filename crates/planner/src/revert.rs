//! Undoing a run, one record at a time: from what the change log kept of the run's
//! changes to a record and the record as it is now, the change that puts it back — or the
//! fields left as they are because a later change moved them again (unless forced).
//!
//! - a record the run created is deleted, if it is still as the run made it;
//! - a link, contact or enrollment the run deleted is made again from its logged fields;
//! - a field the run changed (an update, an archive, an unarchive) is set back to what it
//!   was, if it still holds what the run set.
//!
//! Records put back carry no source hash, so the district's next run compares them field
//! by field with its source.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use model::change::{Entity, FieldChange, Operation};
use model::run::PlanItem;

use crate::{Phase, Planned};

/// Fields that name a record rather than describe it: they never change for one record id.
const IDENTITY: [&str; 2] = ["source_id", "student_source_id"];

/// A field the undo leaves as it is: a later change moved it since the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub entity: Entity,
    pub record_id: String,
    /// The field, or `*` for the whole record (one the run created, changed since; one it
    /// deleted, made again since).
    pub field: String,
    /// What it holds now (`None`: the record is gone).
    pub now: Option<String>,
    /// What the run had set it to.
    pub run_set: Option<String>,
    /// What putting it back would set.
    pub before: Option<String>,
}

impl Left {
    /// The field in words, for the run's warnings.
    pub fn describe(&self) -> String {
        let shown = |v: &Option<String>| {
            v.as_deref()
                .map_or("(none)".to_owned(), |v| format!("{v:?}"))
        };
        format!(
            "left {} {} {}: it holds {} since a later change (this run had set {}; forcing puts back {})",
            self.entity.as_str(),
            self.record_id,
            self.field,
            shown(&self.now),
            shown(&self.run_set),
            shown(&self.before)
        )
    }
}

/// What undoing one record's changes plans, and what it leaves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Undo {
    pub item: Option<Planned>,
    pub left: Vec<Left>,
}

/// A field's value before the run and after it (`None`: the record did not have it).
type Span = (Option<String>, Option<String>);

/// Each field's value before the run and after it, from the run's rows of one record
/// (a field the run changed twice: its first old value and its last new one). A `*` row
/// stands for every field of its JSON object.
fn before_and_after(logged: &[FieldChange]) -> Result<BTreeMap<String, Span>, String> {
    let mut out: BTreeMap<String, Span> = BTreeMap::new();
    let whole = |v: &Option<String>| -> Result<BTreeMap<String, String>, String> {
        match v {
            None => Ok(BTreeMap::new()),
            Some(json) => serde_json::from_str(json).map_err(|e| format!("a logged record: {e}")),
        }
    };
    for row in logged {
        let pairs: Vec<(String, Option<String>, Option<String>)> = if row.field == "*" {
            let (old, new) = (whole(&row.old_value)?, whole(&row.new_value)?);
            let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
            fields.sort();
            fields.dedup();
            fields
                .into_iter()
                .map(|f| (f.clone(), old.get(f).cloned(), new.get(f).cloned()))
                .collect()
        } else {
            vec![(
                row.field.clone(),
                row.old_value.clone(),
                row.new_value.clone(),
            )]
        };
        for (field, old, new) in pairs {
            out.entry(field)
                .and_modify(|e| e.1 = new.clone())
                .or_insert((old, new));
        }
    }
    Ok(out)
}

/// Undoes a run's changes to one record. `logged` are the run's change-log rows of the
/// record, in order; `current` the record as it is now (as an item of any operation), if
/// the district still holds it; `force` puts back fields later changes moved.
pub fn undo(
    logged: &[FieldChange],
    current: Option<PlanItem>,
    force: bool,
    at: DateTime<Utc>,
) -> Result<Undo, String> {
    let Some(first) = logged.first() else {
        return Ok(Undo::default());
    };
    let record = Logged {
        entity: first.entity,
        record_id: first.record_id.clone(),
        fields: before_and_after(logged)?,
        created: logged.iter().any(|r| r.operation == Operation::Create),
        deleted: logged.last().map(|r| r.operation) == Some(Operation::Delete),
    };
    match current {
        None => record.gone(at),
        Some(item) if record.created => Ok(record.delete_creation(item, force)),
        Some(_) if record.deleted && !force => Ok(Undo {
            // Made again since the run deleted it: left as it is now.
            item: None,
            left: vec![record.left("*", Some("present".into()), &None, &Some("present".into()))],
        }),
        Some(item) => record.put_fields_back(item, force, at),
    }
}

/// What the log says the run did to one record.
struct Logged {
    entity: Entity,
    record_id: String,
    fields: BTreeMap<String, Span>,
    created: bool,
    deleted: bool,
}

impl Logged {
    fn left(
        &self,
        field: &str,
        now: Option<String>,
        run_set: &Option<String>,
        before: &Option<String>,
    ) -> Left {
        Left {
            entity: self.entity,
            record_id: self.record_id.clone(),
            field: field.to_owned(),
            now,
            run_set: run_set.clone(),
            before: before.clone(),
        }
    }

    /// The district no longer holds the record: one the run deleted is made again from its
    /// logged fields; one gone since has its fields named (nothing to put back).
    fn gone(&self, at: DateTime<Utc>) -> Result<Undo, String> {
        if self.deleted && !self.created {
            let old: Vec<(String, String)> = self
                .fields
                .iter()
                .filter_map(|(f, (before, _))| Some((f.clone(), before.clone()?)))
                .collect();
            let mut item =
                model::assign::remade(self.entity, &self.record_id, &old, Operation::Create, at)?;
            let listed = item.whole_record_changes().unwrap_or_default();
            *item.changes_mut() = listed;
            return Ok(Undo {
                item: Some(planned(item)),
                left: Vec::new(),
            });
        }
        // Created and deleted by the same run: nothing was left of it to put back.
        let left = if self.created {
            Vec::new()
        } else {
            self.fields
                .iter()
                .filter(|(_, (_, after))| after.is_some())
                .map(|(f, (before, after))| self.left(f, None, after, before))
                .collect()
        };
        Ok(Undo { item: None, left })
    }

    /// A record the run created is deleted again if it is still as the run made it: every
    /// field it has now (a creation logs its non-empty fields) holds what the run set. A
    /// contact's keys are in its record id; logs older than their listing as fields leave
    /// them out.
    fn delete_creation(&self, mut item: PlanItem, force: bool) -> Undo {
        let now: BTreeMap<&str, String> = item.record_fields().into_iter().collect();
        let moved: Vec<Left> = now
            .iter()
            .filter(|(f, _)| self.fields.contains_key(**f) || !IDENTITY.contains(f))
            .filter_map(|(f, holds)| {
                let (before, after) = self.fields.get(*f).cloned().unwrap_or_default();
                (*holds != after.clone().unwrap_or_default())
                    .then(|| self.left(f, Some(holds.clone()), &after, &before))
            })
            .collect();
        if !moved.is_empty() && !force {
            return Undo {
                item: None,
                left: moved,
            };
        }
        *item.operation_mut() = Operation::Delete;
        let listed = item.whole_record_changes().unwrap_or_default();
        *item.changes_mut() = listed;
        blank_hash(&mut item);
        Undo {
            item: Some(planned(item)),
            left: Vec::new(),
        }
    }

    /// Each field the run changed goes back to what it was, if it still holds what the run
    /// set (or `force`); an archive the run made is lifted, an unarchive undone.
    fn put_fields_back(
        &self,
        mut item: PlanItem,
        force: bool,
        at: DateTime<Utc>,
    ) -> Result<Undo, String> {
        let old_fields = item.record_fields();
        let now: BTreeMap<&str, String> = old_fields.iter().cloned().collect();
        let mut kept = Vec::new();
        for (field, (before, after)) in &self.fields {
            let holds = now.get(field.as_str()).cloned().unwrap_or_default();
            if holds != after.clone().unwrap_or_default() && !force {
                kept.push(self.left(field, Some(holds), after, before));
                continue;
            }
            item.set_field(field, before.as_deref().unwrap_or_default())?;
        }
        let new_fields = item.record_fields();
        let operation = match (archived(&old_fields), archived(&new_fields)) {
            (Some("false"), Some("true")) => Operation::Archive,
            (Some("true"), Some("false")) => Operation::Unarchive,
            _ => Operation::Update,
        };
        let changes = model::fields::changes(
            self.entity,
            &self.record_id,
            operation,
            Some(&old_fields),
            &new_fields,
        );
        if changes.is_empty() {
            return Ok(Undo {
                item: None,
                left: kept,
            });
        }
        *item.operation_mut() = operation;
        *item.changes_mut() = changes;
        blank_hash(&mut item);
        if let PlanItem::Link { link, .. } = &mut item {
            link.updated_at = at;
        }
        Ok(Undo {
            item: Some(planned(item)),
            left: kept,
        })
    }
}

/// A record's `archived` field, if it has one.
fn archived(fields: &model::fields::Fields) -> Option<&str> {
    fields
        .iter()
        .find(|(n, _)| *n == "archived")
        .map(|(_, v)| v.as_str())
}

/// An undo's item in the phase it applies in: a deletion of a school, staff member,
/// classroom, student or guardian last, after what refers to it.
fn planned(item: PlanItem) -> Planned {
    let mut p = Planned::new(item);
    if p.item.operation() == Operation::Delete
        && !matches!(
            p.item.entity(),
            Entity::Link | Entity::Contact | Entity::Enrollment
        )
    {
        p.phase = Phase::Archives;
    }
    p
}

/// A record put back carries no source hash: the next run compares it with its source.
fn blank_hash(item: &mut PlanItem) {
    match item {
        PlanItem::Student { source_hash, .. }
        | PlanItem::Guardian { source_hash, .. }
        | PlanItem::School { source_hash, .. }
        | PlanItem::Contact { source_hash, .. }
        | PlanItem::Staff { source_hash, .. }
        | PlanItem::Classroom { source_hash, .. } => source_hash.clear(),
        PlanItem::Link { .. } | PlanItem::Enrollment { .. } => {}
    }
}
