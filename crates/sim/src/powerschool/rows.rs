//! Adding rows to the district under construction: a person with their e-mail, phone
//! and address rows, a person made a contact of a student, a portal account (guardian,
//! PCAS account, login e-mail, person association) and its data access to a student.

use super::data::*;
use super::generate::Builder;
use crate::kit::names;

/// Whether a contact's `u_studentcontactdetail` row says decision-making, or is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Yes,
    No,
    Absent,
}

/// How a person is a contact of a student.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub relationship: u64,
    pub custodial: bool,
    pub emergency: bool,
    pub decision: Decision,
    pub active: bool,
}

impl Link {
    pub fn parent(relationship: u64, decision: Decision) -> Link {
        Link {
            relationship,
            custodial: true,
            emergency: false,
            decision,
            active: true,
        }
    }
}

/// A person to add, with their e-mails, phones and addresses in priority order.
#[derive(Debug, Clone, Default)]
pub(super) struct PersonSpec {
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    /// (phone type code set id, number)
    pub phones: Vec<(u64, String)>,
    /// (address type code set id, address)
    pub addresses: Vec<(u64, PostalAddress)>,
}

impl Builder {
    /// Adds a person with their e-mail, phone and address rows; returns the person id.
    pub fn add_person(&mut self, spec: &PersonSpec) -> u64 {
        let person_id = self.id();
        self.d.persons.push(Person {
            id: person_id,
            first_name: spec.first_name.clone(),
            last_name: spec.last_name.clone(),
            is_active: true,
        });
        for (i, email) in spec.emails.iter().enumerate() {
            let email_address_id = self.id();
            self.d.email_addresses.push(EmailAddress {
                id: email_address_id,
                address: email.clone(),
            });
            let id = self.id();
            self.d
                .person_email_address_assocs
                .push(PersonEmailAddressAssoc {
                    id,
                    person_id,
                    email_address_id,
                    is_primary: i == 0,
                    priority_order: i as u32 + 1,
                });
        }
        for (i, (kind, number)) in spec.phones.iter().enumerate() {
            let phone_number_id = self.id();
            self.d.phone_numbers.push(PhoneNumber {
                id: phone_number_id,
                number: number.clone(),
            });
            let id = self.id();
            self.d
                .person_phone_number_assocs
                .push(PersonPhoneNumberAssoc {
                    id,
                    person_id,
                    phone_number_id,
                    phone_type_codeset_id: *kind,
                    is_preferred: i == 0,
                    priority_order: i as u32 + 1,
                });
        }
        for (i, (kind, address)) in spec.addresses.iter().enumerate() {
            let person_address_id = self.id();
            let state = if address.state_province == "BC" {
                self.codes.state_bc
            } else {
                self.codes.state_ab
            };
            self.d.person_addresses.push(PersonAddress {
                id: person_address_id,
                street: address.street.clone(),
                city: address.city.clone(),
                state_codeset_id: state,
                postal_code: address.postal_code.clone(),
            });
            let id = self.id();
            self.d.person_address_assocs.push(PersonAddressAssoc {
                id,
                person_id,
                person_address_id,
                address_type_codeset_id: *kind,
                priority_order: i as u32 + 1,
            });
        }
        person_id
    }

    /// Makes `person` a contact of `student`; with `history`, sometimes an older inactive
    /// detail row precedes the current one. Returns the detail id of the link.
    pub fn link(
        &mut self,
        student: u64,
        person: u64,
        priority: u32,
        link: Link,
        history: bool,
    ) -> u64 {
        let assoc = self.id();
        self.d.student_contact_assocs.push(StudentContactAssoc {
            id: assoc,
            student_dcid: student,
            person_id: person,
            contact_priority_order: priority,
        });
        if history && link.active && self.rng.u32(0..100) < 4 {
            let old = self.id();
            self.d.student_contact_details.push(StudentContactDetail {
                id: old,
                student_contact_assoc_id: assoc,
                relationship_type_codeset_id: self.codes.guardian,
                is_active: false,
                is_custodial: false,
                is_emergency: true,
            });
            self.d
                .u_student_contact_details
                .push(UStudentContactDetail {
                    student_contact_detail_id: old,
                    is_decision_making: false,
                });
        }
        let detail = self.id();
        self.d.student_contact_details.push(StudentContactDetail {
            id: detail,
            student_contact_assoc_id: assoc,
            relationship_type_codeset_id: link.relationship,
            is_active: link.active,
            is_custodial: link.custodial,
            is_emergency: link.emergency,
        });
        if link.decision != Decision::Absent {
            self.d
                .u_student_contact_details
                .push(UStudentContactDetail {
                    student_contact_detail_id: detail,
                    is_decision_making: link.decision == Decision::Yes,
                });
        }
        detail
    }

    /// Adds a portal account: a guardian, its PCAS account and login e-mail, and, when a
    /// person is given, the guardian–person association. Returns the guardian id.
    pub fn add_guardian(
        &mut self,
        names: (&str, &str),
        person: Option<u64>,
        email: &str,
        username: &str,
        enabled: bool,
    ) -> u64 {
        let guardian_id = self.id();
        let token = self.account_token();
        self.d.guardians.push(Guardian {
            id: guardian_id,
            first_name: names.0.to_owned(),
            last_name: names.1.to_owned(),
            state_guardian_number: String::new(),
            account_identifier: token.clone(),
        });
        let account_id = self.id();
        self.d.pcas_accounts.push(PcasAccount {
            id: account_id,
            account_token: token,
            username: username.to_owned(),
            is_enabled: enabled,
        });
        let id = self.id();
        self.d.pcas_email_contacts.push(PcasEmailContact {
            id,
            pcas_account_id: account_id,
            email_address: email.to_owned(),
        });
        if let Some(person_id) = person {
            let id = self.id();
            self.d.guardian_person_assocs.push(GuardianPersonAssoc {
                id,
                guardian_id,
                person_id,
            });
        }
        guardian_id
    }

    /// An account for a contact person, logging in with their first e-mail.
    pub fn account_for(&mut self, person: u64, spec: &PersonSpec, enabled: bool) -> u64 {
        let email = spec.emails.first().cloned().unwrap_or_default();
        let username = if self.rng.u32(0..100) < 70 {
            email.clone()
        } else {
            format!(
                "{}{}{}",
                names::ascii_slug(&spec.first_name)
                    .chars()
                    .next()
                    .unwrap_or('p'),
                names::ascii_slug(&spec.last_name),
                self.rng.u32(10..100)
            )
        };
        self.add_guardian(
            (&spec.first_name, &spec.last_name),
            Some(person),
            &email,
            &username,
            enabled,
        )
    }

    fn account_token(&mut self) -> String {
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            self.rng.u32(..),
            self.rng.u16(..),
            self.rng.u16(..),
            self.rng.u16(..),
            self.rng.u64(..) & 0xffff_ffff_ffff
        )
    }

    /// Gives a guardian account data access to a student.
    pub fn grant(&mut self, guardian: u64, student: u64) {
        let id = self.id();
        self.d.guardian_students.push(GuardianStudent {
            id,
            guardian_id: guardian,
            student_dcid: student,
        });
    }
}
