//! The conformance kit every connector's tests run: it reads a whole roster stream and
//! checks the contract the engine relies on, whatever the source.
//!
//! - the stream ends in exactly one [`RosterEvent::Complete`], and nothing follows it;
//! - the declared counts agree with what arrived ([`Tally::verify`]);
//! - no student, and no contact of a student, arrives twice (paging overlap);
//! - a guardian account listed in several batches is the same account each time, apart
//!   from the students of that batch; students of accounts sent on their own name an
//!   account the stream sends;
//! - only optional kinds (staff, classrooms, enrollments) may be sent as unavailable.
//!
//! [`collect`] returns the roster with guardian accounts merged across batches, ready to
//! compare with a simulator's ground truth.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use model::roster::{Classroom, Contact, Enrollment, School, Staff};
use model::source::{AccountStudent, GuardianAccount, SourceStudent};

use crate::error::ConnectorError;
use crate::pull::{PullCounts, PullWarning, RosterEvent, Tally};
use crate::source::RosterStream;

/// A pull drained to its end and timed: what the pull-rate examples print.
#[derive(Debug, Clone)]
pub struct TimedPull {
    pub tally: Tally,
    /// Whether the source declared the pull whole and its counts agree with what came.
    pub counts_agree: bool,
    pub elapsed: std::time::Duration,
}

impl TimedPull {
    /// Records received, of every kind.
    pub fn records(&self) -> u64 {
        crate::pull::RecordKind::ALL
            .into_iter()
            .map(|k| self.tally.received.get(k))
            .sum()
    }

    /// `pulled 60 students, … (1234 records) in 1.2s: 1000 records/s; counts agree: true`.
    pub fn summary(&self) -> String {
        let r = &self.tally.received;
        format!(
            "pulled {} schools, {} students, {} contacts, {} guardian accounts, {} staff, {} classrooms, {} enrollments ({} records) in {:.2?}: {:.0} records/s, {:.0} students/s; counts agree: {}",
            r.schools,
            r.students,
            r.contacts,
            r.guardian_accounts,
            r.staff,
            r.classrooms,
            r.enrollments,
            self.records(),
            self.elapsed,
            self.records() as f64 / self.elapsed.as_secs_f64(),
            r.students as f64 / self.elapsed.as_secs_f64(),
            self.counts_agree
        )
    }
}

/// Drains `stream`, counting what arrives, and times it.
pub async fn time_pull(mut stream: RosterStream) -> Result<TimedPull, ConnectorError> {
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    let mut declared = None;
    while let Some(event) = stream.next().await {
        let event = event?;
        tally.add(&event);
        if let RosterEvent::Complete(counts) = event {
            declared = Some(counts);
        }
    }
    let elapsed = started.elapsed();
    Ok(TimedPull {
        counts_agree: declared.is_some_and(|d| tally.verify(&d).is_empty()),
        tally,
        elapsed,
    })
}

/// A whole pull, guardian accounts merged by source id.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Roster {
    pub schools: Vec<School>,
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub guardian_accounts: BTreeMap<String, GuardianAccount>,
    pub staff: Vec<Staff>,
    pub classrooms: Vec<Classroom>,
    pub enrollments: Vec<Enrollment>,
    pub warnings: Vec<PullWarning>,
    pub rejected: Vec<crate::pull::RejectedRecord>,
    /// Optional kinds the source would not give this pull.
    pub unavailable: Vec<crate::pull::Unavailable>,
    pub declared: PullCounts,
}

impl Roster {
    pub fn student(&self, source_id: &str) -> Option<&SourceStudent> {
        self.students
            .iter()
            .find(|s| s.source_id.as_str() == source_id)
    }

    pub fn contact(&self, student: &str, contact: &str) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.student_source_id.as_str() == student && c.source_id.as_str() == contact)
    }

    pub fn guardian_account(&self, source_id: &str) -> Option<&GuardianAccount> {
        self.guardian_accounts.get(source_id)
    }
}

