//! Ground truth: what a correct PowerSchool connector yields for a district, computed from
//! the tables directly (never from the JSON the server renders), so a rendering mistake
//! and a connector mistake cannot cancel out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use model::ids::SourceId;
use model::roster::{
    Address, Contact, ContactType, EnrollmentStatus, Gender, Phone, PhoneType, Relationship,
};
use model::source::{GuardianAccount, SourceStudent};

use super::data::*;

/// A school as a connector should list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSchool {
    pub source_id: String,
    pub school_number: String,
    pub name: String,
}

impl District {
    /// Every school, by DCID.
    pub fn expected_schools(&self) -> Vec<ExpectedSchool> {
        let mut schools: Vec<&School> = self.schools.iter().collect();
        schools.sort_by_key(|s| s.dcid);
        schools
            .into_iter()
            .map(|s| ExpectedSchool {
                source_id: s.dcid.to_string(),
                school_number: s.school_number.to_string(),
                name: s.name.clone(),
            })
            .collect()
    }

    /// The students of enrollment status ≤ 0 (active and pre-registered), by DCID.
    pub fn expected_students(&self) -> Vec<SourceStudent> {
        self.current_students()
            .into_iter()
            .map(|s| SourceStudent {
                source_id: SourceId::new(s.dcid.to_string()),
                student_number: s.local_id.to_string(),
                sis_id: String::new(),
                state_id: s.state_province_id.clone(),
                legal_first_name: s.legal_first_name().to_owned(),
                legal_last_name: s.legal_last_name().to_owned(),
                middle_name: s.legal_middle_name().to_owned(),
                birth_date: Some(s.birth_date),
                gender: Gender::parse(&s.gender),
                school_source_id: Some(SourceId::new(s.school_dcid.to_string())),
                grade: s.grade_level.to_string(),
                enrollment_status: if s.enroll_status_code == -1 {
                    EnrollmentStatus::PreRegistered
                } else {
                    EnrollmentStatus::Active
                },
                independent_student: s.is_independent(),
                org_email: s.u_student.orgemail.clone().unwrap_or_default(),
                personal_email: s.u_student.personalemail.clone().unwrap_or_default(),
                web_id: s.web_id.clone(),
                email: s.u_student.orgemail.clone().unwrap_or_default(),
                home_phone: s.home_phone.clone(),
                mailing_address: s.mailing_address.as_ref().map(address),
                physical_address: s.physical_address.as_ref().map(address),
            })
            .collect()
    }

    /// The current contacts of the expected students: one per contact association that
    /// has an active detail row (the first by id), by (student DCID, person id).
    pub fn expected_contacts(&self) -> Vec<Contact> {
        let current: BTreeSet<u64> = self.current_students().iter().map(|s| s.dcid).collect();
        let codes = self.codes_by_id();
        let persons: HashMap<u64, &Person> = self.persons.iter().map(|p| (p.id, p)).collect();
        let decisions: HashMap<u64, bool> = self
            .u_student_contact_details
            .iter()
            .map(|u| (u.student_contact_detail_id, u.is_decision_making))
            .collect();
        let mut active_detail: HashMap<u64, &StudentContactDetail> = HashMap::new();
        for detail in self.student_contact_details.iter().filter(|d| d.is_active) {
            let entry = active_detail
                .entry(detail.student_contact_assoc_id)
                .or_insert(detail);
            if detail.id < entry.id {
                *entry = detail;
            }
        }
        let people = PersonInfo::new(self);
        let mut contacts: BTreeMap<(u64, u64), Contact> = BTreeMap::new();
        for assoc in &self.student_contact_assocs {
            if !current.contains(&assoc.student_dcid) {
                continue;
            }
            let Some(detail) = active_detail.get(&assoc.id) else {
                continue;
            };
            let person = persons.get(&assoc.person_id);
            let code = |id: u64| codes.get(&id).map(|c| c.code.as_str()).unwrap_or("");
            let contact_type = if detail.is_custodial {
                ContactType::Guardian
            } else if detail.is_emergency {
                ContactType::Emergency
            } else {
                ContactType::Other("contact".to_owned())
            };
            let contact = Contact {
                source_id: SourceId::new(assoc.person_id.to_string()),
                student_source_id: SourceId::new(assoc.student_dcid.to_string()),
                first_name: person.map(|p| p.first_name.clone()).unwrap_or_default(),
                last_name: person.map(|p| p.last_name.clone()).unwrap_or_default(),
                emails: people.emails(assoc.person_id),
                relationship: Relationship::parse(code(detail.relationship_type_codeset_id)),
                contact_type,
                phones: people
                    .phones(assoc.person_id)
                    .into_iter()
                    .map(|(kind, number)| Phone {
                        number,
                        kind: PhoneType::parse(code(kind)),
                    })
                    .collect(),
                decision_making: Some(decisions.get(&detail.id).copied().unwrap_or(false)),
            };
            contacts.insert((assoc.student_dcid, assoc.person_id), contact);
        }
        contacts.into_values().collect()
    }

