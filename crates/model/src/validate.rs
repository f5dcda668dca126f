//! What the engine accepts from a source, record by record. A record that fails is
//! refused by itself (with a warning naming it); the rest of the pull goes on.
//!
//! Limits: every source id is 1–255 characters with no control characters; every text
//! field at most [`MAX_TEXT`] characters; a student has a first or a last name and, when
//! it has a birth date, one between 1900-01-01 and today.

use chrono::NaiveDate;

use crate::ids::SourceId;
use crate::roster::{Classroom, Contact, Enrollment, School, Staff};
use crate::source::{AccountStudent, GuardianAccount, SourceStudent};

/// The longest text field accepted (an address line, an e-mail, a name).
pub const MAX_TEXT: usize = 1_000;
/// The longest source id accepted.
pub const MAX_ID: usize = crate::limits::SOURCE_ID;

fn id(field: &str, v: &SourceId) -> Result<(), String> {
    let s = v.as_str();
    if s.trim().is_empty() {
        return Err(format!("{field} is missing"));
    }
    if s.chars().count() > MAX_ID {
        return Err(format!("{field} is longer than {MAX_ID} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{field} holds a control character"));
    }
    Ok(())
}

fn text(field: &str, v: &str) -> Result<(), String> {
    let n = v.chars().count();
    if n > MAX_TEXT {
        return Err(format!(
            "{field} is {n} characters long (at most {MAX_TEXT} are accepted)"
        ));
    }
    Ok(())
}

fn texts<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), String> {
    fields.into_iter().try_for_each(|(f, v)| text(f, v))
}

pub fn student(s: &SourceStudent, today: NaiveDate) -> Result<(), String> {
    id("source_id", &s.source_id)?;
    if let Some(school) = &s.school_source_id {
        id("school_source_id", school)?;
    }
    texts([
        ("student_number", s.student_number.as_str()),
        ("state_id", &s.state_id),
        ("legal_first_name", &s.legal_first_name),
        ("legal_last_name", &s.legal_last_name),
        ("middle_name", &s.middle_name),
        ("gender", s.gender.as_str()),
        ("grade", &s.grade),
        ("enrollment_status", s.enrollment_status.as_str()),
        ("org_email", &s.org_email),
        ("personal_email", &s.personal_email),
        ("web_id", &s.web_id),
        ("email", &s.email),
        ("home_phone", &s.home_phone),
    ])?;
    for a in [&s.mailing_address, &s.physical_address]
        .into_iter()
        .flatten()
    {
        texts([
            ("address.street", a.street.as_str()),
            ("address.city", &a.city),
            ("address.region", &a.region),
            ("address.postal_code", &a.postal_code),
        ])?;
    }
    if s.legal_first_name.trim().is_empty() && s.legal_last_name.trim().is_empty() {
        return Err("the student has neither a first nor a last name".into());
    }
    if let Some(born) = s.birth_date {
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if born < earliest || born > today {
            return Err(format!(
                "birth date {born} is not between {earliest} and today"
            ));
        }
    }
    Ok(())
}

pub fn contact(c: &Contact) -> Result<(), String> {
    id("source_id", &c.source_id)?;
    id("student_source_id", &c.student_source_id)?;
    texts([
        ("first_name", c.first_name.as_str()),
        ("last_name", &c.last_name),
        ("relationship", c.relationship.as_str()),
        ("contact_type", c.contact_type.as_str()),
    ])?;
    c.emails.iter().try_for_each(|e| text("emails", e))?;
    c.phones.iter().try_for_each(|p| {
        texts([
            ("phones.number", p.number.as_str()),
            ("phones.kind", p.kind.as_str()),
        ])
    })
}

