//! Builders shared by the policy suites.
#![allow(dead_code)]

use model::ids::SourceId;
use model::roster::{Contact, ContactType, EnrollmentStatus, Gender, Relationship};
use model::source::{GuardianAccount, SourceStudent};

pub fn student(id: &str) -> SourceStudent {
    SourceStudent {
        source_id: SourceId::new(id),
        student_number: format!("20{id}"),
        sis_id: String::new(),
        state_id: "123456789".into(),
        legal_first_name: "Jamie".into(),
        legal_last_name: "Doe".into(),
        middle_name: String::new(),
        birth_date: None,
        gender: Gender::Female,
        school_source_id: Some(SourceId::new("17")),
        grade: "7".into(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: false,
        org_email: format!("s{id}@district.example"),
        personal_email: format!("jamie{id}@mail.example"),
        web_id: format!("web{id}"),
        email: String::new(),
        home_phone: String::new(),
        mailing_address: None,
        physical_address: None,
    }
}

pub fn independent(id: &str) -> SourceStudent {
    SourceStudent {
        independent_student: true,
        ..student(id)
    }
}

pub fn contact(
    student: &str,
    person: &str,
    emails: &[&str],
    decision_making: Option<bool>,
) -> Contact {
    Contact {
        source_id: SourceId::new(person),
        student_source_id: SourceId::new(student),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        relationship: Relationship::Mother,
        contact_type: ContactType::Guardian,
        phones: vec![],
        decision_making,
    }
}

/// An account of person `person` with login e-mail `email`, listed for `students`.
pub fn account(id: &str, person: &str, email: &str, students: &[&str]) -> GuardianAccount {
    GuardianAccount {
        phones: Vec::new(),
        source_id: SourceId::new(id),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        username: email.into(),
        home_phone: String::new(),
        mobile_phone: String::new(),
        mailing_address: None,
        physical_address: None,
        contact_source_ids: if person.is_empty() {
            vec![]
        } else {
            vec![SourceId::new(person)]
        },
        student_source_ids: students.iter().map(|s| SourceId::new(*s)).collect(),
    }
}
