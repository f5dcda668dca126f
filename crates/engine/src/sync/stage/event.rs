//! One event of a pull as staged records: each record checked on its own, keyed by kind
//! and source id (or a compound key), grouped by what the planner reads it by, with a
//! content hash; refused records staged as refused when their key can be read.

use std::collections::HashMap;

use chrono::NaiveDate;
use connector::{PullCounts, RecordKind, RosterEvent};
use model::ids::SourceId;
use model::staging::{compound_key, StagedKind, StagedRecord};
use model::validate;
use serde::Serialize;

use super::{bytes_hash, to_json, Stop};

/// What one event stages: its records, the warnings it raises, and — the last event —
/// the counts the source declared.
#[derive(Debug, Default)]
pub(super) struct EventRecords {
    pub records: Vec<StagedRecord>,
    pub warnings: Vec<String>,
    pub declared: Option<PullCounts>,
}

/// A source record as staged: our ids are not the source's to give, so the ids a
/// connector filled in are cleared (the content hash must not move with them).
trait Unassigned: Clone {
    fn unassigned(&self) -> Self;
}

impl Unassigned for model::roster::School {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::SchoolId::unassigned(),
            ..self.clone()
        }
    }
}

impl Unassigned for model::roster::Staff {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::StaffId::unassigned(),
            ..self.clone()
        }
    }
}

impl Unassigned for model::roster::Classroom {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::ClassroomId::unassigned(),
            ..self.clone()
        }
    }
}

/// The records of one event, deduplicated by kind and key as they are added.
struct Batch {
    event: u64,
    records: Vec<StagedRecord>,
    at: HashMap<(StagedKind, String), usize>,
}

impl Batch {
    fn new(event: u64) -> Self {
        Batch {
            event,
            records: Vec::new(),
            at: HashMap::new(),
        }
    }

    fn arrival(&self, i: usize) -> String {
        format!("event {}, record {}", self.event, i + 1)
    }

    /// Adds a record. The same key twice in one event: the same content is one record;
    /// other content is kept as the first record's duplicate.
    fn push(&mut self, kind: StagedKind, key: String, group: String, payload: String, i: usize) {
        let hash = bytes_hash(payload.as_bytes());
        let arrival = self.arrival(i);
        if let Some(&at) = self.at.get(&(kind, key.clone())) {
            let first = &mut self.records[at];
            if first.hash != hash && first.duplicate.is_none() {
                first.duplicate = Some((hash, arrival));
            }
            return;
        }
        self.at.insert((kind, key.clone()), self.records.len());
        self.records.push(StagedRecord {
            kind,
            key,
            group,
            hash,
            arrival,
            payload,
            rejected: None,
            duplicate: None,
        });
    }

    /// Stages that `account` may see `student`: a record of its own, read student by
    /// student.
    fn account_student(&mut self, account: &SourceId, student: &SourceId, i: usize) {
        self.push(
            StagedKind::AccountStudent,
            compound_key(&[account.as_str(), student.as_str()]),
            student.to_string(),
            to_json(&(account.as_str(), student.as_str())),
            i,
        );
    }

    /// Stages a refused record, when its key can be read, so it counts as present.
    fn refuse(&mut self, kind: StagedKind, key: Option<String>, reason: &str, i: usize) {
        let Some(key) = key.filter(|k| !k.trim().is_empty() && !k.chars().any(char::is_control))
        else {
            return;
        };
        let payload = String::new();
        let group = key.clone();
        self.push(kind, key.clone(), group, payload, i);
        if let Some(&at) = self.at.get(&(kind, key)) {
            self.records[at].rejected = Some(reason.to_owned());
        }
    }
}

impl Batch {
    /// Stages each record that passes its check; refuses (and counts, and names) the
    /// others.
    #[allow(clippy::too_many_arguments)]
    fn each<T: Serialize>(
        &mut self,
        items: &[T],
        (kind, record): (StagedKind, RecordKind),
        check: impl Fn(&T) -> Result<(), String>,
        key: impl Fn(&T) -> String,
        group: impl Fn(&T) -> String,
        refused: &mut PullCounts,
        warnings: &mut Vec<String>,
    ) {
        for (i, r) in items.iter().enumerate() {
            match check(r) {
                Ok(()) => self.push(kind, key(r), group(r), to_json(r), i),
                Err(reason) => {
                    self.refuse(kind, Some(key(r)), &reason, i);
                    refused.add(record, 1);
                    warnings.push(format!(
                        "refused {} {:?} ({}): {reason}",
                        kind.as_str(),
                        key(r),
                        self.arrival(i)
                    ));
                }
            }
        }
    }

