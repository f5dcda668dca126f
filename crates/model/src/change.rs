//! The change log's vocabulary: which run or spot sync changed which field of which
//! record, from what to what.

use chrono::{DateTime, Utc};

use crate::ids::{RunId, SpotSyncId};

/// What made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum ChangeSource {
    Run(RunId),
    SpotSync(SpotSyncId),
}

/// The kind of record a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    School,
    Student,
    Guardian,
    Contact,
    Link,
    Staff,
    Classroom,
    Enrollment,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::School => "school",
            Entity::Student => "student",
            Entity::Guardian => "guardian",
            Entity::Contact => "contact",
            Entity::Link => "link",
            Entity::Staff => "staff",
            Entity::Classroom => "classroom",
            Entity::Enrollment => "enrollment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Entity::School,
            Entity::Student,
            Entity::Guardian,
            Entity::Contact,
            Entity::Link,
            Entity::Staff,
            Entity::Classroom,
            Entity::Enrollment,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// What happened to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    Archive,
    Unarchive,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Archive => "archive",
            Operation::Unarchive => "unarchive",
            Operation::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Operation::Create,
            Operation::Update,
            Operation::Archive,
            Operation::Unarchive,
            Operation::Delete,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One field of one record changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub entity: Entity,
    /// Our id of the record (for a link: `student_id/guardian_id`).
    pub record_id: String,
    pub operation: Operation,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A field change as the change log holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRecord {
    pub source: ChangeSource,
    pub seq: u64,
    pub change: FieldChange,
    pub at: DateTime<Utc>,
}
