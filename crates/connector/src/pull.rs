//! The pull contract every source speaks: `check`, a `roster` stream of batches that ends
//! with an explicit *complete* event carrying the source's own counts, and `user` for one
//! person (spot sync).
//!
//! How each source maps onto it:
//! - **PowerSchool**: schools from `/ws/v1/district/school`; students per school from
//!   `/ws/v1/school/{id}/student` (status ≤ 0), with their contacts (table access) and the
//!   guardian accounts of `student_guardian_detail` fetched page by page; the declared
//!   counts come from the `/count` endpoints.
//! - **Clever**: `/v3.0/schools`, `/students`, `/contacts`, `/teachers`, `/sections`,
//!   paged by `starting_after`; Clever declares no totals, so the connector declares what
//!   it paged through only after the last page answered empty.
//! - **OneRoster (ClassLink)**: `orgs`, `users` (students, guardians/parents, teachers),
//!   `classes`, `enrollments`, paged by `limit`/`offset` with the `X-Total-Count` header as
//!   the declared count.
//!
//! The engine archives or unlinks nothing unless the stream ended in
//! [`RosterEvent::Complete`] and [`Tally::verify`] agreed with the declared counts.

use model::roster::{Classroom, Contact, Enrollment, School, Staff};
use model::source::{AccountStudent, GuardianAccount, SourceStudent};

/// One item of a roster pull. Batches are bounded (a page or a school), so nothing holds
/// the whole district.
#[derive(Debug, Clone, PartialEq)]
pub enum RosterEvent {
    Schools(Vec<School>),
    Students(Vec<SourceStudent>),
    Contacts(Vec<Contact>),
    GuardianAccounts(Vec<GuardianAccount>),
    /// Students of accounts sent on their own (the accounts themselves come in
    /// [`RosterEvent::GuardianAccounts`], before or after): the same as listing them in
    /// the accounts' `student_source_ids`. Not counted on their own: they belong to the
    /// accounts they name.
    AccountStudents(Vec<AccountStudent>),
    Staff(Vec<Staff>),
    Classrooms(Vec<Classroom>),
    Enrollments(Vec<Enrollment>),
    /// Something the source sent that was kept but should be looked at (an unknown
    /// relationship type mapped to "other").
    Warning(PullWarning),
    /// A record the connector could not read (no id, an unparseable date): left out by
    /// itself. It still counts against the declared count: declared = received + rejected.
    Rejected(RejectedRecord),
    /// An optional kind the source would not give this pull (a 403 or 404 on its
    /// endpoint): nothing of that kind is created, changed or archived by the run, and
    /// the rest of the pull goes on. Only [`RecordKind::is_optional`] kinds may be
    /// unavailable; the engine fails a run whose required kind is.
    Unavailable(Unavailable),
    /// The source says the pull is whole; these are its own counts.
    Complete(PullCounts),
}

/// An optional kind the source refused this pull, with the endpoint and status that said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub kind: RecordKind,
    /// `METHOD /path`, as errors name endpoints.
    pub endpoint: String,
    /// Why, with the status, in words for a district administrator (no response body).
    pub reason: String,
}

impl Unavailable {
    /// The kind is unavailable because the source refused `error` (a 403 or 404); `None`
    /// for any other error, which is not a refusal and stays an error.
    pub fn from_refusal(kind: RecordKind, error: &crate::ConnectorError) -> Option<Self> {
        let (_, reason) = Self::refusal(error)?;
        Some(Unavailable {
            kind,
            endpoint: error.endpoint().unwrap_or_default().to_owned(),
            reason: reason.into(),
        })
    }

    /// The status and our words for an error that is a refusal of access (403) or of
    /// the resource (404); `None` for any other error.
    pub fn refusal(error: &crate::ConnectorError) -> Option<(u16, &'static str)> {
        match error {
            crate::ConnectorError::Forbidden { .. } => {
                Some((403, "the source denies access (HTTP 403)"))
            }
            crate::ConnectorError::NotFound { .. } => {
                Some((404, "the source does not serve it (HTTP 404)"))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} not synced this run: {}: {}; nothing of that kind was created, changed or archived",
            self.kind.as_str(),
            self.endpoint,
            self.reason
        )
    }
}

/// A warning with the endpoint and record it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullWarning {
    pub endpoint: String,
    pub record: String,
    pub message: String,
}

pub use model::kinds::RecordKind;

/// A record a connector (or the engine) refused, with where it came from and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    pub kind: RecordKind,
    /// The source's id of the record, when it could be read.
    pub source_id: Option<model::ids::SourceId>,
    pub endpoint: String,
    /// The record as far as it could be named (an id, a line).
    pub record: String,
    pub reason: String,
}

