//! Sync runs and their plans: what a run is doing, what it intends to change, and what it
//! changed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::change::{Entity, FieldChange, Operation};
use crate::ids::{DistrictId, RunId, StudentId};
use crate::link::Link;
use crate::roster::{Classroom, Contact, Enrollment, Guardian, School, Staff, Student};

/// A full run writes; a dry run stops at the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    Full,
    DryRun,
}

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    Manual,
    Schedule,
    /// A district's `guardians.csv`, through the API, the CLI or its drop folder.
    Import,
    /// An undo of an earlier run (RevertSyncRun).
    Revert,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    /// Stopped before writing: its plan went over a threshold; approve or cancel it.
    Paused,
    /// Someone asked a running run to stop; the replica working it stops at its next
    /// page and records what it had applied.
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunState {
    /// Whether the run can change no more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunState::Succeeded | RunState::Failed | RunState::Cancelled
        )
    }

    /// The state's name, as stored and as messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Cancelling => "cancelling",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
}

/// The step a run is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    Pulling,
    Checking,
    Applying,
    Done,
}

/// When a run entered a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhaseMark {
    pub phase: RunPhase,
    pub at: DateTime<Utc>,
}

/// Counts of a run, as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunCounts {
    /// Records received from the source, by kind (`students`, `contacts`, …).
    pub fetched: BTreeMap<String, u64>,
    /// Planned changes by `entity.operation` (`student.create`, `link.delete`, …).
    pub planned: BTreeMap<String, u64>,
    /// Planned student and link changes per school and kind, keyed
    /// `<school source id>/<entity>.<operation>`, for the summary.
    pub planned_by_school: BTreeMap<String, u64>,
    /// Plan items applied so far.
    pub applied: u64,
    /// Plan items in all.
    pub plan_items: u64,
    /// Plan items a reviewer kept out when approving (their dependents included).
    #[serde(default)]
    pub excluded: u64,
    pub warnings: u64,
    /// What the district's data looked like when a paused plan was made; approving checks
    /// it has not moved.
    #[serde(default)]
    pub fingerprint: String,
}

/// A threshold the plan went over (seed 003).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThresholdTrip {
    /// `students_archived`, `guardians_archived`, `links_removed`, `links_downgraded`.
    pub limit: String,
    /// How many the plan would do.
    pub count: u64,
    /// Out of how many held before the run.
    pub of: u64,
    pub max_percent: Option<f64>,
    pub max_count: Option<u64>,
}

/// One sync run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncRun {
    pub id: RunId,
    pub district_id: DistrictId,
    pub mode: RunMode,
    pub trigger: RunTrigger,
    pub state: RunState,
    pub phase: RunPhase,
    /// Why it failed, in words.
    pub error: Option<String>,
    pub counts: RunCounts,
    pub trips: Vec<ThresholdTrip>,
    /// Warnings of the pull (at most the first hundred kept).
    pub warnings: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When someone approved the paused plan; an approved plan is applied to its end.
    #[serde(default)]
    pub approved_at: Option<DateTime<Utc>>,
    /// The caller's id of the request that started the run: a retry with the same id
    /// gets this run back instead of starting another.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Every phase the run entered, in order, with when: a watcher that was away sees
    /// each phase change it missed.
    #[serde(default)]
    pub phases: Vec<PhaseMark>,
    /// Who started, approved and cancelled the run.
    #[serde(default)]
    pub by: RunActors,
    /// What the approver kept out of the plan, in the order given.
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    /// For an undo: the run it puts back, and how.
    #[serde(default)]
    pub revert: Option<Revert>,
}

/// What an undo run puts back: every field, link and archive `run` changed, from the
/// change log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revert {
    /// The run undone.
    pub run: RunId,
    /// Put back fields a later change moved too (otherwise they are left and listed).
    pub force: bool,
    /// Fields left as they are because a later change moved them.
    #[serde(default)]
    pub left: u64,
}

/// Who moved a run (a caller's key name, `anonymous`, `schedule`, `drop-folder`); empty
/// where nobody did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunActors {
    #[serde(default)]
    pub started: String,
    #[serde(default)]
    pub approved: String,
    #[serde(default)]
    pub cancelled: String,
}

/// Which plan items of a held run a reviewer keeps out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ExclusionTarget {
    /// These plan items, by number.
    Items { seqs: Vec<u64> },
    /// Every change of this kind of record and/or doing this (at least one given).
    Changes {
        entity: Option<Entity>,
        operation: Option<Operation>,
    },
    /// Every change to this student: the record, its source contacts, its links and its
    /// classroom enrollments.
    Student { id: StudentId },
}

