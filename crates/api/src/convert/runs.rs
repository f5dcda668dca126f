//! Sync runs and their plans.

use model::run::{PlanItem, RunMode, RunPhase, RunState, RunTrigger, SyncRun};
use proto::v1 as pb;

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
    } = r;
    pb::SyncRun {
        run_id: id.to_string(),
        district_id: district_id.to_string(),
        mode: match mode {
            RunMode::Full => pb::RunMode::Full,
            RunMode::DryRun => pb::RunMode::DryRun,
        } as i32,
        trigger: match trigger {
            RunTrigger::Manual => "manual",
            RunTrigger::Schedule => "schedule",
        }
        .to_owned(),
        state: match state {
            RunState::Running => pb::RunState::Running,
            RunState::Paused => pb::RunState::Paused,
            RunState::Succeeded => pb::RunState::Succeeded,
            RunState::Failed => pb::RunState::Failed,
            RunState::Cancelled => pb::RunState::Cancelled,
            RunState::Cancelling => pb::RunState::Cancelling,
        } as i32,
        phase: match phase {
            RunPhase::Pulling => pb::RunPhase::Pulling,
            RunPhase::Checking => pb::RunPhase::Checking,
            RunPhase::Applying => pb::RunPhase::Applying,
            RunPhase::Done => pb::RunPhase::Done,
        } as i32,
        error: error.clone().unwrap_or_default(),
        fetched: counts.fetched.clone(),
        planned: counts.planned.clone(),
        planned_by_school: counts.planned_by_school.clone(),
        plan_items: counts.plan_items,
        applied: counts.applied,
        warning_count: counts.warnings,
        warnings: warnings.clone(),
        trips: trips
            .iter()
            .map(|t| pb::ThresholdTrip {
                limit: t.limit.clone(),
                count: t.count,
                of: t.of,
                max_percent: t.max_percent,
                max_count: t.max_count,
            })
            .collect(),
        create_time: time(*created_at),
        start_time: started_at.and_then(time),
        finish_time: finished_at.and_then(time),
        approve_time: approved_at.and_then(time),
        request_id: request_id.clone().unwrap_or_default(),
    }
}

type Extras = (
    String,
    &'static str,
    &'static str,
    String,
    std::collections::BTreeMap<String, String>,
);

/// The extras of a record that is not a link: its source id only.
fn plain(source_id: String) -> Extras {
    (source_id, "", "", String::new(), Default::default())
}

pub fn change_to_proto(seq: u64, item: &PlanItem) -> pb::RunChange {
    let (source_id, origin, tier, rule, facts) = match item {
        PlanItem::Student { student, .. } => (
            student.source_id.to_string(),
            "",
            "",
            String::new(),
            Default::default(),
        ),
        PlanItem::Guardian { guardian, .. } => (
            guardian
                .source_id
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            "",
            "",
            String::new(),
            Default::default(),
        ),
        PlanItem::Link { link, .. } => (
            String::new(),
            link.origin.as_str(),
            link.tier.as_str(),
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
        entity: item.entity().as_str().to_owned(),
        operation: item.operation().as_str().to_owned(),
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
        origin: origin.to_owned(),
        tier: tier.to_owned(),
        rule,
        facts,
    }
}