/// Record counts, as a source declares them or as the engine received them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PullCounts {
    pub schools: u64,
    pub students: u64,
    pub contacts: u64,
    pub guardian_accounts: u64,
    pub staff: u64,
    pub classrooms: u64,
    pub enrollments: u64,
}

impl PullCounts {
    /// The count of one kind.
    pub fn get(&self, kind: RecordKind) -> u64 {
        match kind {
            RecordKind::School => self.schools,
            RecordKind::Student => self.students,
            RecordKind::Contact => self.contacts,
            RecordKind::GuardianAccount => self.guardian_accounts,
            RecordKind::Staff => self.staff,
            RecordKind::Classroom => self.classrooms,
            RecordKind::Enrollment => self.enrollments,
        }
    }

    /// Adds `n` to the count of one kind.
    pub fn add(&mut self, kind: RecordKind, n: u64) {
        let c = match kind {
            RecordKind::School => &mut self.schools,
            RecordKind::Student => &mut self.students,
            RecordKind::Contact => &mut self.contacts,
            RecordKind::GuardianAccount => &mut self.guardian_accounts,
            RecordKind::Staff => &mut self.staff,
            RecordKind::Classroom => &mut self.classrooms,
            RecordKind::Enrollment => &mut self.enrollments,
        };
        *c += n;
    }
}

/// One kind of record whose received count differs from the declared one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountMismatch {
    pub entity: &'static str,
    pub declared: u64,
    pub received: u64,
}

/// A set of record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct KindSet(u8);

impl KindSet {
    fn bit(kind: RecordKind) -> u8 {
        1 << (kind as u8)
    }

    pub fn insert(&mut self, kind: RecordKind) {
        self.0 |= Self::bit(kind);
    }

    pub fn contains(&self, kind: RecordKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }
}

/// Counts what a pull delivered, to hold against what the source declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub received: PullCounts,
    /// Records the connector could not read and left out.
    pub rejected: PullCounts,
    /// Optional kinds the source would not give: not held against any count.
    pub unavailable: KindSet,
}

impl Tally {
    /// Adds one event's records.
    pub fn add(&mut self, event: &RosterEvent) {
        let r = &mut self.received;
        let n = |len: usize| len as u64;
        match event {
            RosterEvent::Schools(v) => r.schools += n(v.len()),
            RosterEvent::Students(v) => r.students += n(v.len()),
            RosterEvent::Contacts(v) => r.contacts += n(v.len()),
            RosterEvent::GuardianAccounts(v) => r.guardian_accounts += n(v.len()),
            RosterEvent::Staff(v) => r.staff += n(v.len()),
            RosterEvent::Classrooms(v) => r.classrooms += n(v.len()),
            RosterEvent::Enrollments(v) => r.enrollments += n(v.len()),
            RosterEvent::Rejected(rec) => self.rejected.add(rec.kind, 1),
            RosterEvent::Unavailable(u) => self.unavailable.insert(u.kind),
            RosterEvent::AccountStudents(_)
            | RosterEvent::Warning(_)
            | RosterEvent::Complete(_) => {}
        }
    }

    /// Every kind whose received count, with the records the connector rejected, differs
    /// from the declared one; empty when the pull is whole. A kind the source would not
    /// give is not read at all, so it is not held to a count.
    pub fn verify(&self, declared: &PullCounts) -> Vec<CountMismatch> {
        RecordKind::ALL
            .into_iter()
            .filter(|k| !self.unavailable.contains(*k))
            .map(|k| {
                (
                    k,
                    declared.get(k),
                    self.received.get(k) + self.rejected.get(k),
                )
            })
            .filter(|(_, d, r)| d != r)
            .map(|(k, declared, received)| CountMismatch {
                entity: k.as_str(),
                declared,
                received,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::{SchoolId, SourceId};

    fn school(id: &str) -> School {
        School {
            id: SchoolId::new(),
            source_id: SourceId::new(id),
            school_number: id.into(),
            name: format!("School {id}"),
            archived: false,
        }
    }

    #[test]
    fn a_short_pull_is_caught_by_its_counts() {
        let mut tally = Tally::default();
        tally.add(&RosterEvent::Schools(vec![school("1"), school("2")]));
        tally.add(&RosterEvent::Warning(PullWarning {
            endpoint: "/ws/v1/district/school".into(),
            record: "3".into(),
            message: "unknown school type".into(),
        }));
        let declared = PullCounts {
            schools: 3,
            ..PullCounts::default()
        };
        assert_eq!(
            tally.verify(&declared),
            vec![CountMismatch {
                entity: "schools",
                declared: 3,
                received: 2
            }]
        );
        tally.add(&RosterEvent::Schools(vec![school("3")]));
        assert!(tally.verify(&declared).is_empty());
    }
}