impl ExclusionTarget {
    /// The target in words, as the audit trail and the CLI show it.
    pub fn describe(&self) -> String {
        match self {
            ExclusionTarget::Items { seqs } => {
                let shown: Vec<String> = seqs.iter().take(20).map(u64::to_string).collect();
                let more = seqs.len().saturating_sub(shown.len());
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("items {}{tail}", shown.join(","))
            }
            ExclusionTarget::Changes { entity, operation } => format!(
                "changes {}.{}",
                entity.map_or("*", |e| e.as_str()),
                operation.map_or("*", |o| o.as_str())
            ),
            ExclusionTarget::Student { id } => format!("student {id}"),
        }
    }
}

/// One exclusion a reviewer made when approving a held run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exclusion {
    pub target: ExclusionTarget,
    /// Why, in the reviewer's words (may be empty).
    #[serde(default)]
    pub reason: String,
    /// Who excluded it (the approver).
    pub by: String,
    pub at: DateTime<Utc>,
    /// Plan items it kept out, the changes that depend on them included.
    #[serde(default)]
    pub items: u64,
}

/// Why one plan item is kept out of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excluded {
    /// The exclusion's place in [`SyncRun::exclusions`].
    pub exclusion: u32,
    /// The excluded item this one depends on (a link of a student whose creation was
    /// excluded); `None` when the exclusion selects it directly.
    pub via: Option<u64>,
}

/// A plan item with its number and, after a review, why it is kept out.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntry {
    pub seq: u64,
    pub item: PlanItem,
    pub excluded: Option<Excluded>,
}

impl SyncRun {
    /// Moves the run to `phase` at `at`, recording the change in its phase history (a
    /// pull started again after a takeover is recorded again).
    pub fn enter(&mut self, phase: RunPhase, at: DateTime<Utc>) {
        if self.phases.last().map(|m| m.phase) != Some(phase) || phase == RunPhase::Pulling {
            self.phases.push(PhaseMark { phase, at });
        }
        self.phase = phase;
    }
}

