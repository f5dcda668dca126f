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

/// The enrollment type that marks an independent student (seed 001 fetch 3).
pub const INDEPENDENT_ENROLLMENT_TYPE: &str = "121";

/// A `/ws/v1` student with its legacy web access id. `None` (with a warning) when the
/// record lacks what a student must have: an id, a name and an enrollment status.
pub fn student(
    w: &wire::Student,
    web_id: &str,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<SourceStudent> {
    let id = w.id.as_str();
    let name = w.name.0.clone().unwrap_or_default();
    let enrollment = w.school_enrollment.0.clone().unwrap_or_default();
    let demographics = w.demographics.0.clone().unwrap_or_default();
    let reject = |warnings: &mut Warnings, why: String| {
        warnings.reject(RecordKind::Student, endpoint, id, why);
        None
    };
    if id.is_empty() {
        return reject(warnings, "the student has no id".into());
    }
    let Some(status) = enrollment_status(&enrollment) else {
        return reject(
            warnings,
            "the student has no readable enrollment status".into(),
        );
    };
    let birth = demographics.birth_date.as_str();
    let birth_date = match birth {
        "" => None,
        raw => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return reject(warnings, format!("birth date {raw:?} is not YYYY-MM-DD")),
        },
    };
    let gender = Gender::parse(demographics.gender.as_str());
    if gender.is_other() {
        warnings.push(
            endpoint,
            id,
            format!("unknown gender {:?} kept as other", gender.as_str()),
        );
    }
    let ext = w.extension_data.0.clone().unwrap_or_default();
    let independent_student = (1..=3).any(|i| {
        ext.value("s_ab_stu_x", &format!("enrlytype{i}")) == Some(INDEPENDENT_ENROLLMENT_TYPE)
    });
    let school = enrollment.school_id.as_str();
    // The legal name, falling back to the `Students` (preferred) name where blank, as
    // PowerSchool's own pages do.
    let legal = |field: &str, preferred: &wire::Text| {
        ext.value("studentcorefields", field)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| preferred.as_str())
            .to_owned()
    };
    let mapped = SourceStudent {
        source_id: SourceId::new(id),
        student_number: w.local_id.as_str().to_owned(),
        sis_id: String::new(),
        state_id: w.state_province_id.as_str().to_owned(),
        legal_first_name: legal("pscore_legal_first_name", &name.first_name),
        legal_last_name: legal("pscore_legal_last_name", &name.last_name),
        middle_name: legal("pscore_legal_middle_name", &name.middle_name),
        birth_date,
        gender,
        school_source_id: (!school.is_empty()).then(|| SourceId::new(school)),
        grade: enrollment.grade_level.as_str().to_owned(),
        enrollment_status: status,
        independent_student,
        org_email: ext
            .value("u_student", "orgemail")
            .unwrap_or_default()
            .to_owned(),
        personal_email: ext
            .value("u_student", "personalemail")
            .unwrap_or_default()
            .to_owned(),
        web_id: web_id.to_owned(),
        email: w
            .contact_info
            .0
            .as_ref()
            .map(|c| c.email.as_str().to_owned())
            .unwrap_or_default(),
        home_phone: w
            .phones
            .0
            .as_ref()
            .and_then(|p| p.main.0.as_ref())
            .map(|n| n.number.as_str().to_owned())
            .unwrap_or_default(),
        mailing_address: w.addresses.0.as_ref().and_then(|a| postal(&a.mailing)),
        physical_address: w.addresses.0.as_ref().and_then(|a| postal(&a.physical)),
    };
    match model::validate::student(&mapped, chrono::Utc::now().date_naive()) {
        Ok(()) => Some(mapped),
        Err(why) => reject(warnings, why),
    }
}

fn postal(a: &wire::Expansion<wire::PostalAddress>) -> Option<Address> {
    let a = a.0.as_ref()?;
    let address = Address {
        street: a.street.as_str().to_owned(),
        city: a.city.as_str().to_owned(),
        region: a.state_province.as_str().to_owned(),
        postal_code: a.postal_code.as_str().to_owned(),
    };
    (!address.is_empty()).then_some(address)
}

