//! A pull as the store stages it: every record the source sent, keyed by district, pull,
//! kind and key, with its content hash. Planning reads staged records in key order, so a
//! plan never depends on the order a source sends records in; support reads them back to
//! see what the source sent.

/// What a staged record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StagedKind {
    School,
    Student,
    /// A source contact of one student (keyed by student and contact).
    Contact,
    /// A guardian's portal account, without the students it sees.
    GuardianAccount,
    /// One account–student relationship the source lists (keyed by account and student).
    AccountStudent,
    Staff,
    Classroom,
    /// A student or staff member in a classroom.
    Enrollment,
    /// A note the planner leaves itself between its passes (a guardian account a link
    /// needs, a guardian to mark or re-count); never something the source sent.
    Mark,
}

impl StagedKind {
    pub const PULLED: [StagedKind; 8] = [
        StagedKind::School,
        StagedKind::Student,
        StagedKind::Contact,
        StagedKind::GuardianAccount,
        StagedKind::AccountStudent,
        StagedKind::Staff,
        StagedKind::Classroom,
        StagedKind::Enrollment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StagedKind::School => "school",
            StagedKind::Student => "student",
            StagedKind::Contact => "contact",
            StagedKind::GuardianAccount => "guardian_account",
            StagedKind::AccountStudent => "account_student",
            StagedKind::Staff => "staff",
            StagedKind::Classroom => "classroom",
            StagedKind::Enrollment => "enrollment",
            StagedKind::Mark => "mark",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        StagedKind::PULLED
            .into_iter()
            .chain([StagedKind::Mark])
            .find(|k| k.as_str() == s)
    }
}

/// Joins the parts of a compound key (a contact's student and id). The separator is a
/// control character, which validation refuses in every source id.
pub fn compound_key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// The parts of a compound key.
pub fn key_parts(key: &str) -> Vec<&str> {
    key.split('\u{1f}').collect()
}

/// One staged record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRecord {
    pub kind: StagedKind,
    /// Unique within the pull and kind: the source id, or a [`compound_key`].
    pub key: String,
    /// What the planner reads it by: a contact's or relationship's student, a mark's
    /// guardian; the key itself for top-level records.
    pub group: String,
    /// Hash of the content: the same record always hashes the same.
    pub hash: String,
    /// Where it arrived in the pull ("event 12, record 3").
    pub arrival: String,
    /// The record as JSON (a model type, by kind).
    pub payload: String,
    /// Why the record was refused, when it was: it still counts as present (a refused
    /// student is not archived), but nothing is planned from it.
    pub rejected: Option<String>,
    /// A second record under the same key with different content (its hash, and where it
    /// arrived): both are refused.
    pub duplicate: Option<(String, String)>,
}

impl StagedRecord {
    /// Whether the planner may use the record: not refused, not contradicted.
    pub fn usable(&self) -> bool {
        self.rejected.is_none() && self.duplicate.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for k in StagedKind::PULLED.into_iter().chain([StagedKind::Mark]) {
            assert_eq!(StagedKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(key_parts(&compound_key(&["1001", "c7"])), ["1001", "c7"]);
    }
}
