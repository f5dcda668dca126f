//! The one list of record kinds a source sends, and what each becomes: the staged kind it
//! is kept as ([`StagedKind`]) and the entity a change to it is logged under
//! ([`Entity`]). The planner's apply phases derive from the entity.

use crate::change::Entity;
use crate::staging::StagedKind;

/// The kinds of record a pull carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    School,
    Student,
    Contact,
    GuardianAccount,
    Staff,
    Classroom,
    Enrollment,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::School,
        RecordKind::Student,
        RecordKind::Contact,
        RecordKind::GuardianAccount,
        RecordKind::Staff,
        RecordKind::Classroom,
        RecordKind::Enrollment,
    ];

    /// Whether a run may go on without this kind (SPEC §2c): the seeds require students
    /// and guardians with their links; schools' details, staff, classrooms and
    /// enrollments are optional.
    pub fn is_optional(self) -> bool {
        matches!(
            self,
            RecordKind::Staff | RecordKind::Classroom | RecordKind::Enrollment
        )
    }

    /// The plural name counts and settings use (`students`, `guardian_accounts`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::School => "schools",
            RecordKind::Student => "students",
            RecordKind::Contact => "contacts",
            RecordKind::GuardianAccount => "guardian_accounts",
            RecordKind::Staff => "staff",
            RecordKind::Classroom => "classrooms",
            RecordKind::Enrollment => "enrollments",
        }
    }
}

impl From<RecordKind> for StagedKind {
    fn from(kind: RecordKind) -> StagedKind {
        match kind {
            RecordKind::School => StagedKind::School,
            RecordKind::Student => StagedKind::Student,
            RecordKind::Contact => StagedKind::Contact,
            RecordKind::GuardianAccount => StagedKind::GuardianAccount,
            RecordKind::Staff => StagedKind::Staff,
            RecordKind::Classroom => StagedKind::Classroom,
            RecordKind::Enrollment => StagedKind::Enrollment,
        }
    }
}

impl From<RecordKind> for Entity {
    fn from(kind: RecordKind) -> Entity {
        match kind {
            RecordKind::School => Entity::School,
            RecordKind::Student => Entity::Student,
            RecordKind::Contact => Entity::Contact,
            RecordKind::GuardianAccount => Entity::Guardian,
            RecordKind::Staff => Entity::Staff,
            RecordKind::Classroom => Entity::Classroom,
            RecordKind::Enrollment => Entity::Enrollment,
        }
    }
}

/// The names of the kinds, as counts and settings use them (`students`).
pub const RECORD_KINDS: [&str; 7] = {
    let mut names = [""; 7];
    let mut i = 0;
    while i < RecordKind::ALL.len() {
        names[i] = RecordKind::ALL[i].as_str();
        i += 1;
    }
    names
};
