//! How a plan item is kept in `run_plan.item`: its JSON, with its field changes said
//! once. A creation or deletion whose changes are its record's fields (what
//! [`PlanItem::whole_record_changes`] derives) keeps `"c": "record"` and no changes at
//! all; otherwise each change is cut to what is its own — `[field, new]` when there was no
//! old value, `[field, old, new]` otherwise, under `"c"` — because the entity, the
//! operation and the record id every change repeated are the row's own columns. A change
//! that names another record or operation than its item keeps its whole form under
//! `"changes"`; rows written whole before this encoding read as they always did.

use model::change::{Entity, FieldChange, Operation};
use model::run::PlanItem;
use serde_json::Value;

/// `"c"`'s value for changes derived from the record.
const FROM_RECORD: &str = "record";

/// The item as stored.
pub(crate) fn encode(item: &PlanItem) -> String {
    let (entity, operation, record_id) = (item.entity(), item.operation(), item.record_id());
    let changes = item.changes();
    let own = changes
        .iter()
        .all(|c| c.entity == entity && c.operation == operation && c.record_id == record_id);
    let Ok(mut value) = serde_json::to_value(item) else {
        return String::new();
    };
    if own {
        if let Value::Object(map) = &mut value {
            map.remove("changes");
            let short = if item.whole_record_changes().as_deref() == Some(changes) {
                Value::String(FROM_RECORD.into())
            } else {
                Value::Array(changes.iter().map(short_change).collect())
            };
            map.insert("c".into(), short);
        }
    }
    value.to_string()
}

fn short_change(c: &FieldChange) -> Value {
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    match &c.old_value {
        None => Value::Array(vec![Value::String(c.field.clone()), text(&c.new_value)]),
        Some(_) => Value::Array(vec![
            Value::String(c.field.clone()),
            text(&c.old_value),
            text(&c.new_value),
        ]),
    }
}

/// The item a stored text holds, its short changes made whole with the row's entity,
/// operation and record id.
pub(crate) fn decode(
    text: &str,
    entity: Entity,
    operation: Operation,
    record_id: &str,
) -> Result<PlanItem, String> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let short = match &mut value {
        Value::Object(map) => {
            let short = map.remove("c");
            if short.is_some() {
                map.insert("changes".into(), Value::Array(Vec::new()));
            }
            short
        }
        _ => None,
    };
    let mut item: PlanItem = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let changes = match short {
        None => return Ok(item),
        Some(Value::String(s)) if s == FROM_RECORD => item
            .whole_record_changes()
            .ok_or_else(|| format!("a {} item cannot derive its changes", operation.as_str()))?,
        Some(Value::Array(short)) => short
            .into_iter()
            .map(|c| long_change(c, entity, operation, record_id))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("{other} is not a list of changes")),
    };
    *item.changes_mut() = changes;
    Ok(item)
}

fn long_change(
    c: Value,
    entity: Entity,
    operation: Operation,
    record_id: &str,
) -> Result<FieldChange, String> {
    let Value::Array(parts) = c else {
        return Err("a short change is not a list".into());
    };
    let text = |v: Value| -> Result<Option<String>, String> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(format!("{other} is not a field value")),
        }
    };
    let mut parts = parts.into_iter();
    let (field, old, new) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Value::String(f)), Some(new), None, None) => (f, None, text(new)?),
        (Some(Value::String(f)), Some(old), Some(new), None) => (f, text(old)?, text(new)?),
        _ => return Err("a short change is not [field, (old,) new]".into()),
    };
    Ok(FieldChange {
        entity,
        record_id: record_id.to_owned(),
        operation,
        field,
        old_value: old,
        new_value: new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::{SchoolId, SourceId};
    use model::roster::School;

    fn school_item(changes: Vec<FieldChange>) -> PlanItem {
        PlanItem::School {
            operation: Operation::Update,
            school: School {
                id: SchoolId::new(),
                source_id: SourceId::new("100"),
                name: "North High".into(),
                school_number: "100".into(),
                archived: false,
            },
            source_hash: "abc".into(),
            changes,
        }
    }

    fn change(item: &PlanItem, field: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            entity: item.entity(),
            record_id: item.record_id(),
            operation: item.operation(),
            field: field.into(),
            old_value: old.map(str::to_owned),
            new_value: new.map(str::to_owned),
        }
    }

    #[test]
    fn an_item_reads_back_as_written_and_its_changes_say_each_thing_once() {
        let mut item = school_item(vec![]);
        let changes = vec![
            change(&item, "name", Some("North"), Some("North High")),
            change(&item, "school_number", None, Some("100")),
            change(&item, "archived", Some("true"), None),
        ];
        if let PlanItem::School { changes: c, .. } = &mut item {
            *c = changes;
        }
        let stored = encode(&item);
        let whole = serde_json::to_string(&item).expect("json");
        assert!(stored.len() < whole.len(), "{stored}\n{whole}");
        assert_eq!(stored.matches(&item.record_id()).count(), 1, "{stored}");
        let back =
            decode(&stored, item.entity(), item.operation(), &item.record_id()).expect("decodes");
        assert_eq!(back, item);
        // A row written whole before reads as before.
        let old =
            decode(&whole, item.entity(), item.operation(), &item.record_id()).expect("decodes");
        assert_eq!(old, item);
    }

    #[test]
    fn a_change_of_another_record_keeps_its_whole_form() {
        let mut item = school_item(vec![]);
        let mut other = change(&item, "name", Some("a"), Some("b"));
        other.record_id = "someone-else".into();
        if let PlanItem::School { changes, .. } = &mut item {
            changes.push(other);
        }
        let stored = encode(&item);
        assert!(stored.contains("someone-else"));
        let back =
            decode(&stored, item.entity(), item.operation(), &item.record_id()).expect("decodes");
        assert_eq!(back, item);
    }

    #[test]
    fn a_creation_or_deletion_keeps_its_changes_as_its_record() {
        for operation in [Operation::Create, Operation::Delete] {
            let mut item = school_item(vec![]);
            if let PlanItem::School { operation: o, .. } = &mut item {
                *o = operation;
            }
            let derived = item
                .whole_record_changes()
                .expect("a whole-record operation");
            assert!(!derived.is_empty());
            *item.changes_mut() = derived;
            let stored = encode(&item);
            assert!(stored.contains(r#""c":"record""#), "{stored}");
            // Each value is in the stored text once: in the record.
            assert_eq!(stored.matches("North High").count(), 1, "{stored}");
            let back =
                decode(&stored, item.entity(), operation, &item.record_id()).expect("decodes");
            assert_eq!(back, item);
        }
    }

    #[test]
    fn a_creation_whose_changes_are_not_its_records_keeps_them() {
        let mut item = school_item(vec![]);
        if let PlanItem::School { operation, .. } = &mut item {
            *operation = Operation::Create;
        }
        let mut changes = item.whole_record_changes().expect("a creation");
        changes.pop();
        *item.changes_mut() = changes;
        let stored = encode(&item);
        assert!(!stored.contains(r#""c":"record""#), "{stored}");
        let back =
            decode(&stored, item.entity(), Operation::Create, &item.record_id()).expect("decodes");
        assert_eq!(back, item);
        // An update's changes need the record as it was: it cannot say they are its record.
        let update = school_item(vec![]);
        let mut value: Value = serde_json::from_str(&encode(&update)).expect("json");
        value["c"] = Value::String(FROM_RECORD.into());
        let refused = decode(
            &value.to_string(),
            update.entity(),
            Operation::Update,
            &update.record_id(),
        );
        assert!(refused.is_err(), "{refused:?}");
    }
}
