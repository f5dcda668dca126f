//! PowerSchool wire records → the common model. Pure functions, unit-tested here; the
//! client only fetches.
//!
//! Joins follow the PowerSchool 12+ contacts model (reference §8): a student's contacts
//! are its `studentcontactassoc` rows whose `studentcontactdetail` is active; a contact's
//! e-mails, phones and addresses hang off its `person` row through the `person…assoc`
//! tables; types are `codeset` ids. Values the model does not know (a new relationship
//! or phone type) map to `Other` and raise a warning; they never fail the pull.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use connector::{PullWarning, RecordKind, RejectedRecord};
use model::ids::SchoolId;
use model::ids::SourceId;
use model::roster::{
    Address, Contact, ContactType, EnrollmentStatus, Gender, Phone, PhoneType, Relationship, School,
};
use model::source::{GuardianAccount, SourceStudent};

use crate::fields;
use crate::wire::{self, Record};

/// Collects warnings about one endpoint's records.
#[derive(Debug, Default)]
pub struct Warnings(pub Vec<PullWarning>, pub Vec<RejectedRecord>);

impl Warnings {
    pub fn push(&mut self, endpoint: &str, record: &str, message: impl Into<String>) {
        self.0.push(PullWarning {
            endpoint: endpoint.to_owned(),
            record: record.to_owned(),
            message: message.into(),
        });
    }

    /// A record left out as malformed; it still counts against the declared count.
    pub fn reject(
        &mut self,
        kind: RecordKind,
        endpoint: &str,
        id: &str,
        reason: impl Into<String>,
    ) {
        self.1.push(RejectedRecord {
            kind,
            source_id: (!id.is_empty()).then(|| SourceId::new(id)),
            endpoint: endpoint.to_owned(),
            record: if id.is_empty() {
                "(no id)".to_owned()
            } else {
                id.to_owned()
            },
            reason: reason.into(),
        });
    }
}

/// Sort key for PowerSchool's numeric ids and orders: numbers first, by value.
pub fn numeric(s: &str) -> (i64, &str) {
    (s.trim().parse::<i64>().unwrap_or(i64::MAX), s)
}

/// The `codeset` table: id → code.
#[derive(Debug, Default, Clone)]
pub struct Codes {
    by_id: HashMap<String, String>,
}

impl Codes {
    pub fn from_records(records: &[Record]) -> Self {
        let t = fields::CODESET.table;
        Codes {
            by_id: records
                .iter()
                .map(|r| {
                    (
                        r.get(t, "codesetid").to_owned(),
                        r.get(t, "code").to_owned(),
                    )
                })
                .collect(),
        }
    }

    pub fn code(&self, id: &str) -> &str {
        self.by_id.get(id.trim()).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

pub fn school(w: &wire::School) -> School {
    School {
        id: SchoolId::new(),
        source_id: SourceId::new(w.id.as_str()),
        school_number: w.school_number.as_str().to_owned(),
        name: w.name.as_str().to_owned(),
        archived: false,
    }
}

/// PowerSchool enrollment codes (reference §3): 0 A, −1 P, 2 T, 3 G, 4 H, others I; the
/// status letter when the code is missing.
pub fn enrollment_status(e: &wire::SchoolEnrollment) -> Option<EnrollmentStatus> {
    if let Some(code) = e
        .enroll_status_code
        .as_ref()
        .filter(|c| !c.as_str().is_empty())
    {
        let code: i64 = code.as_str().parse().ok()?;
        return Some(match code {
            0 => EnrollmentStatus::Active,
            -1 => EnrollmentStatus::PreRegistered,
            2 => EnrollmentStatus::Transferred,
            3 => EnrollmentStatus::Graduated,
            4 => EnrollmentStatus::Historical,
            _ => EnrollmentStatus::Inactive,
        });
    }
    Some(
        match e.enroll_status.as_str().to_ascii_uppercase().as_str() {
            "A" => EnrollmentStatus::Active,
            "P" => EnrollmentStatus::PreRegistered,
            "T" => EnrollmentStatus::Transferred,
            "G" => EnrollmentStatus::Graduated,
            "H" => EnrollmentStatus::Historical,
            "I" => EnrollmentStatus::Inactive,
            _ => return None,
        },
    )
}

mod contacts;
mod guardians;
mod people;
mod students;

pub use contacts::*;
pub use guardians::*;
pub use people::*;
pub use students::*;

/// Records and code sets the mapping tests of every record kind build on.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::wire::RecordsAnswer;

    pub(crate) fn records(json: &str) -> Vec<Record> {
        serde_json::from_str::<RecordsAnswer>(json)
            .expect("records")
            .record
            .0
    }

    pub(crate) fn table(name: &str, rows: &[&[(&str, &str)]]) -> Vec<Record> {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|cols| {
                let cols: serde_json::Map<String, serde_json::Value> = cols
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                    .collect();
                serde_json::json!({ "id": 1, "name": name, "tables": { name: cols } })
            })
            .collect();
        records(&serde_json::json!({ "name": name, "record": rows }).to_string())
    }

