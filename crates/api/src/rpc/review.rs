//! An approver's exclusions, read from the request and checked before the engine sees
//! them: each names exactly one target, within the limits, with a reason of bounded size.

use engine::sync::ExclusionRequest;
use model::ids::StudentId;
use model::run::ExclusionTarget;
use model::{FieldError, ValidationErrors};
use proto::v1 as pb;
use tonic::Status;

use crate::convert::runs::{entity_from_proto, operation_from_proto};
use crate::status::invalid;

/// Exclusions one approval may carry.
const MAX_EXCLUSIONS: usize = 100;
/// Plan item numbers one approval may name, across its exclusions.
const MAX_ITEM_NUMBERS: usize = 10_000;
/// Characters of a reason.
const MAX_REASON: usize = 500;

/// The request's exclusions, or every problem with them.
pub(super) fn exclusions(given: Vec<pb::RunExclusion>) -> Result<Vec<ExclusionRequest>, Status> {
    let mut errors = ValidationErrors::new();
    if given.len() > MAX_EXCLUSIONS {
        errors.push(
            "exclusions",
            format!("{} exclusions; at most {MAX_EXCLUSIONS}", given.len()),
        );
        return Err(invalid(errors));
    }
    let numbers: usize = given
        .iter()
        .map(|x| match &x.target {
            Some(pb::run_exclusion::Target::Items(i)) => i.seqs.len(),
            _ => 0,
        })
        .sum();
    if numbers > MAX_ITEM_NUMBERS {
        errors.push(
            "exclusions",
            format!("{numbers} plan item numbers; at most {MAX_ITEM_NUMBERS}"),
        );
        return Err(invalid(errors));
    }
    let mut out = Vec::with_capacity(given.len());
    for (i, x) in given.into_iter().enumerate() {
        let path = format!("exclusions[{i}]");
        if !x.excluded_by.is_empty() || x.exclude_time.is_some() || x.excluded_items != 0 {
            errors.push(
                path.clone(),
                "excluded_by, exclude_time and excluded_items are the server's answer; leave them unset",
            );
        }
        if x.reason.chars().count() > MAX_REASON {
            errors.push(
                format!("{path}.reason"),
                format!("is longer than {MAX_REASON} characters"),
            );
        }
        match target(x.target) {
            Ok(target) => out.push(ExclusionRequest {
                target,
                reason: x.reason.trim().to_owned(),
            }),
            Err(e) => errors.0.push(e.under(&path)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(invalid(errors))
    }
}

fn target(given: Option<pb::run_exclusion::Target>) -> Result<ExclusionTarget, FieldError> {
    use pb::run_exclusion::Target;
    match given {
        None => Err(FieldError::new(
            "target",
            "name items, changes or student_id",
        )),
        Some(Target::Items(i)) if i.seqs.is_empty() => {
            Err(FieldError::new("items.seqs", "name at least one plan item"))
        }
        Some(Target::Items(i)) => {
            let mut seqs = i.seqs;
            seqs.sort_unstable();
            seqs.dedup();
            Ok(ExclusionTarget::Items { seqs })
        }
        Some(Target::Changes(c)) => {
            let entity = pb::Entity::try_from(c.entity).map_err(|_| {
                FieldError::new("changes.entity", format!("{} is not an Entity", c.entity))
            })?;
            let operation = pb::Operation::try_from(c.operation).map_err(|_| {
                FieldError::new(
                    "changes.operation",
                    format!("{} is not an Operation", c.operation),
                )
            })?;
            let (entity, operation) = (entity_from_proto(entity), operation_from_proto(operation));
            if entity.is_none() && operation.is_none() {
                return Err(FieldError::new(
                    "changes",
                    "give an entity, an operation or both",
                ));
            }
            Ok(ExclusionTarget::Changes { entity, operation })
        }
        Some(Target::StudentId(id)) => {
            let id: StudentId = id
                .trim()
                .parse()
                .map_err(|e: FieldError| FieldError::new("student_id", e.message))?;
            Ok(ExclusionTarget::Student { id })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(entity: pb::Entity, operation: pb::Operation) -> pb::RunExclusion {
        pb::RunExclusion {
            target: Some(pb::run_exclusion::Target::Changes(pb::ChangeKind {
                entity: entity as i32,
                operation: operation as i32,
            })),
            ..Default::default()
        }
    }

    #[test]
    fn each_exclusion_names_one_target_and_leaves_the_answer_fields_to_the_server() {
        let good = exclusions(vec![changes(pb::Entity::Link, pb::Operation::Delete)])
            .expect("a kind of change");
        assert_eq!(
            good[0].target,
            ExclusionTarget::Changes {
                entity: Some(model::change::Entity::Link),
                operation: Some(model::change::Operation::Delete),
            }
        );
        let answered = pb::RunExclusion {
            excluded_items: 3,
            ..changes(pb::Entity::Link, pb::Operation::Unspecified)
        };
        let refused = exclusions(vec![
            pb::RunExclusion::default(),
            changes(pb::Entity::Unspecified, pb::Operation::Unspecified),
            answered,
        ])
        .expect_err("three problems");
        let message = refused.message();
        for path in [
            "exclusions[0].target",
            "exclusions[1].changes",
            "exclusions[2]",
        ] {
            assert!(message.contains(path), "{path} in {message}");
        }
    }
}
