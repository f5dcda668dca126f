//! A `guardians.csv` where a connector's pull would stand, read from the file a batch of
//! rows at a time: the students it names (and those holding links an earlier file made),
//! one contact per row, one guardian account per person — sent on the guardian's first
//! row, its students a row at a time beside it ([`connector::RosterEvent::AccountStudents`]) — and
//! the counts that declare it whole. Memory holds a batch, and the ids of the students
//! sent so far.

use std::collections::HashSet;
use std::sync::Arc;

use connector::{
    roster_stream, CheckReport, Connector, ConnectorError, PullCounts, PullStop, PullWarning,
    RosterEvent, RosterSink, RosterStream, UserRef, UserSnapshot,
};
use model::ids::{DistrictId, SourceId, StudentId};
use model::link::{LinkOrigin, IMPORT_SOURCE_PREFIX};
use model::roster::{Contact, Phone, PhoneType, Student};
use model::source::{AccountStudent, GuardianAccount, SourceStudent};
use store::Store;

use super::check::Checked;
use super::file::{Row, Rows};
use super::students::{name_students, Named, BATCH};
use super::upload::Upload;
use crate::EngineError;

/// Students of an earlier file read per page.
const EARLIER_PAGE: u64 = 500;

#[derive(Debug)]
pub struct ImportSource {
    store: Store,
    district: DistrictId,
    upload: Arc<Upload>,
    checked: Checked,
}

impl ImportSource {
    /// The source of a file that was checked whole (`checked` is what the check learned).
    pub(super) fn new(
        store: Store,
        district: DistrictId,
        upload: Arc<Upload>,
        checked: Checked,
    ) -> Self {
        ImportSource {
            store,
            district,
            upload,
            checked,
        }
    }
}

/// A failure while the file is read as a pull: the run fails, naming it.
fn failed(what: &str, e: impl std::fmt::Display) -> PullStop {
    PullStop::Failed(ConnectorError::Interrupted {
        endpoint: what.to_owned(),
        reason: e.to_string(),
    })
}

fn file_failed(e: EngineError) -> PullStop {
    failed("guardians.csv", e)
}

/// The guardian's source id: its key.
fn guardian_source(row: &Row) -> SourceId {
    SourceId::new(format!("{IMPORT_SOURCE_PREFIX}{}", row.guardian_key))
}

fn phones(row: &Row) -> Vec<Phone> {
    [
        (&row.sms_phone, PhoneType::Cell),
        (&row.home_phone, PhoneType::Home),
    ]
    .into_iter()
    .filter(|(number, _)| !number.is_empty())
    .map(|(number, kind)| Phone {
        number: number.clone(),
        kind,
    })
    .collect()
}

fn contact(row: &Row, student: &SourceId) -> Contact {
    Contact {
        source_id: guardian_source(row),
        student_source_id: student.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        emails: if row.email.is_empty() {
            Vec::new()
        } else {
            vec![row.email.clone()]
        },
        relationship: row.relationship.clone(),
        contact_type: row.contact_type.clone(),
        phones: phones(row),
        decision_making: None,
    }
}

/// The guardian's account, as its first row says it; its students are sent apart.
fn account(row: &Row) -> GuardianAccount {
    let source = guardian_source(row);
    GuardianAccount {
        source_id: source.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        email: row.email.clone(),
        username: String::new(),
        home_phone: row.home_phone.clone(),
        mobile_phone: row.sms_phone.clone(),
        mailing_address: None,
        physical_address: None,
        contact_source_ids: vec![source],
        student_source_ids: Vec::new(),
        phones: phones(row),
    }
}

/// What one batch of rows sends.
#[derive(Debug, Default)]
struct Batch {
    students: Vec<SourceStudent>,
    contacts: Vec<Contact>,
    accounts: Vec<GuardianAccount>,
    pairs: Vec<AccountStudent>,
}