    /// The guardian accounts `student_guardian_detail` returns for the expected students
    /// (data access and an enabled PCAS account), merged per guardian, by guardian id.
    pub fn expected_guardian_accounts(&self) -> Vec<GuardianAccount> {
        let current: BTreeSet<u64> = self.current_students().iter().map(|s| s.dcid).collect();
        let guardians: HashMap<u64, &Guardian> = self.guardians.iter().map(|g| (g.id, g)).collect();
        let accounts: HashMap<&str, &PcasAccount> = self
            .pcas_accounts
            .iter()
            .map(|a| (a.account_token.as_str(), a))
            .collect();
        let enabled = |guardian_id: &u64| {
            guardians
                .get(guardian_id)
                .and_then(|g| accounts.get(g.account_identifier.as_str()))
                .is_some_and(|a| a.is_enabled)
        };
        let mut students_of: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for access in &self.guardian_students {
            if current.contains(&access.student_dcid) && enabled(&access.guardian_id) {
                students_of
                    .entry(access.guardian_id)
                    .or_default()
                    .insert(access.student_dcid);
            }
        }
        let login_emails: HashMap<u64, &str> = self
            .pcas_email_contacts
            .iter()
            .map(|e| (e.pcas_account_id, e.email_address.as_str()))
            .collect();
        let mut persons_of: HashMap<u64, BTreeSet<u64>> = HashMap::new();
        for gpa in &self.guardian_person_assocs {
            persons_of
                .entry(gpa.guardian_id)
                .or_default()
                .insert(gpa.person_id);
        }
        let codes = self.codes_by_id();
        let code = |id: u64| codes.get(&id).map(|c| c.code.as_str()).unwrap_or("");
        let people = PersonInfo::new(self);
        let mut out = Vec::new();
        for (guardian_id, students) in students_of {
            let Some(guardian) = guardians.get(&guardian_id) else {
                continue;
            };
            let account = accounts.get(guardian.account_identifier.as_str());
            let contact_ids: Vec<u64> = persons_of
                .get(&guardian_id)
                .map(|set| set.iter().copied().collect())
                .unwrap_or_default();
            let first_person = contact_ids.first().copied();
            let phone = |kind: &str| {
                first_person
                    .and_then(|p| {
                        people
                            .phones(p)
                            .into_iter()
                            .find(|(k, _)| code(*k) == kind)
                            .map(|(_, number)| number)
                    })
                    .unwrap_or_default()
            };
            let address = |kind: &str| {
                first_person.and_then(|p| {
                    people
                        .addresses(p)
                        .into_iter()
                        .find(|(k, _)| code(*k) == kind)
                        .map(|(_, a)| Address {
                            street: a.street.clone(),
                            city: a.city.clone(),
                            region: code(a.state_codeset_id).to_owned(),
                            postal_code: a.postal_code.clone(),
                        })
                })
            };
            out.push(GuardianAccount {
                phones: Vec::new(),
                source_id: SourceId::new(guardian_id.to_string()),
                first_name: guardian.first_name.clone(),
                last_name: guardian.last_name.clone(),
                email: account
                    .and_then(|a| login_emails.get(&a.id))
                    .map(|e| (*e).to_owned())
                    .unwrap_or_default(),
                username: account.map(|a| a.username.clone()).unwrap_or_default(),
                home_phone: phone("Home"),
                mobile_phone: phone("Mobile"),
                mailing_address: address("Mailing"),
                physical_address: address("Home"),
                contact_source_ids: contact_ids
                    .iter()
                    .map(|id| SourceId::new(id.to_string()))
                    .collect(),
                student_source_ids: students
                    .iter()
                    .map(|id| SourceId::new(id.to_string()))
                    .collect(),
            });
        }
        out
    }