    /// Guardian accounts: each staged without its students, and a record of its own for
    /// each student it may see.
    fn accounts(
        &mut self,
        accounts: &[model::source::GuardianAccount],
        refused: &mut PullCounts,
        warnings: &mut Vec<String>,
    ) {
        for (i, a) in accounts.iter().enumerate() {
            if let Err(reason) = validate::guardian_account(a) {
                self.refuse(
                    StagedKind::GuardianAccount,
                    Some(a.source_id.to_string()),
                    &reason,
                    i,
                );
                refused.add(RecordKind::GuardianAccount, 1);
                warnings.push(format!(
                    "refused guardian_account {:?} ({}): {reason}",
                    a.source_id.as_str(),
                    self.arrival(i)
                ));
                continue;
            }
            let mut account = a.clone();
            let students = std::mem::take(&mut account.student_source_ids);
            let key = account.source_id.to_string();
            self.push(
                StagedKind::GuardianAccount,
                key.clone(),
                key,
                to_json(&account),
                i,
            );
            for s in students {
                self.account_student(&account.source_id, &s, i);
            }
        }
    }

    /// Account–student pairs sent on their own.
    fn pairs(&mut self, pairs: &[model::source::AccountStudent], warnings: &mut Vec<String>) {
        for (i, p) in pairs.iter().enumerate() {
            if let Err(reason) = validate::account_student(p) {
                // Not staged, as the students of a malformed account are not; not
                // counted, as pairs never are.
                warnings.push(format!(
                    "refused account_student {:?} ({}): {reason}",
                    compound_key(&[p.account_source_id.as_str(), p.student_source_id.as_str()]),
                    self.arrival(i)
                ));
                continue;
            }
            self.account_student(&p.account_source_id, &p.student_source_id, i);
        }
    }
}

/// Stages one event of a pull (`event`: its number in the stream); `refused` counts the
/// records refused by kind. A kind the seeds require that cannot be read fails the pull.
pub(super) fn stage_event(
    e: &RosterEvent,
    event: u64,
    today: NaiveDate,
    refused: &mut PullCounts,
) -> Result<EventRecords, Stop> {
    let mut b = Batch::new(event);
    let mut out = EventRecords::default();
    let w = &mut out.warnings;
    let source = |id: &SourceId| id.to_string();
    match e {
        RosterEvent::Schools(v) => {
            let v: Vec<_> = v.iter().map(Unassigned::unassigned).collect();
            let id = |s: &model::roster::School| source(&s.source_id);
            let kind = (StagedKind::School, RecordKind::School);
            b.each(&v, kind, validate::school, id, id, refused, w);
        }
        RosterEvent::Students(v) => {
            let id = |s: &model::source::SourceStudent| source(&s.source_id);
            let kind = (StagedKind::Student, RecordKind::Student);
            b.each(v, kind, |s| validate::student(s, today), id, id, refused, w);
        }
        RosterEvent::Contacts(v) => {
            let key = |c: &model::roster::Contact| {
                compound_key(&[c.student_source_id.as_str(), c.source_id.as_str()])
            };
            let group = |c: &model::roster::Contact| source(&c.student_source_id);
            let kind = (StagedKind::Contact, RecordKind::Contact);
            b.each(v, kind, validate::contact, key, group, refused, w);
        }
        RosterEvent::GuardianAccounts(v) => b.accounts(v, refused, w),
        RosterEvent::AccountStudents(v) => b.pairs(v, w),
        RosterEvent::Staff(v) => {
            let v: Vec<_> = v.iter().map(Unassigned::unassigned).collect();
            let id = |s: &model::roster::Staff| source(&s.source_id);
            let kind = (StagedKind::Staff, RecordKind::Staff);
            b.each(&v, kind, validate::staff, id, id, refused, w);
        }
        RosterEvent::Classrooms(v) => {
            let v: Vec<_> = v.iter().map(Unassigned::unassigned).collect();
            let id = |c: &model::roster::Classroom| source(&c.source_id);
            let kind = (StagedKind::Classroom, RecordKind::Classroom);
            b.each(&v, kind, validate::classroom, id, id, refused, w);
        }
        RosterEvent::Enrollments(v) => {
            let key = |x: &model::roster::Enrollment| {
                compound_key(&[
                    x.classroom_source_id.as_str(),
                    x.person_source_id.as_str(),
                    x.role.as_str(),
                ])
            };
            let group = |x: &model::roster::Enrollment| source(&x.classroom_source_id);
            let kind = (StagedKind::Enrollment, RecordKind::Enrollment);
            b.each(v, kind, validate::enrollment, key, group, refused, w);
        }
        RosterEvent::Warning(x) => w.push(format!("{} {}: {}", x.endpoint, x.record, x.message)),
        RosterEvent::Rejected(r) => {
            let id = r.source_id.as_ref().map(SourceId::to_string);
            b.refuse(r.kind.into(), id, &r.reason, 0);
            w.push(format!(
                "{} {}: refused: {}",
                r.endpoint, r.record, r.reason
            ));
        }
        RosterEvent::Unavailable(u) if !u.kind.is_optional() => {
            return Err(Stop::Failed(format!(
                "the pull failed, nothing was written: {} cannot be read ({}: {})",
                u.kind.as_str(),
                u.endpoint,
                u.reason
            )));
        }
        RosterEvent::Unavailable(u) => w.push(u.to_string()),
        RosterEvent::Complete(counts) => out.declared = Some(*counts),
    }
    out.records = b.records;
    Ok(out)
}
