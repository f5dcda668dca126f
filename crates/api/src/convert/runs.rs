//! Sync runs and their plans.

use model::change::{Entity, Operation};
use model::run::{
    Exclusion, ExclusionTarget, PlanEntry, PlanItem, RunMode, RunPhase, RunState, RunTrigger,
    SyncRun,
};
use proto::v1 as pb;

use super::roster::{origin_to_proto, tier_to_proto};
use super::time;

pub fn run_to_proto(r: &SyncRun) -> pb::SyncRun {
    let SyncRun {
        id,
        district_id,
        mode,
        trigger,
        state,
        phase,
        error,
        counts,
        trips,
        warnings,
        created_at,
        started_at,
        finished_at,
        approved_at,
        request_id,
        phases,
        by,
        exclusions,
        revert,
    } = r;
    let phase_of = |phase: &RunPhase| -> i32 {
        let p = match phase {
            RunPhase::Pulling => pb::RunPhase::Pulling,
            RunPhase::Checking => pb::RunPhase::Checking,
            RunPhase::Applying => pb::RunPhase::Applying,
            RunPhase::Done => pb::RunPhase::Done,
        };
        p as i32
    };
    pb::SyncRun {
        run_id: id.to_string(),
        district_id: district_id.to_string(),
        mode: mode_to_proto(*mode) as i32,
        trigger: trigger_to_proto(*trigger) as i32,
        state: match state {
            RunState::Running => pb::RunState::Running,
            RunState::Paused => pb::RunState::Paused,
            RunState::Succeeded => pb::RunState::Succeeded,
            RunState::Failed => pb::RunState::Failed,
            RunState::Cancelled => pb::RunState::Cancelled,
            RunState::Cancelling => pb::RunState::Cancelling,
        } as i32,
        phase: phase_of(phase),
        error: error.clone().unwrap_or_default(),
        fetched: counts.fetched.clone(),
        planned: counts.planned.clone(),
        planned_by_school: counts.planned_by_school.clone(),
        plan_items: counts.plan_items,
        applied: counts.applied,
        warning_count: counts.warnings,
        warnings: warnings.clone(),
        trips: trips.iter().map(trip_to_proto).collect(),
        create_time: time(*created_at),
        start_time: started_at.and_then(time),
        finish_time: finished_at.and_then(time),
        approve_time: approved_at.and_then(time),
        request_id: request_id.clone().unwrap_or_default(),
        phases: phases
            .iter()
            .map(|m| pb::PhaseStart {
                phase: phase_of(&m.phase),
                start_time: time(m.at),
            })
            .collect(),
        started_by: by.started.clone(),
        approved_by: by.approved.clone(),
        cancelled_by: by.cancelled.clone(),
        exclusions: exclusions.iter().map(exclusion_to_proto).collect(),
        excluded: counts.excluded,
        revert: revert.as_ref().map(|r| pb::RunRevert {
            run_id: r.run.to_string(),
            force: r.force,
            left_fields: r.left,
        }),
    }
}

/// An approver's exclusion as the run shows it.
pub fn exclusion_to_proto(x: &Exclusion) -> pb::RunExclusion {
    use pb::run_exclusion::Target;
    let target = match &x.target {
        ExclusionTarget::Items { seqs } => {
            Target::Items(pb::PlanItemNumbers { seqs: seqs.clone() })
        }
        ExclusionTarget::Changes { entity, operation } => Target::Changes(pb::ChangeKind {
            entity: entity.map_or(pb::Entity::Unspecified, entity_to_proto) as i32,
            operation: operation.map_or(pb::Operation::Unspecified, operation_to_proto) as i32,
        }),
        ExclusionTarget::Student { id } => Target::StudentId(id.to_string()),
    };
    pb::RunExclusion {
        target: Some(target),
        reason: x.reason.clone(),
        excluded_by: x.by.clone(),
        exclude_time: time(x.at),
        excluded_items: x.items,
    }
}

/// A plan item as ListRunChanges shows it, with why the approver kept it out, if they did.
pub fn entry_to_proto(e: &PlanEntry, run: &SyncRun) -> pb::RunChange {
    let mut change = change_to_proto(e.seq, &e.item);
    change.excluded = e.excluded.map(|x| {
        let exclusion = run.exclusions.get(x.exclusion as usize);
        pb::ChangeExclusion {
            exclusion: x.exclusion,
            excluded_by: exclusion.map(|e| e.by.clone()).unwrap_or_default(),
            reason: exclusion.map(|e| e.reason.clone()).unwrap_or_default(),
            depends_on: x.via.unwrap_or(0),
        }
    });
    change
}

/// A change-log row at its place in the district's feed; `cursor` is its opaque place.
pub fn feed_change_to_proto(record: &model::change::ChangeRecord, cursor: String) -> pb::Change {
    let c = &record.change;
    pb::Change {
        cursor,
        entity: entity_to_proto(c.entity) as i32,
        operation: operation_to_proto(c.operation) as i32,
        record_id: c.record_id.clone(),
        field: c.field.clone(),
        old_value: c.old_value.clone(),
        new_value: c.new_value.clone(),
        made_by: Some(match record.source {
            model::change::ChangeSource::Run(id) => pb::change::MadeBy::RunId(id.to_string()),
            model::change::ChangeSource::SpotSync(id) => {
                pb::change::MadeBy::SpotSyncId(id.to_string())
            }
        }),
        change_time: time(record.at),
    }
}