    pub(crate) fn codes() -> Codes {
        Codes::from_records(&table(
            "codeset",
            &[
                &[
                    ("codesetid", "1"),
                    ("codetype", "Relationship"),
                    ("code", "Mother"),
                ],
                &[
                    ("codesetid", "2"),
                    ("codetype", "Relationship"),
                    ("code", "Probation Officer"),
                ],
                &[("codesetid", "10"), ("codetype", "Phone"), ("code", "Home")],
                &[
                    ("codesetid", "11"),
                    ("codetype", "Phone"),
                    ("code", "Mobile"),
                ],
                &[
                    ("codesetid", "12"),
                    ("codetype", "Phone"),
                    ("code", "Pager"),
                ],
                &[
                    ("codesetid", "20"),
                    ("codetype", "Address"),
                    ("code", "Home"),
                ],
                &[
                    ("codesetid", "21"),
                    ("codetype", "Address"),
                    ("code", "Mailing"),
                ],
                &[("codesetid", "30"), ("codetype", "State"), ("code", "AB")],
            ],
        ))
    }

    pub(crate) fn person_tables() -> PersonTables {
        PersonTables {
            person: table(
                "person",
                &[
                    &[("id", "501"), ("firstname", "Pat"), ("lastname", "Doe")],
                    &[("id", "502"), ("firstname", "Sam"), ("lastname", "Roe")],
                ],
            ),
            email_assoc: table(
                "personemailaddressassoc",
                &[
                    &[
                        ("personid", "501"),
                        ("emailaddressid", "2"),
                        ("emailaddresspriorityorder", "2"),
                    ],
                    &[
                        ("personid", "501"),
                        ("emailaddressid", "1"),
                        ("emailaddresspriorityorder", "1"),
                    ],
                    &[
                        ("personid", "502"),
                        ("emailaddressid", "3"),
                        ("emailaddresspriorityorder", "1"),
                    ],
                ],
            ),
            email: table(
                "emailaddress",
                &[
                    &[("emailaddressid", "1"), ("emailaddress", "pat@example.com")],
                    &[
                        ("emailaddressid", "2"),
                        ("emailaddress", "pat.work@example.com"),
                    ],
                    &[("emailaddressid", "3"), ("emailaddress", "sam@example.com")],
                ],
            ),
            phone_assoc: table(
                "personphonenumberassoc",
                &[
                    &[
                        ("personid", "501"),
                        ("phonenumberid", "8"),
                        ("phonetypecodesetid", "11"),
                        ("phonenumberpriorityorder", "2"),
                    ],
                    &[
                        ("personid", "501"),
                        ("phonenumberid", "7"),
                        ("phonetypecodesetid", "10"),
                        ("phonenumberpriorityorder", "1"),
                    ],
                    &[
                        ("personid", "502"),
                        ("phonenumberid", "9"),
                        ("phonetypecodesetid", "12"),
                        ("phonenumberpriorityorder", "1"),
                    ],
                ],
            ),
            phone: table(
                "phonenumber",
                &[
                    &[("phonenumberid", "7"), ("phonenumber", "403-555-0101")],
                    &[("phonenumberid", "8"), ("phonenumber", "403-555-0102")],
                    &[("phonenumberid", "9"), ("phonenumber", "403-555-0103")],
                ],
            ),
            address_assoc: table(
                "personaddressassoc",
                &[&[
                    ("personid", "501"),
                    ("personaddressid", "40"),
                    ("addresstypecodesetid", "20"),
                    ("addresspriorityorder", "1"),
                ]],
            ),
            address: table(
                "personaddress",
                &[&[
                    ("personaddressid", "40"),
                    ("street", "12 Elm St"),
                    ("city", "Calgary"),
                    ("statescodesetid", "30"),
                    ("postalcode", "T2P 1A1"),
                ]],
            ),
        }
    }
}