/// Why a pull did not yield a roster.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The connector failed, as it may; the error is typed and names its endpoint.
    #[error(transparent)]
    Connector(ConnectorError),
    /// The connector broke the contract.
    #[error("contract broken: {0}")]
    Violation(String),
}

/// Reads `stream` to its end and checks it against the contract.
pub async fn collect(mut stream: RosterStream) -> Result<Roster, CollectError> {
    let violation = |m: String| CollectError::Violation(m);
    let mut roster = Roster::default();
    let mut tally = Tally::default();
    let mut declared = None;
    let mut students = BTreeSet::new();
    let mut contacts = BTreeSet::new();
    // Students of accounts sent on their own: merged once every account has arrived.
    let mut pairs: Vec<AccountStudent> = Vec::new();
    while let Some(item) = stream.next().await {
        let event = item.map_err(CollectError::Connector)?;
        if declared.is_some() {
            return Err(violation(format!("an event followed Complete: {event:?}")));
        }
        tally.add(&event);
        match event {
            RosterEvent::Schools(v) => roster.schools.extend(v),
            RosterEvent::Students(v) => {
                for s in v {
                    if !students.insert(s.source_id.as_str().to_owned()) {
                        return Err(violation(format!(
                            "student {} arrived twice",
                            s.source_id.as_str()
                        )));
                    }
                    roster.students.push(s);
                }
            }
            RosterEvent::Contacts(v) => {
                for c in v {
                    let key = (
                        c.student_source_id.as_str().to_owned(),
                        c.source_id.as_str().to_owned(),
                    );
                    if !contacts.insert(key) {
                        return Err(violation(format!(
                            "contact {} of student {} arrived twice",
                            c.source_id.as_str(),
                            c.student_source_id.as_str()
                        )));
                    }
                    roster.contacts.push(c);
                }
            }
            RosterEvent::GuardianAccounts(v) => {
                for a in v {
                    merge_account(&mut roster.guardian_accounts, a).map_err(violation)?;
                }
            }
            RosterEvent::AccountStudents(v) => pairs.extend(v),
            RosterEvent::Staff(v) => roster.staff.extend(v),
            RosterEvent::Classrooms(v) => roster.classrooms.extend(v),
            RosterEvent::Enrollments(v) => roster.enrollments.extend(v),
            RosterEvent::Warning(w) => roster.warnings.push(w),
            RosterEvent::Rejected(r) => roster.rejected.push(r),
            RosterEvent::Unavailable(u) if !u.kind.is_optional() => {
                return Err(violation(format!(
                    "a required kind was sent as unavailable: {u}"
                )))
            }
            RosterEvent::Unavailable(u) => roster.unavailable.push(u),
            RosterEvent::Complete(counts) => declared = Some(counts),
        }
    }
    for p in pairs {
        let Some(account) = roster
            .guardian_accounts
            .get_mut(p.account_source_id.as_str())
        else {
            return Err(violation(format!(
                "student {} was sent for guardian account {}, which never arrived",
                p.student_source_id.as_str(),
                p.account_source_id.as_str()
            )));
        };
        if !account.student_source_ids.contains(&p.student_source_id) {
            account.student_source_ids.push(p.student_source_id);
        }
    }
    let declared = declared.ok_or_else(|| violation("the stream ended without Complete".into()))?;
    let mismatches = tally.verify(&declared);
    if !mismatches.is_empty() {
        return Err(violation(format!(
            "declared counts disagree: {mismatches:?}"
        )));
    }
    roster.declared = declared;
    Ok(roster)
}