impl Batch {
    /// Sends what the batch holds, and counts it.
    async fn send(self, sink: &RosterSink, counts: &mut PullCounts) -> Result<(), PullStop> {
        counts.students += self.students.len() as u64;
        counts.contacts += self.contacts.len() as u64;
        counts.guardian_accounts += self.accounts.len() as u64;
        if !self.students.is_empty() {
            sink.send(RosterEvent::Students(self.students)).await?;
        }
        if !self.contacts.is_empty() {
            sink.send(RosterEvent::Contacts(self.contacts)).await?;
        }
        if !self.accounts.is_empty() {
            sink.send(RosterEvent::GuardianAccounts(self.accounts))
                .await?;
        }
        if !self.pairs.is_empty() {
            sink.send(RosterEvent::AccountStudents(self.pairs)).await?;
        }
        Ok(())
    }
}

impl ImportSource {
    /// The whole pull: the file's rows, then the students of an earlier file it no
    /// longer names.
    async fn pull(&self, sink: RosterSink) -> Result<(), PullStop> {
        let mut counts = PullCounts::default();
        // The students sent so far: each is sent once.
        let mut named: HashSet<StudentId> = HashSet::new();
        let mut rows = Rows::open(&self.upload).map_err(file_failed)?;
        let mut n = 0u64;
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        loop {
            let row = rows.next_row().map_err(file_failed)?;
            let end = row.is_none();
            batch.extend(row);
            if batch.len() < BATCH && !end {
                continue;
            }
            let ids = batch.iter().map(|r| r.student_id.as_str()).collect();
            let students = name_students(&self.store, &self.district, ids)
                .await
                .map_err(|e| failed("the district's students", e))?;
            let mut out = Batch::default();
            for row in batch.drain(..) {
                if self.checked.is_first_of_guardian(n) {
                    out.accounts.push(account(&row));
                }
                n += 1;
                let Some(Named::One(student)) = students.get(&row.student_id) else {
                    // The student changed since the file was checked.
                    let message = format!(
                        "student id {:?} no longer names one student the district holds; the row is left out",
                        row.student_id
                    );
                    sink.send(RosterEvent::Warning(PullWarning {
                        endpoint: "guardians.csv".into(),
                        record: format!("line {}", row.line),
                        message,
                    }))
                    .await?;
                    continue;
                };
                if named.insert(student.id) {
                    out.students.push(crate::spot::source_of(student));
                }
                out.contacts.push(contact(&row, &student.source_id));
                out.pairs.push(AccountStudent {
                    account_source_id: guardian_source(&row),
                    student_source_id: student.source_id.clone(),
                });
            }
            out.send(&sink, &mut counts).await?;
            if end {
                break;
            }
        }
        self.earlier(&sink, &named, &mut counts).await?;
        sink.send(RosterEvent::Complete(counts)).await
    }

    /// Students holding a link an earlier file made, which this file does not name: a
    /// file that no longer lists them removes those links.
    async fn earlier(
        &self,
        sink: &RosterSink,
        named: &HashSet<StudentId>,
        counts: &mut PullCounts,
    ) -> Result<(), PullStop> {
        let read = |e: store::StoreError| failed("the district's students", e);
        let mut after = None;
        loop {
            let ids = self
                .store
                .students_with_links_of(&self.district, LinkOrigin::Import, after, EARLIER_PAGE)
                .await
                .map_err(read)?;
            let Some(last) = ids.last().copied() else {
                return Ok(());
            };
            after = Some(last);
            let unnamed: Vec<StudentId> = ids.into_iter().filter(|s| !named.contains(s)).collect();
            let students: Vec<Student> = self
                .store
                .students_by_id(&self.district, &unnamed)
                .await
                .map_err(read)?;
            let page = Batch {
                students: students.iter().map(crate::spot::source_of).collect(),
                ..Batch::default()
            };
            page.send(sink, counts).await?;
        }
    }
}

#[async_trait::async_trait]
impl Connector for ImportSource {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::GuardiansCsv
    }

    /// A file needs no connection.
    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        report.passed(
            "read the file",
            "the guardians.csv is read and its students resolved",
        );
        report
    }

    fn roster(&self) -> RosterStream {
        let source = ImportSource {
            store: self.store.clone(),
            district: self.district.clone(),
            upload: self.upload.clone(),
            checked: self.checked.clone(),
        };
        roster_stream(2, move |sink| async move { source.pull(sink).await })
    }

    /// One user at a time is the SIS's business, not a file's.
    async fn user(&self, _: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        Ok(None)
    }
}
