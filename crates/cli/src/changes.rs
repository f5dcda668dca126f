//! A run's changes as the CLI prints them, and the changes an approval keeps out as the
//! CLI reads them.

use proto::v1 as pb;

use crate::sync::{entity_name, enum_value, operation_name, tier_name};

/// An `--exclude` as the API takes it: item numbers, `entity.operation` (either may be
/// `*`) or `student:<id>`.
pub fn exclusion(given: &str, reason: &str) -> anyhow::Result<pb::RunExclusion> {
    use pb::run_exclusion::Target;
    let given = given.trim();
    let target = if let Some(id) = given.strip_prefix("student:") {
        Target::StudentId(id.trim().to_owned())
    } else if let Some((entity, operation)) = given.split_once('.') {
        let star = |v: &str| {
            if v == "*" {
                String::new()
            } else {
                v.to_owned()
            }
        };
        let entity = enum_value("ENTITY_", &star(entity), pb::Entity::from_str_name)
            .map_err(|v| anyhow::anyhow!("--exclude {given:?}: {v:?} is not one of school, student, guardian, contact, link, staff, classroom, enrollment or *"))?;
        let operation = enum_value("OPERATION_", &star(operation), pb::Operation::from_str_name)
            .map_err(|v| anyhow::anyhow!("--exclude {given:?}: {v:?} is not one of create, update, archive, unarchive, delete or *"))?;
        Target::Changes(pb::ChangeKind {
            entity: entity as i32,
            operation: operation as i32,
        })
    } else {
        let seqs = given
            .split(',')
            .map(|n| n.trim().trim_start_matches('#').parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| anyhow::anyhow!("--exclude {given:?} is not item numbers (12,40), a kind of change (link.delete) or student:<id>"))?;
        Target::Items(pb::PlanItemNumbers { seqs })
    };
    Ok(pb::RunExclusion {
        target: Some(target),
        reason: reason.to_owned(),
        ..Default::default()
    })
}

/// Prints run changes as text, or as CSV (RFC 4180, one row per field change) with a
/// header.
pub struct ChangePrinter {
    csv: Option<csv::Writer<std::io::Stdout>>,
}

impl ChangePrinter {
    pub fn new(csv: bool) -> anyhow::Result<Self> {
        let csv = if csv {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "seq",
                "entity",
                "operation",
                "record_id",
                "source_id",
                "field",
                "old_value",
                "new_value",
                "tier",
                "rule_id",
            ])?;
            Some(w)
        } else {
            None
        };
        Ok(ChangePrinter { csv })
    }

    pub fn print(&mut self, c: &pb::RunChange) -> anyhow::Result<()> {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        let (entity, operation, tier) = (
            entity_name(c.entity),
            operation_name(c.operation),
            tier_name(c.tier),
        );
        if let Some(w) = &mut self.csv {
            let seq = c.seq.to_string();
            let row = |field: &str, old: &str, new: &str| {
                [
                    seq.clone(),
                    entity.clone(),
                    operation.clone(),
                    c.record_id.clone(),
                    c.source_id.clone(),
                    field.to_owned(),
                    old.to_owned(),
                    new.to_owned(),
                    tier.clone(),
                    c.rule_id.clone(),
                ]
            };
            if c.fields.is_empty() {
                w.write_record(row("", "", ""))?;
            }
            for f in &c.fields {
                w.write_record(row(&f.field, &value(&f.old_value), &value(&f.new_value)))?;
            }
            return Ok(());
        }
        let subject = if c.source_id.is_empty() {
            c.record_id.clone()
        } else {
            format!("{} (source {})", c.record_id, c.source_id)
        };
        let rule = if c.rule_id.is_empty() {
            String::new()
        } else {
            format!("  [{tier} {}]", c.rule_id)
        };
        let excluded = match &c.excluded {
            None => String::new(),
            Some(x) if x.depends_on > 0 => format!("  (excluded with #{})", x.depends_on),
            Some(x) if x.reason.is_empty() => format!("  (excluded by {})", x.excluded_by),
            Some(x) => format!("  (excluded by {}: {})", x.excluded_by, x.reason),
        };
        println!("#{} {operation} {entity} {subject}{rule}{excluded}", c.seq);
        for f in &c.fields {
            println!(
                "    {}: {:?} → {:?}",
                f.field,
                value(&f.old_value),
                value(&f.new_value)
            );
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<()> {
        if let Some(mut w) = self.csv {
            w.flush()?;
        }
        Ok(())
    }
}