/// What the person tables say about one person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonInfo {
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub mailing_address: Option<Address>,
    pub physical_address: Option<Address>,
}

/// The person tables of one batch.
#[derive(Debug, Default)]
pub struct PersonTables {
    pub person: Vec<Record>,
    pub email_assoc: Vec<Record>,
    pub email: Vec<Record>,
    pub phone_assoc: Vec<Record>,
    pub phone: Vec<Record>,
    pub address_assoc: Vec<Record>,
    pub address: Vec<Record>,
}

/// Joins the person tables into one [`PersonInfo`] per person id.
pub fn people(
    t: &PersonTables,
    codes: &Codes,
    warnings: &mut Warnings,
) -> HashMap<String, PersonInfo> {
    use fields::*;
    let mut out: HashMap<String, PersonInfo> = t
        .person
        .iter()
        .map(|r| {
            let p = PERSON.table;
            (
                r.get(p, "id").to_owned(),
                PersonInfo {
                    first_name: r.get(p, "firstname").to_owned(),
                    last_name: r.get(p, "lastname").to_owned(),
                    ..PersonInfo::default()
                },
            )
        })
        .collect();

    let emails: HashMap<&str, &str> = t
        .email
        .iter()
        .map(|r| {
            (
                r.get(EMAIL_ADDRESS.table, "emailaddressid"),
                r.get(EMAIL_ADDRESS.table, "emailaddress"),
            )
        })
        .collect();
    let mut email_assoc: Vec<&Record> = t.email_assoc.iter().collect();
    let ea = PERSON_EMAIL_ADDRESS_ASSOC.table;
    email_assoc.sort_by(|a, b| {
        numeric(a.get(ea, "emailaddresspriorityorder"))
            .cmp(&numeric(b.get(ea, "emailaddresspriorityorder")))
    });
    for r in email_assoc {
        let (Some(person), Some(email)) = (
            out.get_mut(r.get(ea, "personid")),
            emails.get(r.get(ea, "emailaddressid")),
        ) else {
            continue;
        };
        if !email.is_empty() {
            person.emails.push((*email).to_owned());
        }
    }

    let numbers: HashMap<&str, &str> = t
        .phone
        .iter()
        .map(|r| {
            (
                r.get(PHONE_NUMBER.table, "phonenumberid"),
                r.get(PHONE_NUMBER.table, "phonenumber"),
            )
        })
        .collect();
    let pa = PERSON_PHONE_NUMBER_ASSOC.table;
    let mut phone_assoc: Vec<&Record> = t.phone_assoc.iter().collect();
    phone_assoc.sort_by(|a, b| {
        numeric(a.get(pa, "phonenumberpriorityorder"))
            .cmp(&numeric(b.get(pa, "phonenumberpriorityorder")))
    });
    for r in phone_assoc {
        let person_id = r.get(pa, "personid");
        let (Some(person), Some(number)) = (
            out.get_mut(person_id),
            numbers.get(r.get(pa, "phonenumberid")),
        ) else {
            continue;
        };
        let code = codes.code(r.get(pa, "phonetypecodesetid"));
        let kind = PhoneType::parse(code);
        if kind.is_other() {
            warnings.push(
                &PERSON_PHONE_NUMBER_ASSOC.path(),
                person_id,
                format!("unknown phone type {code:?} kept as other"),
            );
        }
        if !number.is_empty() {
            person.phones.push(Phone {
                number: (*number).to_owned(),
                kind,
            });
        }
    }

    let addresses: HashMap<&str, &Record> = t
        .address
        .iter()
        .map(|r| (r.get(PERSON_ADDRESS.table, "personaddressid"), r))
        .collect();
    let aa = PERSON_ADDRESS_ASSOC.table;
    let mut address_assoc: Vec<&Record> = t.address_assoc.iter().collect();
    address_assoc.sort_by(|a, b| {
        numeric(a.get(aa, "addresspriorityorder")).cmp(&numeric(b.get(aa, "addresspriorityorder")))
    });
    for r in address_assoc {
        let person_id = r.get(aa, "personid");
        let (Some(person), Some(a)) = (
            out.get_mut(person_id),
            addresses.get(r.get(aa, "personaddressid")),
        ) else {
            continue;
        };
        let pa = PERSON_ADDRESS.table;
        let address = Address {
            street: a.get(pa, "street").to_owned(),
            city: a.get(pa, "city").to_owned(),
            region: codes.code(a.get(pa, "statescodesetid")).to_owned(),
            postal_code: a.get(pa, "postalcode").to_owned(),
        };
        let code = codes.code(r.get(aa, "addresstypecodesetid"));
        let slot = match code.to_ascii_lowercase().as_str() {
            "mailing" => &mut person.mailing_address,
            "home" | "physical" | "residence" => &mut person.physical_address,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(address);
        }
    }
    out
}