type Extras = (
    String,
    pb::LinkOrigin,
    pb::AccessTier,
    String,
    std::collections::BTreeMap<String, String>,
);

/// The extras of a record that is not a link: its source id only.
fn plain(source_id: String) -> Extras {
    (
        source_id,
        pb::LinkOrigin::Unspecified,
        pb::AccessTier::Unspecified,
        String::new(),
        Default::default(),
    )
}

pub fn entity_to_proto(e: Entity) -> pb::Entity {
    match e {
        Entity::School => pb::Entity::School,
        Entity::Student => pb::Entity::Student,
        Entity::Guardian => pb::Entity::Guardian,
        Entity::Contact => pb::Entity::Contact,
        Entity::Link => pb::Entity::Link,
        Entity::Staff => pb::Entity::Staff,
        Entity::Classroom => pb::Entity::Classroom,
        Entity::Enrollment => pb::Entity::Enrollment,
    }
}

/// A filter's entity: `None` for all (unspecified), or the value a caller gave.
pub fn entity_from_proto(e: pb::Entity) -> Option<Entity> {
    match e {
        pb::Entity::Unspecified => None,
        pb::Entity::School => Some(Entity::School),
        pb::Entity::Student => Some(Entity::Student),
        pb::Entity::Guardian => Some(Entity::Guardian),
        pb::Entity::Contact => Some(Entity::Contact),
        pb::Entity::Link => Some(Entity::Link),
        pb::Entity::Staff => Some(Entity::Staff),
        pb::Entity::Classroom => Some(Entity::Classroom),
        pb::Entity::Enrollment => Some(Entity::Enrollment),
    }
}

pub fn operation_to_proto(o: Operation) -> pb::Operation {
    match o {
        Operation::Create => pb::Operation::Create,
        Operation::Update => pb::Operation::Update,
        Operation::Archive => pb::Operation::Archive,
        Operation::Unarchive => pb::Operation::Unarchive,
        Operation::Delete => pb::Operation::Delete,
    }
}

/// A filter's operation: `None` for all (unspecified), or the value a caller gave.
pub fn operation_from_proto(o: pb::Operation) -> Option<Operation> {
    match o {
        pb::Operation::Unspecified => None,
        pb::Operation::Create => Some(Operation::Create),
        pb::Operation::Update => Some(Operation::Update),
        pb::Operation::Archive => Some(Operation::Archive),
        pb::Operation::Unarchive => Some(Operation::Unarchive),
        pb::Operation::Delete => Some(Operation::Delete),
    }
}

pub fn change_to_proto(seq: u64, item: &PlanItem) -> pb::RunChange {
    let (source_id, origin, tier, rule, facts) = match item {
        PlanItem::Student { student, .. } => plain(student.source_id.to_string()),
        PlanItem::Guardian { guardian, .. } => plain(
            guardian
                .source_id
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
        PlanItem::Link { link, .. } => (
            String::new(),
            origin_to_proto(link.origin),
            tier_to_proto(link.tier),
            link.decision.rule.to_string(),
            link.decision.facts.clone(),
        ),
        PlanItem::School { school, .. } => plain(school.source_id.to_string()),
        PlanItem::Contact { contact, .. } => plain(contact.source_id.to_string()),
        PlanItem::Staff { staff, .. } => plain(staff.source_id.to_string()),
        PlanItem::Classroom { classroom, .. } => plain(classroom.source_id.to_string()),
        PlanItem::Enrollment { enrollment, .. } => plain(enrollment.person_source_id.to_string()),
    };
    pb::RunChange {
        seq,
        entity: entity_to_proto(item.entity()) as i32,
        operation: operation_to_proto(item.operation()) as i32,
        record_id: item.record_id(),
        source_id,
        fields: item
            .changes()
            .iter()
            .map(|c| pb::FieldValueChange {
                field: c.field.clone(),
                old_value: c.old_value.clone(),
                new_value: c.new_value.clone(),
            })
            .collect(),
        origin: origin as i32,
        tier: tier as i32,
        rule_id: rule,
        facts,
        excluded: None,
    }
}

pub fn mode_to_proto(mode: RunMode) -> pb::RunMode {
    match mode {
        RunMode::Full => pb::RunMode::Full,
        RunMode::DryRun => pb::RunMode::DryRun,
    }
}

pub fn trigger_to_proto(trigger: RunTrigger) -> pb::RunTrigger {
    match trigger {
        RunTrigger::Manual => pb::RunTrigger::Manual,
        RunTrigger::Schedule => pb::RunTrigger::Schedule,
        RunTrigger::Import => pb::RunTrigger::Import,
        RunTrigger::Revert => pb::RunTrigger::Revert,
    }
}

pub fn trip_to_proto(t: &model::run::ThresholdTrip) -> pb::ThresholdTrip {
    pb::ThresholdTrip {
        limit: t.limit.clone(),
        count: t.count,
        of: t.of,
        max_percent: t.max_percent,
        max_count: t.max_count,
    }
}