/// One change a run intends: the record as it will be, and its field changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PlanItem {
    Student {
        operation: Operation,
        student: Student,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    Guardian {
        operation: Operation,
        guardian: Guardian,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    Link {
        operation: Operation,
        link: Link,
        changes: Vec<FieldChange>,
    },
    School {
        operation: Operation,
        school: School,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    /// A source contact of a student (created, updated, or deleted when the source no
    /// longer lists it).
    Contact {
        operation: Operation,
        contact: Contact,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    Staff {
        operation: Operation,
        staff: Staff,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    Classroom {
        operation: Operation,
        classroom: Classroom,
        source_hash: String,
        changes: Vec<FieldChange>,
    },
    /// A student or teacher in a classroom (created, or deleted when the source no
    /// longer lists it).
    Enrollment {
        operation: Operation,
        enrollment: Enrollment,
        changes: Vec<FieldChange>,
    },
}

impl PlanItem {
    pub fn entity(&self) -> Entity {
        match self {
            PlanItem::Student { .. } => Entity::Student,
            PlanItem::Guardian { .. } => Entity::Guardian,
            PlanItem::Link { .. } => Entity::Link,
            PlanItem::School { .. } => Entity::School,
            PlanItem::Contact { .. } => Entity::Contact,
            PlanItem::Staff { .. } => Entity::Staff,
            PlanItem::Classroom { .. } => Entity::Classroom,
            PlanItem::Enrollment { .. } => Entity::Enrollment,
        }
    }

    pub fn operation(&self) -> Operation {
        match self {
            PlanItem::Student { operation, .. }
            | PlanItem::Guardian { operation, .. }
            | PlanItem::Link { operation, .. }
            | PlanItem::School { operation, .. }
            | PlanItem::Contact { operation, .. }
            | PlanItem::Staff { operation, .. }
            | PlanItem::Classroom { operation, .. }
            | PlanItem::Enrollment { operation, .. } => *operation,
        }
    }

    /// Our id of the record (`student/guardian` for a link).
    pub fn record_id(&self) -> String {
        match self {
            PlanItem::Student { student, .. } => student.id.to_string(),
            PlanItem::Guardian { guardian, .. } => guardian.id.to_string(),
            PlanItem::Link { link, .. } => format!("{}/{}", link.student_id, link.guardian_id),
            PlanItem::School { school, .. } => school.id.to_string(),
            PlanItem::Contact { contact, .. } => {
                format!("{}/{}", contact.student_source_id, contact.source_id)
            }
            PlanItem::Staff { staff, .. } => staff.id.to_string(),
            PlanItem::Classroom { classroom, .. } => classroom.id.to_string(),
            PlanItem::Enrollment { enrollment, .. } => format!(
                "{}/{}/{}",
                enrollment.classroom_source_id,
                enrollment.person_source_id,
                enrollment.role.as_str()
            ),
        }
    }

    /// The rows this item leaves in the change log: an update (archive, unarchive) one
    /// row per field that moved; a creation or deletion one row for the whole record,
    /// field `*`, its value a JSON object of the record's fields (new for a creation, old
    /// for a deletion). Every field's value is recorded either way, in a tenth of the rows.
    pub fn log_changes(&self) -> Vec<FieldChange> {
        let changes = self.changes();
        let whole = |pick: fn(&FieldChange) -> &Option<String>| {
            let fields: serde_json::Map<String, serde_json::Value> = changes
                .iter()
                .filter_map(|c| {
                    pick(c)
                        .as_ref()
                        .map(|v| (c.field.clone(), serde_json::Value::from(v.as_str())))
                })
                .collect();
            serde_json::Value::Object(fields).to_string()
        };
        match self.operation() {
            _ if changes.is_empty() => Vec::new(),
            Operation::Create => vec![FieldChange {
                entity: self.entity(),
                record_id: self.record_id(),
                operation: Operation::Create,
                field: "*".into(),
                old_value: None,
                new_value: Some(whole(|c| &c.new_value)),
            }],
            Operation::Delete => vec![FieldChange {
                entity: self.entity(),
                record_id: self.record_id(),
                operation: Operation::Delete,
                field: "*".into(),
                old_value: Some(whole(|c| &c.old_value)),
                new_value: None,
            }],
            _ => changes.to_vec(),
        }
    }

    /// The item's record as a field list ([`crate::fields`]).
    pub fn record_fields(&self) -> crate::fields::Fields {
        use crate::fields;
        match self {
            PlanItem::Student { student, .. } => fields::student_fields(student),
            PlanItem::Guardian { guardian, .. } => fields::guardian_fields(guardian),
            PlanItem::Link { link, .. } => fields::link_fields(link),
            PlanItem::School { school, .. } => fields::school_fields(school),
            PlanItem::Contact { contact, .. } => fields::contact_fields(contact),
            PlanItem::Staff { staff, .. } => fields::staff_fields(staff),
            PlanItem::Classroom { classroom, .. } => fields::classroom_fields(classroom),
            PlanItem::Enrollment { enrollment, .. } => fields::enrollment_fields(enrollment),
        }
    }

    /// The changes a creation or a deletion of the item's record lists: every field it
    /// has (a creation: those with a value), from the record itself. None for the other
    /// operations, whose changes need the record as it was.
    pub fn whole_record_changes(&self) -> Option<Vec<FieldChange>> {
        let operation = self.operation();
        matches!(operation, Operation::Create | Operation::Delete).then(|| {
            crate::fields::changes(
                self.entity(),
                &self.record_id(),
                operation,
                None,
                &self.record_fields(),
            )
        })
    }

    /// The item's operation, to change (an undo turns a held record into its deletion).
    pub fn operation_mut(&mut self) -> &mut Operation {
        match self {
            PlanItem::Student { operation, .. }
            | PlanItem::Guardian { operation, .. }
            | PlanItem::Link { operation, .. }
            | PlanItem::School { operation, .. }
            | PlanItem::Contact { operation, .. }
            | PlanItem::Staff { operation, .. }
            | PlanItem::Classroom { operation, .. }
            | PlanItem::Enrollment { operation, .. } => operation,
        }
    }

    pub fn changes_mut(&mut self) -> &mut Vec<FieldChange> {
        match self {
            PlanItem::Student { changes, .. }
            | PlanItem::Guardian { changes, .. }
            | PlanItem::Link { changes, .. }
            | PlanItem::School { changes, .. }
            | PlanItem::Contact { changes, .. }
            | PlanItem::Staff { changes, .. }
            | PlanItem::Classroom { changes, .. }
            | PlanItem::Enrollment { changes, .. } => changes,
        }
    }

    pub fn changes(&self) -> &[FieldChange] {
        match self {
            PlanItem::Student { changes, .. }
            | PlanItem::Guardian { changes, .. }
            | PlanItem::Link { changes, .. }
            | PlanItem::School { changes, .. }
            | PlanItem::Contact { changes, .. }
            | PlanItem::Staff { changes, .. }
            | PlanItem::Classroom { changes, .. }
            | PlanItem::Enrollment { changes, .. } => changes,
        }
    }
}