/// The contact tables of one batch.
#[derive(Debug, Default)]
pub struct ContactTables {
    pub assoc: Vec<Record>,
    pub detail: Vec<Record>,
    pub u_detail: Vec<Record>,
}

/// The current contacts of the batch's students: one per `studentcontactassoc` whose
/// first active `studentcontactdetail` exists. Decision-making is true only when the
/// detail's `u_studentcontactdetail.isdecisionmaking` is 1 (seed 001 rule 4: a missing
/// row is not 1).
pub fn contacts(
    t: &ContactTables,
    people: &HashMap<String, PersonInfo>,
    codes: &Codes,
    warnings: &mut Warnings,
) -> Vec<Contact> {
    use fields::*;
    let (a, d, u) = (
        STUDENT_CONTACT_ASSOC.table,
        STUDENT_CONTACT_DETAIL.table,
        U_STUDENT_CONTACT_DETAIL.table,
    );
    let mut active: BTreeMap<&str, &Record> = BTreeMap::new();
    let mut details: Vec<&Record> = t
        .detail
        .iter()
        .filter(|r| r.get(d, "isactive") == "1")
        .collect();
    details.sort_by(|x, y| {
        numeric(x.get(d, "studentcontactdetailid"))
            .cmp(&numeric(y.get(d, "studentcontactdetailid")))
    });
    for r in details {
        active.entry(r.get(d, "studentcontactassocid")).or_insert(r);
    }
    let decision: HashMap<&str, bool> = t
        .u_detail
        .iter()
        .map(|r| {
            (
                r.get(u, "studentcontactdetailid"),
                r.get(u, "isdecisionmaking") == "1",
            )
        })
        .collect();
    let mut assoc: Vec<&Record> = t.assoc.iter().collect();
    assoc.sort_by(|x, y| {
        (
            numeric(x.get(a, "studentdcid")),
            numeric(x.get(a, "contactpriorityorder")),
        )
            .cmp(&(
                numeric(y.get(a, "studentdcid")),
                numeric(y.get(a, "contactpriorityorder")),
            ))
    });
    let mut out = Vec::with_capacity(assoc.len());
    for r in assoc {
        let assoc_id = r.get(a, "studentcontactassocid");
        let Some(detail) = active.get(assoc_id) else {
            continue;
        };
        let person_id = r.get(a, "personid");
        let Some(person) = people.get(person_id) else {
            warnings.push(
                &STUDENT_CONTACT_ASSOC.path(),
                assoc_id,
                format!("contact person {person_id} not found; contact skipped"),
            );
            continue;
        };
        let code = codes.code(detail.get(d, "relationshiptypecodesetid"));
        let relationship = Relationship::parse(code);
        if relationship.is_other() {
            warnings.push(
                &STUDENT_CONTACT_DETAIL.path(),
                detail.get(d, "studentcontactdetailid"),
                format!("unknown relationship {code:?} kept as other"),
            );
        }
        let contact_type = if detail.get(d, "iscustodial") == "1" {
            ContactType::Guardian
        } else if detail.get(d, "isemergency") == "1" {
            ContactType::Emergency
        } else {
            ContactType::parse("contact")
        };
        out.push(Contact {
            source_id: SourceId::new(person_id),
            student_source_id: SourceId::new(r.get(a, "studentdcid")),
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            emails: person.emails.clone(),
            relationship,
            contact_type,
            phones: person.phones.clone(),
            decision_making: Some(
                decision
                    .get(detail.get(d, "studentcontactdetailid"))
                    .copied()
                    .unwrap_or(false),
            ),
        });
    }
    out
}