fn merge_account(
    accounts: &mut BTreeMap<String, GuardianAccount>,
    account: GuardianAccount,
) -> Result<(), String> {
    let id = account.source_id.as_str().to_owned();
    let Some(seen) = accounts.get_mut(&id) else {
        accounts.insert(id, account);
        return Ok(());
    };
    let mut same = account.clone();
    same.student_source_ids = seen.student_source_ids.clone();
    if &same != seen {
        return Err(format!("guardian account {id} differs between batches"));
    }
    for s in account.student_source_ids {
        if !seen.student_source_ids.contains(&s) {
            seen.student_source_ids.push(s);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::roster_stream;
    use model::ids::SourceId;

    fn account(students: &[&str], email: &str) -> GuardianAccount {
        GuardianAccount {
            phones: Vec::new(),
            source_id: SourceId::new("700"),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            email: email.into(),
            username: "pdoe".into(),
            home_phone: String::new(),
            mobile_phone: String::new(),
            mailing_address: None,
            physical_address: None,
            contact_source_ids: vec![],
            student_source_ids: students.iter().map(|s| SourceId::new(*s)).collect(),
        }
    }

    #[tokio::test]
    async fn accounts_merge_across_batches_and_counts_must_agree() {
        let stream = roster_stream(4, |sink| async move {
            sink.send(RosterEvent::GuardianAccounts(vec![account(&["1"], "p@x")]))
                .await?;
            sink.send(RosterEvent::GuardianAccounts(vec![account(&["2"], "p@x")]))
                .await?;
            let counts = PullCounts {
                guardian_accounts: 2,
                ..PullCounts::default()
            };
            sink.send(RosterEvent::Complete(counts)).await?;
            Ok(())
        });
        let roster = collect(stream).await.expect("conformant");
        let ids: Vec<&str> = roster.guardian_accounts["700"]
            .student_source_ids
            .iter()
            .map(SourceId::as_str)
            .collect();
        assert_eq!(ids, ["1", "2"]);

        let stream = roster_stream(4, |sink| async move {
            sink.send(RosterEvent::GuardianAccounts(vec![account(&["1"], "p@x")]))
                .await?;
            sink.send(RosterEvent::GuardianAccounts(vec![account(
                &["2"],
                "other@x",
            )]))
            .await?;
            sink.send(RosterEvent::Complete(PullCounts {
                guardian_accounts: 2,
                ..PullCounts::default()
            }))
            .await?;
            Ok(())
        });
        assert!(
            matches!(collect(stream).await, Err(CollectError::Violation(m)) if m.contains("differs"))
        );

        let stream = roster_stream(4, |sink| async move {
            sink.send(RosterEvent::GuardianAccounts(vec![account(&["1"], "p@x")]))
                .await?;
            sink.send(RosterEvent::Complete(PullCounts::default()))
                .await?;
            Ok(())
        });
        assert!(
            matches!(collect(stream).await, Err(CollectError::Violation(m)) if m.contains("counts"))
        );
    }

    #[tokio::test]
    async fn students_sent_apart_from_their_account_join_it() {
        let pair = |account: &str, student: &str| AccountStudent {
            account_source_id: SourceId::new(account),
            student_source_id: SourceId::new(student),
        };
        let stream = roster_stream(4, move |sink| async move {
            sink.send(RosterEvent::AccountStudents(vec![pair("700", "2")]))
                .await?;
            sink.send(RosterEvent::GuardianAccounts(vec![account(&["1"], "p@x")]))
                .await?;
            sink.send(RosterEvent::AccountStudents(vec![
                pair("700", "1"),
                pair("700", "3"),
            ]))
            .await?;
            sink.send(RosterEvent::Complete(PullCounts {
                guardian_accounts: 1,
                ..PullCounts::default()
            }))
            .await?;
            Ok(())
        });
        let roster = collect(stream).await.expect("conformant");
        let ids: Vec<&str> = roster.guardian_accounts["700"]
            .student_source_ids
            .iter()
            .map(SourceId::as_str)
            .collect();
        assert_eq!(ids, ["1", "2", "3"]);

        let stream = roster_stream(4, move |sink| async move {
            sink.send(RosterEvent::AccountStudents(vec![pair("701", "1")]))
                .await?;
            sink.send(RosterEvent::Complete(PullCounts::default()))
                .await?;
            Ok(())
        });
        assert!(
            matches!(collect(stream).await, Err(CollectError::Violation(m)) if m.contains("never arrived"))
        );
    }
}
