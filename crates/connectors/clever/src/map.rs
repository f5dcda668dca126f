//! Clever records → the common model. Pure functions; the client only fetches.
//!
//! - A student user: Clever's id is the source id; `sis_id` and `student_number` both kept
//!   (the district chooses which is our student id); `name` holds the legal names (v3.1's
//!   `preferred_name` is not read); `dob` is Clever's unpadded `M/D/YYYY`; the grade as
//!   Clever names it (`Kindergarten`, `PreKindergarten`, `7`, `Ungraded`, …).
//! - A contact user: one [`Contact`] per `student_relationships` entry (relationship and
//!   type as Clever says them, its one phone with its `phone_type`) and one
//!   [`GuardianAccount`] for the person, with the students it is listed for. Clever puts a
//!   contact's full name in `name.last`; it is split at the first space when `first` is
//!   empty. Which types, relationships and phone type sync is the policy's to decide.
//! - Teachers and staff: staff members of their schools; sections: classrooms with their
//!   teachers and students.
//!
//! A value outside Clever's documented lists (a relationship, a type, a phone type) is
//! kept as "other" with one warning per value and pull, never a failed run.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use connector::RecordKind;
use model::ids::{ClassroomId, SchoolId, SourceId, StaffId};
use model::roster::{
    Classroom, Contact, ContactType, Enrollment, EnrollmentRole, EnrollmentStatus, Gender, Phone,
    PhoneType, Relationship, School, Staff,
};
use model::source::{GuardianAccount, SourceStudent};

use crate::wire;

pub use connector::warnings::Warnings;