/// The guardian accounts of `student_guardian_detail` rows, one per guardian with the
/// students it was listed for; its contact persons come from `guardianpersonassoc`, and
/// its phones and addresses from the first of them.
pub fn guardian_accounts(
    rows: &[Record],
    guardian_person: &[Record],
    people: &HashMap<String, PersonInfo>,
) -> Vec<GuardianAccount> {
    let gpa = fields::GUARDIAN_PERSON_ASSOC.table;
    let mut persons: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in guardian_person {
        persons
            .entry(r.get(gpa, "guardianid"))
            .or_default()
            .push(r.get(gpa, "personid"));
    }
    let mut order: Vec<&str> = Vec::new();
    let mut students: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut first: HashMap<&str, &Record> = HashMap::new();
    for r in rows {
        let gid = r.get("guardian", "guardianid");
        if gid.is_empty() {
            continue;
        }
        if !first.contains_key(gid) {
            first.insert(gid, r);
            order.push(gid);
        }
        students
            .entry(gid)
            .or_default()
            .push(r.get("students", "dcid"));
    }
    order
        .into_iter()
        .map(|gid| {
            let r = first[gid];
            let mut contact_ids: Vec<&str> = persons.get(gid).cloned().unwrap_or_default();
            contact_ids.sort_by_key(|p| numeric(p));
            contact_ids.dedup();
            let mut student_ids: Vec<&str> = students.remove(gid).unwrap_or_default();
            student_ids.retain(|s| !s.is_empty());
            student_ids.sort_by_key(|s| numeric(s));
            student_ids.dedup();
            let person = contact_ids.first().and_then(|p| people.get(*p));
            let phone = |kind: PhoneType| {
                person
                    .and_then(|p| p.phones.iter().find(|ph| ph.kind == kind))
                    .map(|ph| ph.number.clone())
                    .unwrap_or_default()
            };
            GuardianAccount {
                source_id: SourceId::new(gid),
                first_name: r.get("guardian", "firstname").to_owned(),
                last_name: r.get("guardian", "lastname").to_owned(),
                email: r.get("pcas_emailcontact", "emailaddress").to_owned(),
                username: r.get("pcas_account", "username").to_owned(),
                home_phone: phone(PhoneType::Home),
                mobile_phone: phone(PhoneType::Cell),
                mailing_address: person.and_then(|p| p.mailing_address.clone()),
                physical_address: person.and_then(|p| p.physical_address.clone()),
                contact_source_ids: contact_ids.into_iter().map(SourceId::new).collect(),
                student_source_ids: student_ids.into_iter().map(SourceId::new).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{RecordsAnswer, StudentsAnswer};

    fn records(json: &str) -> Vec<Record> {
        serde_json::from_str::<RecordsAnswer>(json)
            .expect("records")
            .record
            .0
    }

    fn table(name: &str, rows: &[&[(&str, &str)]]) -> Vec<Record> {
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

    fn codes() -> Codes {
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

    const STUDENT: &str = r#"{"students":{"student":{"id":4101,"local_id":200311,"student_username":"jdoe311",
        "state_province_id":"123456789","name":{"first_name":"Jamie","middle_name":"Lee","last_name":"Doe"},
        "demographics":{"gender":"F","birth_date":"2012-04-09"},
        "addresses":{"physical":{"street":"12 Elm St","city":"Calgary","state_province":"AB","postal_code":"T2P 1A1"}},
        "phones":{"main":{"number":"403-555-0199"}},"contact_info":{"email":"jdoe311@district.example"},
        "school_enrollment":{"enroll_status":"P","enroll_status_code":-1,"grade_level":7,"school_id":17,"school_number":1201},
        "_extension_data":{"_table_extension":[
          {"name":"u_student","recordFound":false,"_field":[{"name":"orgemail","type":"String","value":"jdoe311@district.example"},
            {"name":"personalemail","type":"String","value":"jamie@example.com"}]},
          {"name":"s_ab_stu_x","recordFound":false,"_field":{"name":"enrlytype3","type":"String","value":"121"}}]}}}}"#;

    #[test]
    fn a_student_maps_every_field_of_seed_000() {
        let answer: StudentsAnswer = serde_json::from_str(STUDENT).expect("parses");
        let mut w = Warnings::default();
        let s = student(&answer.students.student.0[0], "pdoe", "GET /x", &mut w).expect("mapped");
        assert!(w.0.is_empty(), "{:?}", w.0);
        assert_eq!(s.source_id.as_str(), "4101");
        assert_eq!(s.student_number, "200311");
        assert_eq!(s.state_id, "123456789");
        assert_eq!(
            (
                s.legal_first_name.as_str(),
                s.middle_name.as_str(),
                s.legal_last_name.as_str()
            ),
            ("Jamie", "Lee", "Doe")
        );
        assert_eq!(s.birth_date, NaiveDate::from_ymd_opt(2012, 4, 9));
        assert_eq!(s.gender, Gender::Female);
        assert_eq!(s.school_source_id, Some(SourceId::new("17")));
        assert_eq!(s.grade, "7");
        assert_eq!(s.enrollment_status, EnrollmentStatus::PreRegistered);
        assert!(s.independent_student, "enrlytype3 = 121");
        assert_eq!(s.org_email, "jdoe311@district.example");
        assert_eq!(s.personal_email, "jamie@example.com");
        assert_eq!(s.web_id, "pdoe");
        assert_eq!(s.email, "jdoe311@district.example");
        assert_eq!(s.home_phone, "403-555-0199");
        assert_eq!(s.mailing_address, None);
        assert_eq!(
            s.physical_address
                .as_ref()
                .map(|a| (a.city.as_str(), a.region.as_str())),
            Some(("Calgary", "AB"))
        );
    }

    #[test]
    fn legal_names_come_from_studentcorefields_and_fall_back_where_blank() {
        let json = STUDENT.replace(
            r#"{"name":"s_ab_stu_x""#,
            r#"{"name":"studentcorefields","recordFound":false,"_field":[
                {"name":"pscore_legal_first_name","type":"String","value":"Jameson"},
                {"name":"pscore_legal_middle_name","type":"String","value":"  "},
                {"name":"pscore_legal_last_name","type":"String","value":"Doe-Okafor"}]},
              {"name":"s_ab_stu_x""#,
        );
        assert_ne!(json, STUDENT, "the extension was added");
        let answer: StudentsAnswer = serde_json::from_str(&json).expect("parses");
        let mut w = Warnings::default();
        let s = student(&answer.students.student.0[0], "", "GET /x", &mut w).expect("mapped");
        assert_eq!(
            (
                s.legal_first_name.as_str(),
                s.middle_name.as_str(),
                s.legal_last_name.as_str()
            ),
            ("Jameson", "Lee", "Doe-Okafor"),
            "legal first and last; a blank legal middle name falls back to Students'"
        );
    }

    #[test]
    fn odd_student_values_warn_and_malformed_ones_are_rejected_by_themselves() {
        let json = r#"{"students":{"student":[
            {"id":1,"name":{"first_name":"A","last_name":"B"},"demographics":{"gender":"Q"},
             "school_enrollment":{"enroll_status":"A"}},
            {"id":2,"name":{"first_name":"C","last_name":"D"},"school_enrollment":""},
            {"id":3,"name":{"first_name":"E","last_name":"F"},"demographics":{"birth_date":"09/04/2012"},
             "school_enrollment":{"enroll_status":"A"}},
            {"id":4,"name":{"first_name":"","last_name":""},"school_enrollment":{"enroll_status":"A"}},
            {"id":5,"name":{"first_name":"G","last_name":"H"},"demographics":{"birth_date":"3000-01-01"},
             "school_enrollment":{"enroll_status":"A"}}]}}"#;
        let answer: StudentsAnswer = serde_json::from_str(json).expect("parses");
        let mut w = Warnings::default();
        let mapped: Vec<_> = answer
            .students
            .student
            .0
            .iter()
            .filter_map(|s| student(s, "", "GET /x", &mut w))
            .collect();
        assert_eq!(mapped.len(), 1);
        assert_eq!(
            mapped[0].enrollment_status,
            EnrollmentStatus::Active,
            "letter fallback"
        );
        assert_eq!(mapped[0].gender, Gender::Other("Q".into()));
        assert_eq!(w.0.len(), 1, "one warning, the unknown gender: {:?}", w.0);
        let rejected: Vec<_> =
            w.1.iter()
                .map(|r| (r.record.as_str(), r.reason.as_str()))
                .collect();
        assert_eq!(rejected.len(), 4, "{rejected:?}");
        assert!(w
            .1
            .iter()
            .all(|r| r.endpoint == "GET /x" && r.kind == RecordKind::Student));
        assert!(rejected[0].0 == "2" && rejected[0].1.contains("enrollment status"));
        assert!(rejected[1].0 == "3" && rejected[1].1.contains("09/04/2012"));
        assert!(rejected[2].0 == "4" && rejected[2].1.contains("neither"));
        assert!(rejected[3].0 == "5" && rejected[3].1.contains("3000-01-01"));
        assert!(!mapped[0].independent_student);
    }

    fn person_tables() -> PersonTables {
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

    #[test]
    fn contacts_join_people_and_read_decision_making() {
        let codes = codes();
        let mut w = Warnings::default();
        let people = people(&person_tables(), &codes, &mut w);
        let pat = &people["501"];
        assert_eq!(
            pat.emails,
            vec!["pat@example.com", "pat.work@example.com"],
            "by priority"
        );
        assert_eq!(
            pat.phones[0],
            Phone {
                number: "403-555-0101".into(),
                kind: PhoneType::Home
            }
        );
        assert_eq!(pat.phones[1].kind, PhoneType::Cell);
        assert_eq!(
            pat.physical_address.as_ref().map(|a| a.region.as_str()),
            Some("AB")
        );
        assert!(pat.mailing_address.is_none());
        assert_eq!(
            people["502"].phones[0].kind,
            PhoneType::Other("Pager".into())
        );
        assert_eq!(w.0.len(), 1, "unknown phone type warned: {:?}", w.0);

        let tables = ContactTables {
            assoc: table(
                "studentcontactassoc",
                &[
                    &[
                        ("studentcontactassocid", "90"),
                        ("studentdcid", "4101"),
                        ("personid", "501"),
                        ("contactpriorityorder", "1"),
                    ],
                    &[
                        ("studentcontactassocid", "91"),
                        ("studentdcid", "4101"),
                        ("personid", "502"),
                        ("contactpriorityorder", "2"),
                    ],
                    &[
                        ("studentcontactassocid", "92"),
                        ("studentdcid", "4102"),
                        ("personid", "501"),
                        ("contactpriorityorder", "1"),
                    ],
                ],
            ),
            detail: table(
                "studentcontactdetail",
                &[
                    &[
                        ("studentcontactdetailid", "300"),
                        ("studentcontactassocid", "90"),
                        ("relationshiptypecodesetid", "1"),
                        ("isactive", "1"),
                        ("iscustodial", "1"),
                        ("isemergency", "0"),
                    ],
                    &[
                        ("studentcontactdetailid", "301"),
                        ("studentcontactassocid", "91"),
                        ("relationshiptypecodesetid", "2"),
                        ("isactive", "1"),
                        ("iscustodial", "0"),
                        ("isemergency", "1"),
                    ],
                    &[
                        ("studentcontactdetailid", "302"),
                        ("studentcontactassocid", "92"),
                        ("relationshiptypecodesetid", "1"),
                        ("isactive", "0"),
                        ("iscustodial", "1"),
                        ("isemergency", "0"),
                    ],
                ],
            ),
            u_detail: table(
                "u_studentcontactdetail",
                &[&[("studentcontactdetailid", "300"), ("isdecisionmaking", "1")]],
            ),
        };
        let mut w = Warnings::default();
        let contacts = contacts(&tables, &people, &codes, &mut w);
        assert_eq!(
            contacts.len(),
            2,
            "the inactive detail of 4102 is not a current contact"
        );
        let (pat, sam) = (&contacts[0], &contacts[1]);
        assert_eq!(
            (pat.source_id.as_str(), pat.student_source_id.as_str()),
            ("501", "4101")
        );
        assert_eq!(pat.relationship, Relationship::Mother);
        assert_eq!(pat.contact_type, ContactType::Guardian);
        assert_eq!(pat.decision_making, Some(true));
        assert_eq!(
            sam.relationship,
            Relationship::Other("Probation Officer".into())
        );
        assert_eq!(sam.contact_type, ContactType::Emergency);
        assert_eq!(
            sam.decision_making,
            Some(false),
            "no u_studentcontactdetail row is not 1"
        );
        assert_eq!(w.0.len(), 1, "unknown relationship warned: {:?}", w.0);
    }

    #[test]
    fn guardian_accounts_group_rows_and_take_the_person_behind_them() {
        let rows = records(
            r#"{"name":"Students","record":[
            {"id":4101,"name":"Students","tables":{"students":{"dcid":"4101"},"guardian":{"guardianid":"700","firstname":"Pat","lastname":"Doe"},
              "pcas_account":{"username":"pdoe"},"pcas_emailcontact":{"emailaddress":"pat@example.com"}}},
            {"id":4102,"name":"Students","tables":{"students":{"dcid":"4102"},"guardian":{"guardianid":"700","firstname":"Pat","lastname":"Doe"},
              "pcas_account":{"username":"pdoe"},"pcas_emailcontact":{"emailaddress":"pat@example.com"}}},
            {"id":4101,"name":"Students","tables":{"students":{"dcid":"4101"},"guardian":{"guardianid":"701","firstname":"Web","lastname":"Only"},
              "pcas_account":{"username":"4101web"},"pcas_emailcontact":{"emailaddress":""}}}]}"#,
        );
        let gpa = table(
            "guardianpersonassoc",
            &[&[("guardianid", "700"), ("personid", "501")]],
        );
        let people = people(&person_tables(), &codes(), &mut Warnings::default());
        let accounts = guardian_accounts(&rows, &gpa, &people);
        assert_eq!(accounts.len(), 2);
        let pat = &accounts[0];
        assert_eq!(pat.source_id.as_str(), "700");
        assert_eq!(
            (pat.email.as_str(), pat.username.as_str()),
            ("pat@example.com", "pdoe")
        );
        assert_eq!(
            pat.student_source_ids,
            vec![SourceId::new("4101"), SourceId::new("4102")]
        );
        assert_eq!(pat.contact_source_ids, vec![SourceId::new("501")]);
        assert_eq!(
            (pat.home_phone.as_str(), pat.mobile_phone.as_str()),
            ("403-555-0101", "403-555-0102")
        );
        assert_eq!(
            pat.preferred_address().map(|a| a.street.as_str()),
            Some("12 Elm St")
        );
        let web = &accounts[1];
        assert!(
            web.contact_source_ids.is_empty(),
            "no contact person behind it"
        );
        assert_eq!(web.home_phone, "");
    }
}
