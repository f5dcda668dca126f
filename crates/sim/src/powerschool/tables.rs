//! The tables `/ws/schema/table` serves, as data: each is a name, its columns (first the
//! key) and a function reading its rows from the district. Adding a table is one more
//! entry in [`TABLES`]; the endpoint, filters, paging and grants work on any of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::data::*;
use super::query::Test;

/// Cell values in column order; `None` is a null, left out of the answer.
pub(super) type Row = Vec<Option<String>>;

/// A table as PowerSchool names it.
#[derive(Debug)]
pub(super) struct TableSpec {
    /// Lower-case, as in the URL and the answer.
    pub name: &'static str,
    /// As error messages spell it.
    pub canonical: &'static str,
    /// Canonical spellings; the first column is the key.
    pub columns: &'static [&'static str],
    pub rows: fn(&District) -> Vec<Row>,
}

/// Tables PowerSchool refuses on this endpoint (405).
pub(super) const NOT_SERVED: &[&str] = &["teachers"];

fn v(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

fn text(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn flag(value: bool) -> Option<String> {
    Some(if value { "1" } else { "0" }.to_owned())
}

fn date(value: chrono::NaiveDate) -> Option<String> {
    Some(value.format("%Y-%m-%d").to_string())
}

pub(super) const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "schools",
        canonical: "Schools",
        columns: &[
            "DCID",
            "ID",
            "School_Number",
            "Name",
            "Low_Grade",
            "High_Grade",
        ],
        rows: |d| {
            d.schools
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    vec![
                        v(s.dcid),
                        v(i + 1),
                        v(s.school_number),
                        text(&s.name),
                        v(s.low_grade),
                        v(s.high_grade),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "students",
        canonical: "Students",
        columns: &[
            "DCID",
            "ID",
            "Student_Number",
            "Student_Web_ID",
            "Web_ID",
            "State_StudentNumber",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "Gender",
            "DOB",
            "SchoolID",
            "Grade_Level",
            "Enroll_Status",
            "EntryDate",
            "ExitDate",
            "Home_Phone",
            "Street",
            "City",
            "State",
            "Zip",
            "Mailing_Street",
            "Mailing_City",
            "Mailing_State",
            "Mailing_Zip",
        ],
        rows: |d| {
            d.students
                .iter()
                .map(|s| {
                    let home = s.physical_address.as_ref();
                    let mail = s.mailing_address.as_ref();
                    vec![
                        v(s.dcid),
                        v(s.id),
                        v(s.local_id),
                        text(&s.student_username),
                        text(&s.web_id),
                        text(&s.state_province_id),
                        text(&s.first_name),
                        text(&s.middle_name),
                        text(&s.last_name),
                        text(&s.gender),
                        date(s.birth_date),
                        v(s.school_number),
                        v(s.grade_level),
                        v(s.enroll_status_code),
                        date(s.entry_date),
                        date(s.exit_date),
                        text(&s.home_phone),
                        home.and_then(|a| text(&a.street)),
                        home.and_then(|a| text(&a.city)),
                        home.and_then(|a| text(&a.state_province)),
                        home.and_then(|a| text(&a.postal_code)),
                        mail.and_then(|a| text(&a.street)),
                        mail.and_then(|a| text(&a.city)),
                        mail.and_then(|a| text(&a.state_province)),
                        mail.and_then(|a| text(&a.postal_code)),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "u_student",
        canonical: "U_Student",
        columns: &["StudentsDCID", "OrgEmail", "PersonalEmail"],
        rows: |d| {
            d.students
                .iter()
                .map(|s| {
                    vec![
                        v(s.dcid),
                        s.u_student.orgemail.clone(),
                        s.u_student.personalemail.clone(),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "s_ab_stu_x",
        canonical: "S_AB_STU_X",
        columns: &["StudentsDCID", "EnrlyType1", "EnrlyType2", "EnrlyType3"],
        rows: |d| {
            d.students
                .iter()
                .filter(|s| s.s_ab_stu_x != SAbStuX::default())
                .map(|s| {
                    let x = &s.s_ab_stu_x;
                    vec![
                        v(s.dcid),
                        x.enrlytype1.clone(),
                        x.enrlytype2.clone(),
                        x.enrlytype3.clone(),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "person",
        canonical: "Person",
        columns: &["ID", "FirstName", "LastName", "IsActive"],
        rows: |d| {
            d.persons
                .iter()
                .map(|p| {
                    vec![
                        v(p.id),
                        text(&p.first_name),
                        text(&p.last_name),
                        flag(p.is_active),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "studentcontactassoc",
        canonical: "StudentContactAssoc",
        columns: &[
            "StudentContactAssocID",
            "StudentDCID",
            "PersonID",
            "ContactPriorityOrder",
        ],
        rows: |d| {
            d.student_contact_assocs
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        v(a.student_dcid),
                        v(a.person_id),
                        v(a.contact_priority_order),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "studentcontactdetail",
        canonical: "StudentContactDetail",
        columns: &[
            "StudentContactDetailID",
            "StudentContactAssocID",
            "RelationshipTypeCodeSetID",
            "IsActive",
            "IsCustodial",
            "IsEmergency",
        ],
        rows: |d| {
            d.student_contact_details
                .iter()
                .map(|r| {
                    vec![
                        v(r.id),
                        v(r.student_contact_assoc_id),
                        v(r.relationship_type_codeset_id),
                        flag(r.is_active),
                        flag(r.is_custodial),
                        flag(r.is_emergency),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "u_studentcontactdetail",
        canonical: "U_StudentContactDetail",
        columns: &["StudentContactDetailID", "IsDecisionMaking"],
        rows: |d| {
            d.u_student_contact_details
                .iter()
                .map(|u| vec![v(u.student_contact_detail_id), flag(u.is_decision_making)])
                .collect()
        },
    },
    TableSpec {
        name: "personemailaddressassoc",
        canonical: "PersonEmailAddressAssoc",
        columns: &[
            "PersonEmailAddressAssocID",
            "PersonID",
            "EmailAddressID",
            "IsPrimaryEmailAddress",
            "EmailAddressPriorityOrder",
        ],
        rows: |d| {
            d.person_email_address_assocs
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        v(a.person_id),
                        v(a.email_address_id),
                        flag(a.is_primary),
                        v(a.priority_order),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "emailaddress",
        canonical: "EmailAddress",
        columns: &["EmailAddressID", "EmailAddress"],
        rows: |d| {
            d.email_addresses
                .iter()
                .map(|e| vec![v(e.id), text(&e.address)])
                .collect()
        },
    },
    TableSpec {
        name: "personphonenumberassoc",
        canonical: "PersonPhoneNumberAssoc",
        columns: &[
            "PersonPhoneNumberAssocID",
            "PersonID",
            "PhoneNumberID",
            "PhoneTypeCodeSetID",
            "IsPreferred",
            "PhoneNumberPriorityOrder",
        ],
        rows: |d| {
            d.person_phone_number_assocs
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        v(a.person_id),
                        v(a.phone_number_id),
                        v(a.phone_type_codeset_id),
                        flag(a.is_preferred),
                        v(a.priority_order),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "phonenumber",
        canonical: "PhoneNumber",
        columns: &["PhoneNumberID", "PhoneNumber"],
        rows: |d| {
            d.phone_numbers
                .iter()
                .map(|p| vec![v(p.id), text(&p.number)])
                .collect()
        },
    },
    TableSpec {
        name: "personaddressassoc",
        canonical: "PersonAddressAssoc",
        columns: &[
            "PersonAddressAssocID",
            "PersonID",
            "PersonAddressID",
            "AddressTypeCodeSetID",
            "AddressPriorityOrder",
        ],
        rows: |d| {
            d.person_address_assocs
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        v(a.person_id),
                        v(a.person_address_id),
                        v(a.address_type_codeset_id),
                        v(a.priority_order),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "personaddress",
        canonical: "PersonAddress",
        columns: &[
            "PersonAddressID",
            "Street",
            "City",
            "StatesCodeSetID",
            "PostalCode",
        ],
        rows: |d| {
            d.person_addresses
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        text(&a.street),
                        text(&a.city),
                        v(a.state_codeset_id),
                        text(&a.postal_code),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "codeset",
        canonical: "CodeSet",
        columns: &["CodeSetID", "CodeType", "Code"],
        rows: |d| {
            d.codesets
                .iter()
                .map(|c| vec![v(c.id), text(&c.code_type), text(&c.code)])
                .collect()
        },
    },
    TableSpec {
        name: "guardian",
        canonical: "Guardian",
        columns: &[
            "GuardianID",
            "FirstName",
            "LastName",
            "State_GuardianNumber",
            "AccountIdentifier",
        ],
        rows: |d| {
            d.guardians
                .iter()
                .map(|g| {
                    vec![
                        v(g.id),
                        text(&g.first_name),
                        text(&g.last_name),
                        text(&g.state_guardian_number),
                        text(&g.account_identifier),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "pcas_account",
        canonical: "PCAS_Account",
        columns: &[
            "PCAS_AccountID",
            "PCAS_AccountToken",
            "Username",
            "IsEnabled",
        ],
        rows: |d| {
            d.pcas_accounts
                .iter()
                .map(|a| {
                    vec![
                        v(a.id),
                        text(&a.account_token),
                        text(&a.username),
                        flag(a.is_enabled),
                    ]
                })
                .collect()
        },
    },
    TableSpec {
        name: "pcas_emailcontact",
        canonical: "PCAS_EmailContact",
        columns: &["PCAS_EmailContactID", "PCAS_AccountID", "EmailAddress"],
        rows: |d| {
            d.pcas_email_contacts
                .iter()
                .map(|e| vec![v(e.id), v(e.pcas_account_id), text(&e.email_address)])
                .collect()
        },
    },
    TableSpec {
        name: "guardianpersonassoc",
        canonical: "GuardianPersonAssoc",
        columns: &["GuardianPersonAssocID", "GuardianID", "PersonID"],
        rows: |d| {
            d.guardian_person_assocs
                .iter()
                .map(|a| vec![v(a.id), v(a.guardian_id), v(a.person_id)])
                .collect()
        },
    },
    TableSpec {
        name: "guardianstudent",
        canonical: "GuardianStudent",
        columns: &["GuardianStudentID", "GuardianID", "StudentsDCID"],
        rows: |d| {
            d.guardian_students
                .iter()
                .map(|a| vec![v(a.id), v(a.guardian_id), v(a.student_dcid)])
                .collect()
        },
    },
];

/// The table spec of a name, case-insensitively.
pub(super) fn spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// A table read from the district at one generation, rows in key order, with a lazily
/// built value index per column for `==` lookups.
#[derive(Debug)]
pub(super) struct Table {
    /// Lower-case column names.
    pub columns: Vec<String>,
    pub keys: Vec<u64>,
    pub rows: Vec<Row>,
    indexes: Vec<OnceLock<HashMap<String, Vec<u32>>>>,
}

impl Table {
    fn build(spec: &'static TableSpec, district: &District) -> Table {
        let mut rows: Vec<(u64, Row)> = (spec.rows)(district)
            .into_iter()
            .map(|row| {
                let key = row
                    .first()
                    .and_then(|k| k.as_deref())
                    .and_then(|k| k.parse().ok())
                    .unwrap_or(0);
                (key, row)
            })
            .collect();
        rows.sort_by_key(|(key, _)| *key);
        let (keys, rows) = rows.into_iter().unzip();
        Table {
            columns: spec
                .columns
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect(),
            keys,
            rows,
            indexes: spec.columns.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn index(&self, column: usize) -> Option<&HashMap<String, Vec<u32>>> {
        let cell = self.indexes.get(column)?;
        Some(cell.get_or_init(|| {
            let mut index: HashMap<String, Vec<u32>> = HashMap::new();
            for (i, row) in self.rows.iter().enumerate() {
                if let Some(Some(value)) = row.get(column) {
                    index.entry(value.clone()).or_default().push(i as u32);
                }
            }
            index
        }))
    }

    /// Rows (by position, in key order) whose every filter column holds one of its values.
    pub fn select(&self, filters: &[(usize, Test)]) -> Vec<usize> {
        // An equality on an indexed column picks the candidates; the rest test each row.
        let indexed = filters.iter().find_map(|(column, test)| match test {
            Test::In(values) => self.index(*column).map(|index| (index, values)),
            _ => None,
        });
        let mut hits: Vec<usize> = match indexed {
            Some((index, values)) => values
                .iter()
                .filter_map(|value| index.get(value))
                .flatten()
                .map(|&i| i as usize)
                .collect(),
            None if filters.is_empty() => return (0..self.rows.len()).collect(),
            None => (0..self.rows.len()).collect(),
        };
        hits.sort_unstable();
        hits.dedup();
        hits.retain(|&i| {
            filters.iter().all(|(column, test)| {
                let cell = self.rows[i].get(*column).and_then(|c| c.as_deref());
                cell.is_some_and(|cell| test.admits(cell))
            })
        });
        hits
    }
}

/// Tables built from the district, kept until the district changes.
#[derive(Debug, Default)]
pub(super) struct TableCache {
    tables: Mutex<HashMap<&'static str, (u64, Arc<Table>)>>,
}

impl TableCache {
    /// The table at this generation of the district, built on first use.
    pub fn get(
        &self,
        spec: &'static TableSpec,
        generation: u64,
        district: &District,
    ) -> Arc<Table> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((built, table)) = tables.get(spec.name) {
            if *built == generation {
                return Arc::clone(table);
            }
        }
        let table = Arc::new(Table::build(spec, district));
        tables.insert(spec.name, (generation, Arc::clone(&table)));
        table
    }
}
