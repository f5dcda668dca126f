//! How source records are staged: their keys, groups and payloads. A pull stages what a
//! connector streams; a spot sync stages the one user a connector returns the same way,
//! so both are planned from the same kind of page.

use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};
use model::staging::{compound_key, StagedKind, StagedRecord};

use crate::bytes_hash;

/// A staged record of `payload`, hashed as a pull hashes it.
pub fn record(kind: StagedKind, key: String, group: String, payload: String) -> StagedRecord {
    StagedRecord {
        kind,
        hash: bytes_hash(payload.as_bytes()),
        key,
        group,
        arrival: "spot sync".into(),
        payload,
        rejected: None,
        duplicate: None,
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A contact's key: its student's source id and its own.
pub fn contact_key(c: &Contact) -> String {
    compound_key(&[c.student_source_id.as_str(), c.source_id.as_str()])
}

/// The key of an account's relationship to a student.
pub fn relation_key(account: &str, student: &str) -> String {
    compound_key(&[account, student])
}

/// The payload of an account's relationship to a student.
pub fn relation_payload(account: &str, student: &str) -> String {
    json(&(account, student))
}

/// A student as staged.
pub fn student(s: &SourceStudent) -> StagedRecord {
    let key = s.source_id.to_string();
    record(StagedKind::Student, key.clone(), key, json(s))
}

/// A contact as staged, grouped by its student.
pub fn contact(c: &Contact) -> StagedRecord {
    record(
        StagedKind::Contact,
        contact_key(c),
        c.student_source_id.to_string(),
        json(c),
    )
}

/// An account as staged (without its students), and one relationship record for each
/// student it may see, grouped by the student.
pub fn account(a: &GuardianAccount) -> (StagedRecord, Vec<StagedRecord>) {
    let mut account = a.clone();
    let students = std::mem::take(&mut account.student_source_ids);
    let key = account.source_id.to_string();
    let staged = record(
        StagedKind::GuardianAccount,
        key.clone(),
        key,
        json(&account),
    );
    let relations = students
        .iter()
        .map(|s| {
            record(
                StagedKind::AccountStudent,
                relation_key(a.source_id.as_str(), s.as_str()),
                s.to_string(),
                relation_payload(a.source_id.as_str(), s.as_str()),
            )
        })
        .collect();
    (staged, relations)
}
