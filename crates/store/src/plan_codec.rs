//! How a plan item is kept in `run_plan.item`: its JSON, with each field change cut to
//! what is its own — `[field, new]` when there was no old value, `[field, old, new]`
//! otherwise, under `"c"` — because the entity, the operation and the record id every
//! change repeated are the row's own columns. A change that names another record or
//! operation than its item keeps its whole form under `"changes"`; rows written whole
//! before this encoding read as they always did.

use model::change::{Entity, FieldChange, Operation};
use model::run::PlanItem;
use serde_json::Value;

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
            let short: Vec<Value> = changes
                .iter()
                .map(|c| {
                    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
                    match &c.old_value {
                        None => {
                            Value::Array(vec![Value::String(c.field.clone()), text(&c.new_value)])
                        }
                        Some(_) => Value::Array(vec![
                            Value::String(c.field.clone()),
                            text(&c.old_value),
                            text(&c.new_value),
                        ]),
                    }
                })
                .collect();
            map.insert("c".into(), Value::Array(short));
        }
    }
    value.to_string()
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
    if let Value::Object(map) = &mut value {
        if let Some(Value::Array(short)) = map.remove("c") {
            let mut changes = Vec::with_capacity(short.len());
            for c in short {
                let Value::Array(parts) = c else {
                    return Err("a short change is not a list".into());
                };
                let text = |v: &Value| -> Result<Option<String>, String> {
                    match v {
                        Value::Null => Ok(None),
                        Value::String(s) => Ok(Some(s.clone())),
                        other => Err(format!("{other} is not a field value")),
                    }
                };
                let (field, old, new) = match parts.as_slice() {
                    [Value::String(f), new] => (f.clone(), None, text(new)?),
                    [Value::String(f), old, new] => (f.clone(), text(old)?, text(new)?),
                    _ => return Err("a short change is not [field, (old,) new]".into()),
                };
                changes.push(
                    serde_json::to_value(FieldChange {
                        entity,
                        record_id: record_id.to_owned(),
                        operation,
                        field,
                        old_value: old,
                        new_value: new,
                    })
                    .map_err(|e| e.to_string())?,
                );
            }
            map.insert("changes".into(), Value::Array(changes));
        }
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
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
}