/// Clever's `M/D/YYYY` (no zero padding), or `None` when it is not one.
pub fn clever_date(raw: &str) -> Option<NaiveDate> {
    let mut parts = raw.trim().split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

pub fn school(w: &wire::School) -> Option<School> {
    let id = w.id.as_str();
    (!id.is_empty()).then(|| School {
        id: SchoolId::unassigned(),
        source_id: SourceId::new(id),
        school_number: w.school_number.as_str().to_owned(),
        name: w.name.as_str().to_owned(),
        archived: false,
    })
}

/// A student user as a source student; `None` (refused, with the reason) when it cannot
/// be right.
pub fn student(w: &wire::User, endpoint: &str, warnings: &mut Warnings) -> Option<SourceStudent> {
    let id = w.id.as_str();
    let Some(role) = w.roles.student.as_ref() else {
        warnings.reject(
            RecordKind::Student,
            endpoint,
            id,
            "the user has no student role",
        );
        return None;
    };
    if id.is_empty() {
        warnings.reject(RecordKind::Student, endpoint, id, "the student has no id");
        return None;
    }
    let dob = role.dob.as_str();
    let birth_date = match dob {
        "" => None,
        raw => match clever_date(raw) {
            Some(d) => Some(d),
            None => {
                warnings.reject(
                    RecordKind::Student,
                    endpoint,
                    id,
                    format!("dob {raw:?} is not M/D/YYYY"),
                );
                return None;
            }
        },
    };
    let gender = Gender::parse(role.gender.as_str());
    if gender.is_other() {
        warnings.unknown(endpoint, id, "gender", gender.as_str());
    }
    let school = role.school.as_str();
    let school = if school.is_empty() {
        role.schools.0.first().map(String::as_str).unwrap_or("")
    } else {
        school
    };
    let mapped = SourceStudent {
        source_id: SourceId::new(id),
        student_number: role.student_number.as_str().to_owned(),
        sis_id: role.sis_id.as_str().to_owned(),
        state_id: role.state_id.as_str().to_owned(),
        legal_first_name: w.name.first.as_str().to_owned(),
        legal_last_name: w.name.last.as_str().to_owned(),
        middle_name: w.name.middle.as_str().to_owned(),
        birth_date,
        gender,
        school_source_id: (!school.is_empty()).then(|| SourceId::new(school)),
        grade: role.grade.as_str().to_owned(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: false,
        // The source's one address for a student is the district-issued one (SPEC §2c).
        org_email: w.email.as_str().to_owned(),
        personal_email: String::new(),
        web_id: String::new(),
        email: w.email.as_str().to_owned(),
        home_phone: String::new(),
        mailing_address: None,
        physical_address: None,
    };
    match model::validate::student(&mapped, chrono::Utc::now().date_naive()) {
        Ok(()) => Some(mapped),
        Err(why) => {
            warnings.reject(RecordKind::Student, endpoint, id, why);
            None
        }
    }
}

/// A contact's first and last name: Clever's `first`/`last`, or its full name (in `last`)
/// split at the first space.
fn contact_name(name: &wire::Name) -> (String, String) {
    let (first, last) = (name.first.as_str(), name.last.as_str());
    if !first.is_empty() {
        return (first.to_owned(), last.to_owned());
    }
    match last.split_once(char::is_whitespace) {
        Some((f, l)) => (f.trim().to_owned(), l.trim().to_owned()),
        None => (String::new(), last.to_owned()),
    }
}

/// A contact user: its contacts (one per student it is listed for) and its account.
pub fn contact(
    w: &wire::User,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<(Vec<Contact>, GuardianAccount)> {
    let id = w.id.as_str();
    let Some(role) = w.roles.contact.as_ref() else {
        warnings.reject(
            RecordKind::GuardianAccount,
            endpoint,
            id,
            "the user has no contact role",
        );
        return None;
    };
    if id.is_empty() {
        warnings.reject(
            RecordKind::GuardianAccount,
            endpoint,
            id,
            "the contact has no id",
        );
        return None;
    }
    let (first_name, last_name) = contact_name(&w.name);
    let email = w.email.as_str().to_owned();
    let number = role.phone.as_str();
    let phones: Vec<Phone> = if number.is_empty() {
        Vec::new()
    } else {
        let raw = role.phone_type.as_str();
        let kind = match raw {
            "" => PhoneType::OtherPhoneType,
            raw => PhoneType::parse(raw),
        };
        if kind.is_other() {
            warnings.unknown(endpoint, id, "phone type", raw);
        }
        vec![Phone {
            number: number.to_owned(),
            kind,
        }]
    };
    let mut contacts = Vec::new();
    let mut students = Vec::new();
    for r in &role.student_relationships {
        let student = r.student.as_str();
        if student.is_empty() {
            continue;
        }
        // `""` is one of Clever's documented values: "other", without a warning.
        let relationship = match r.relationship.as_str() {
            "" => Relationship::OtherRelationship,
            raw => Relationship::parse(raw),
        };
        if relationship.is_other() {
            warnings.unknown(endpoint, id, "relationship", r.relationship.as_str());
        }
        let contact_type = match r.kind.as_str() {
            "" => ContactType::OtherContactType,
            raw => ContactType::parse(raw),
        };
        if contact_type.is_other() {
            warnings.unknown(endpoint, id, "contact type", r.kind.as_str());
        }
        students.push(SourceId::new(student));
        contacts.push(Contact {
            source_id: SourceId::new(id),
            student_source_id: SourceId::new(student),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            emails: if email.is_empty() {
                Vec::new()
            } else {
                vec![email.clone()]
            },
            relationship,
            contact_type,
            phones: phones.clone(),
            decision_making: None,
        });
    }
    students.sort();
    students.dedup();
    let account = GuardianAccount {
        source_id: SourceId::new(id),
        first_name,
        last_name,
        email,
        username: String::new(),
        home_phone: String::new(),
        mobile_phone: String::new(),
        mailing_address: None,
        physical_address: None,
        contact_source_ids: vec![SourceId::new(id)],
        student_source_ids: students,
        phones,
    };
    Some((contacts, account))
}

/// A teacher or staff user as a staff member of its schools.
pub fn staff(w: &wire::User, endpoint: &str, warnings: &mut Warnings) -> Option<Staff> {
    let id = w.id.as_str();
    if id.is_empty() {
        warnings.reject(
            RecordKind::Staff,
            endpoint,
            id,
            "the staff member has no id",
        );
        return None;
    }
    let mut schools: Vec<SourceId> = Vec::new();
    if let Some(t) = &w.roles.teacher {
        if !t.school.as_str().is_empty() {
            schools.push(SourceId::new(t.school.as_str()));
        }
        schools.extend(t.schools.0.iter().map(|s| SourceId::new(s.as_str())));
    }
    if let Some(s) = &w.roles.staff {
        schools.extend(s.schools.0.iter().map(|s| SourceId::new(s.as_str())));
    }
    if w.roles.teacher.is_none() && w.roles.staff.is_none() {
        warnings.reject(
            RecordKind::Staff,
            endpoint,
            id,
            "the user is neither teacher nor staff",
        );
        return None;
    }
    schools.sort();
    schools.dedup();
    Some(Staff {
        id: StaffId::unassigned(),
        source_id: SourceId::new(id),
        first_name: w.name.first.as_str().to_owned(),
        last_name: w.name.last.as_str().to_owned(),
        email: w.email.as_str().to_owned(),
        school_source_ids: schools,
        permissions: Default::default(),
        archived: false,
    })
}

/// A section as a classroom with its teachers and students.
pub fn section(
    w: &wire::Section,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<(Classroom, Vec<Enrollment>)> {
    let id = w.id.as_str();
    if id.is_empty() || w.school.as_str().is_empty() {
        warnings.reject(
            RecordKind::Classroom,
            endpoint,
            id,
            "the section has no id or no school",
        );
        return None;
    }
    let classroom = Classroom {
        id: ClassroomId::unassigned(),
        source_id: SourceId::new(id),
        school_source_id: SourceId::new(w.school.as_str()),
        name: w.name.as_str().to_owned(),
        archived: false,
    };
    let mut teachers: BTreeSet<&str> = w.teachers.0.iter().map(String::as_str).collect();
    if !w.teacher.as_str().is_empty() {
        teachers.insert(w.teacher.as_str());
    }
    let students: BTreeSet<&str> = w.students.0.iter().map(String::as_str).collect();
    let enrollments = teachers
        .into_iter()
        .map(|t| (t, EnrollmentRole::Teacher))
        .chain(students.into_iter().map(|s| (s, EnrollmentRole::Student)))
        .map(|(person, role)| Enrollment {
            classroom_source_id: classroom.source_id.clone(),
            person_source_id: SourceId::new(person),
            role,
        })
        .collect();
    Some((classroom, enrollments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(json: &str) -> wire::User {
        serde_json::from_str(json).expect("user")
    }

    #[test]
    fn clever_dates_are_unpadded_month_day_year() {
        assert_eq!(
            clever_date("2/11/2007"),
            NaiveDate::from_ymd_opt(2007, 2, 11)
        );
        assert_eq!(
            clever_date("12/1/2010"),
            NaiveDate::from_ymd_opt(2010, 12, 1)
        );
        assert_eq!(clever_date("2007-02-11"), None);
        assert_eq!(clever_date("13/1/2010"), None);
        assert_eq!(clever_date("1/1/07"), None);
    }

    #[test]
    fn a_student_keeps_both_ids_and_its_grade_as_clever_names_it() {
        let u = user(
            r#"{"id":"66f0a1b2c3d4e5f6a7b8e001","email":"jamie@district.example",
            "name":{"first":"Jamie","middle":"Lee","last":"Doe"},
            "roles":{"student":{"sis_id":"S-311","student_number":"200311","state_id":"123456789",
            "school":"66f0a1b2c3d4e5f6a7b8a001","grade":"Kindergarten","dob":"2/9/2019","gender":"F"}}}"#,
        );
        let mut w = Warnings::default();
        let s = student(&u, "GET /v3.0/users", &mut w).expect("mapped");
        assert_eq!(
            (s.sis_id.as_str(), s.student_number.as_str()),
            ("S-311", "200311")
        );
        assert_eq!(s.grade, "Kindergarten");
        assert_eq!(s.birth_date, NaiveDate::from_ymd_opt(2019, 2, 9));
        assert_eq!(s.legal_first_name, "Jamie");
        assert_eq!(
            s.org_email, "jamie@district.example",
            "the student's e-mail is stored"
        );
        assert!(w.warnings.is_empty() && w.rejected.is_empty());
    }

    #[test]
    fn a_contact_is_one_contact_per_student_and_one_account() {
        let u = user(
            r#"{"id":"66f0a1b2c3d4e5f6a7b8d001","email":"ana.ruiz@example.net","name":{"last":"Ana Ruiz"},
            "roles":{"contact":{"sis_id":"","phone":"(555) 010-2233","phone_type":"Work",
            "student_relationships":[
              {"student":"66f0a1b2c3d4e5f6a7b8e001","relationship":"Parent","type":"Parent/Guardian"},
              {"student":"66f0a1b2c3d4e5f6a7b8e002","relationship":"Aunt/Uncle","type":"Emergency"},
              {"student":"66f0a1b2c3d4e5f6a7b8e003","relationship":"Step-aunt","type":"Family"},
              {"student":"66f0a1b2c3d4e5f6a7b8e004","relationship":"Step-aunt","type":"Other"}]}}}"#,
        );
        let mut w = Warnings::default();
        let (contacts, account) = contact(&u, "GET /v3.0/users", &mut w).expect("mapped");
        assert_eq!(contacts.len(), 4);
        assert_eq!(
            (account.first_name.as_str(), account.last_name.as_str()),
            ("Ana", "Ruiz")
        );
        assert_eq!(account.student_source_ids.len(), 4);
        assert_eq!(contacts[0].relationship, Relationship::Parent);
        assert_eq!(contacts[0].contact_type, ContactType::Guardian);
        assert_eq!(contacts[1].relationship, Relationship::Relative);
        assert_eq!(contacts[3].contact_type, ContactType::OtherContactType);
        assert_eq!(account.phones[0].kind, PhoneType::Work);
        assert_eq!(
            w.warnings.len(),
            1,
            "one warning for the unknown relationship, however often it appears: {:?}",
            w.warnings
        );
        assert!(w.warnings[0].message.contains("Step-aunt"));
    }

    #[test]
    fn a_section_enrolls_its_teachers_and_students_once() {
        let s: wire::Section = serde_json::from_str(
            r#"{"id":"f001","school":"a001","name":"Grade 4 Homeroom","teacher":"t1",
            "teachers":["t1","t2"],"students":["s1","s2","s1"]}"#,
        )
        .expect("section");
        let mut w = Warnings::default();
        let (classroom, enrollments) = section(&s, "GET /v3.0/sections", &mut w).expect("mapped");
        assert_eq!(classroom.name, "Grade 4 Homeroom");
        let roles: Vec<(&str, EnrollmentRole)> = enrollments
            .iter()
            .map(|e| (e.person_source_id.as_str(), e.role))
            .collect();
        assert_eq!(
            roles,
            [
                ("t1", EnrollmentRole::Teacher),
                ("t2", EnrollmentRole::Teacher),
                ("s1", EnrollmentRole::Student),
                ("s2", EnrollmentRole::Student)
            ]
        );
    }
}