pub fn guardian_account(a: &GuardianAccount) -> Result<(), String> {
    id("source_id", &a.source_id)?;
    texts([
        ("first_name", a.first_name.as_str()),
        ("last_name", &a.last_name),
        ("email", &a.email),
        ("username", &a.username),
        ("home_phone", &a.home_phone),
        ("mobile_phone", &a.mobile_phone),
    ])?;
    for ad in [&a.mailing_address, &a.physical_address]
        .into_iter()
        .flatten()
    {
        texts([
            ("address.street", ad.street.as_str()),
            ("address.city", &ad.city),
            ("address.region", &ad.region),
            ("address.postal_code", &ad.postal_code),
        ])?;
    }
    a.contact_source_ids
        .iter()
        .chain(&a.student_source_ids)
        .try_for_each(|s| id("linked id", s))
}

/// A student of an account sent on its own: both ids readable.
pub fn account_student(p: &AccountStudent) -> Result<(), String> {
    id("account_source_id", &p.account_source_id)?;
    id("student_source_id", &p.student_source_id)
}

pub fn school(s: &School) -> Result<(), String> {
    id("source_id", &s.source_id)?;
    texts([
        ("school_number", s.school_number.as_str()),
        ("name", &s.name),
    ])
}

pub fn staff(s: &Staff) -> Result<(), String> {
    id("source_id", &s.source_id)?;
    texts([
        ("first_name", s.first_name.as_str()),
        ("last_name", &s.last_name),
        ("email", &s.email),
    ])?;
    s.school_source_ids
        .iter()
        .try_for_each(|x| id("school_source_ids", x))
}

pub fn classroom(c: &Classroom) -> Result<(), String> {
    id("source_id", &c.source_id)?;
    id("school_source_id", &c.school_source_id)?;
    text("name", &c.name)
}

pub fn enrollment(e: &Enrollment) -> Result<(), String> {
    id("classroom_source_id", &e.classroom_source_id)?;
    id("person_source_id", &e.person_source_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{EnrollmentStatus, Gender};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or(NaiveDate::MIN)
    }

    fn jamie() -> SourceStudent {
        SourceStudent {
            source_id: SourceId::new("4101"),
            student_number: "20001".into(),
            sis_id: String::new(),
            state_id: String::new(),
            legal_first_name: "Jamie".into(),
            legal_last_name: "Doe".into(),
            middle_name: String::new(),
            birth_date: NaiveDate::from_ymd_opt(2014, 3, 9),
            gender: Gender::Female,
            school_source_id: None,
            grade: "7".into(),
            enrollment_status: EnrollmentStatus::Active,
            independent_student: false,
            org_email: String::new(),
            personal_email: String::new(),
            web_id: String::new(),
            email: String::new(),
            home_phone: String::new(),
            mailing_address: None,
            physical_address: None,
        }
    }

    #[test]
    fn a_sound_student_passes() {
        assert_eq!(student(&jamie(), today()), Ok(()));
    }

    #[test]
    fn absurd_students_are_refused_with_the_reason() {
        let no_id = SourceStudent {
            source_id: SourceId::new(" "),
            ..jamie()
        };
        assert_eq!(student(&no_id, today()), Err("source_id is missing".into()));
        let nameless = SourceStudent {
            legal_first_name: String::new(),
            legal_last_name: " ".into(),
            ..jamie()
        };
        assert!(student(&nameless, today()).is_err_and(|e| e.contains("neither")));
        let future = SourceStudent {
            birth_date: NaiveDate::from_ymd_opt(3000, 1, 1),
            ..jamie()
        };
        assert!(student(&future, today()).is_err_and(|e| e.contains("3000-01-01")));
        let huge = SourceStudent {
            middle_name: "x".repeat(1_048_576),
            ..jamie()
        };
        assert!(student(&huge, today()).is_err_and(|e| e.contains("middle_name is 1048576")));
        let sneaky = SourceStudent {
            source_id: SourceId::new("41\u{1f}01"),
            ..jamie()
        };
        assert!(student(&sneaky, today()).is_err_and(|e| e.contains("control")));
    }
}