    /// Students of enrollment status ≤ 0, by DCID.
    fn current_students(&self) -> Vec<&Student> {
        let mut students: Vec<&Student> = self.students.iter().filter(|s| s.is_current()).collect();
        students.sort_by_key(|s| s.dcid);
        students
    }
}

/// The e-mails, phones and addresses of persons, each in priority order.
struct PersonInfo<'a> {
    emails: HashMap<u64, Vec<(u32, &'a str)>>,
    phones: HashMap<u64, Vec<(u32, u64, &'a str)>>,
    addresses: HashMap<u64, Vec<(u32, u64, &'a PersonAddress)>>,
}

impl<'a> PersonInfo<'a> {
    fn new(d: &'a District) -> PersonInfo<'a> {
        let email_rows: HashMap<u64, &str> = d
            .email_addresses
            .iter()
            .map(|e| (e.id, e.address.as_str()))
            .collect();
        let phone_rows: HashMap<u64, &str> = d
            .phone_numbers
            .iter()
            .map(|p| (p.id, p.number.as_str()))
            .collect();
        let address_rows: HashMap<u64, &PersonAddress> =
            d.person_addresses.iter().map(|a| (a.id, a)).collect();
        let mut emails: HashMap<u64, Vec<(u32, &str)>> = HashMap::new();
        for a in &d.person_email_address_assocs {
            if let Some(email) = email_rows.get(&a.email_address_id) {
                emails
                    .entry(a.person_id)
                    .or_default()
                    .push((a.priority_order, email));
            }
        }
        let mut phones: HashMap<u64, Vec<(u32, u64, &str)>> = HashMap::new();
        for a in &d.person_phone_number_assocs {
            if let Some(number) = phone_rows.get(&a.phone_number_id) {
                phones.entry(a.person_id).or_default().push((
                    a.priority_order,
                    a.phone_type_codeset_id,
                    number,
                ));
            }
        }
        let mut addresses: HashMap<u64, Vec<(u32, u64, &PersonAddress)>> = HashMap::new();
        for a in &d.person_address_assocs {
            if let Some(address) = address_rows.get(&a.person_address_id) {
                addresses.entry(a.person_id).or_default().push((
                    a.priority_order,
                    a.address_type_codeset_id,
                    address,
                ));
            }
        }
        for list in emails.values_mut() {
            list.sort_by_key(|e| e.0);
        }
        for list in phones.values_mut() {
            list.sort_by_key(|p| p.0);
        }
        for list in addresses.values_mut() {
            list.sort_by_key(|a| a.0);
        }
        PersonInfo {
            emails,
            phones,
            addresses,
        }
    }

    fn emails(&self, person: u64) -> Vec<String> {
        self.emails
            .get(&person)
            .map(|list| list.iter().map(|(_, e)| (*e).to_owned()).collect())
            .unwrap_or_default()
    }

    /// (phone type code set id, number)
    fn phones(&self, person: u64) -> Vec<(u64, String)> {
        self.phones
            .get(&person)
            .map(|list| list.iter().map(|(_, k, n)| (*k, (*n).to_owned())).collect())
            .unwrap_or_default()
    }

    /// (address type code set id, address)
    fn addresses(&self, person: u64) -> Vec<(u64, &'a PersonAddress)> {
        self.addresses
            .get(&person)
            .map(|list| list.iter().map(|(_, k, a)| (*k, *a)).collect())
            .unwrap_or_default()
    }
}

/// A `/ws/v1` postal address in the model.
fn address(a: &super::data::PostalAddress) -> model::roster::Address {
    model::roster::Address {
        street: a.street.clone(),
        city: a.city.clone(),
        region: a.state_province.clone(),
        postal_code: a.postal_code.clone(),
    }
}
