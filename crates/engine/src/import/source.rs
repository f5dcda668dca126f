//! A `guardians.csv` where a connector's pull would stand: the students it names (and
//! those holding links an earlier file made), one contact per row, one guardian account
//! per person, and the counts that declare it whole.

use std::collections::BTreeMap;

use connector::{
    roster_stream, CheckReport, Connector, ConnectorError, PullCounts, RosterEvent, RosterStream,
    UserRef, UserSnapshot,
};
use model::ids::SourceId;
use model::link::IMPORT_SOURCE_PREFIX;
use model::roster::{Contact, Phone, PhoneType, Student};
use model::source::{GuardianAccount, SourceStudent};

use super::file::Row;

/// Records per batch.
const BATCH: usize = 1000;

#[derive(Debug)]
pub struct ImportSource {
    students: Vec<SourceStudent>,
    contacts: Vec<Contact>,
    accounts: Vec<GuardianAccount>,
}

impl ImportSource {
    /// The source of `rows`, whose student ids `students` resolves; `earlier` are the
    /// students holding links an earlier file made.
    pub fn new(rows: &[Row], students: &BTreeMap<String, Student>, earlier: Vec<Student>) -> Self {
        let mut listed: BTreeMap<SourceId, SourceStudent> = BTreeMap::new();
        for s in students.values().chain(earlier.iter()) {
            listed
                .entry(s.source_id.clone())
                .or_insert_with(|| crate::spot::source_of(s));
        }
        let mut contacts = Vec::with_capacity(rows.len());
        let mut accounts: BTreeMap<String, GuardianAccount> = BTreeMap::new();
        for r in rows {
            let Some(student) = students.get(&r.student_id) else {
                continue;
            };
            let source = SourceId::new(format!("{IMPORT_SOURCE_PREFIX}{}", r.guardian_key));
            let mut phones = Vec::new();
            for (number, kind) in [
                (&r.sms_phone, PhoneType::Cell),
                (&r.home_phone, PhoneType::Home),
            ] {
                if !number.is_empty() {
                    phones.push(Phone {
                        number: number.clone(),
                        kind,
                    });
                }
            }
            contacts.push(Contact {
                source_id: source.clone(),
                student_source_id: student.source_id.clone(),
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                emails: if r.email.is_empty() {
                    Vec::new()
                } else {
                    vec![r.email.clone()]
                },
                relationship: r.relationship.clone(),
                contact_type: r.contact_type.clone(),
                phones: phones.clone(),
                decision_making: None,
            });
            let account =
                accounts
                    .entry(r.guardian_key.clone())
                    .or_insert_with(|| GuardianAccount {
                        source_id: source.clone(),
                        first_name: r.first_name.clone(),
                        last_name: r.last_name.clone(),
                        email: r.email.clone(),
                        username: String::new(),
                        home_phone: r.home_phone.clone(),
                        mobile_phone: r.sms_phone.clone(),
                        mailing_address: None,
                        physical_address: None,
                        contact_source_ids: vec![source.clone()],
                        student_source_ids: Vec::new(),
                        phones,
                    });
            account.student_source_ids.push(student.source_id.clone());
        }
        let accounts = accounts
            .into_values()
            .map(|mut a| {
                a.student_source_ids.sort();
                a.student_source_ids.dedup();
                a
            })
            .collect();
        ImportSource {
            students: listed.into_values().collect(),
            contacts,
            accounts,
        }
    }
}

#[async_trait::async_trait]
impl Connector for ImportSource {
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
        let (students, contacts, accounts) = (
            self.students.clone(),
            self.contacts.clone(),
            self.accounts.clone(),
        );
        roster_stream(2, |sink| async move {
            let counts = PullCounts {
                students: students.len() as u64,
                contacts: contacts.len() as u64,
                guardian_accounts: accounts.len() as u64,
                ..PullCounts::default()
            };
            for batch in students.chunks(BATCH) {
                sink.send(RosterEvent::Students(batch.to_vec())).await?;
            }
            for batch in contacts.chunks(BATCH) {
                sink.send(RosterEvent::Contacts(batch.to_vec())).await?;
            }
            for batch in accounts.chunks(BATCH) {
                sink.send(RosterEvent::GuardianAccounts(batch.to_vec()))
                    .await?;
            }
            sink.send(RosterEvent::Complete(counts)).await?;
            Ok(())
        })
    }

    /// One user at a time is the SIS's business, not a file's.
    async fn user(&self, _: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        Ok(None)
    }
}
