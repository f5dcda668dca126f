//! OneRoster records → the common model. Pure functions; the client only fetches.
//!
//! - **Status** (reference §7): `active` is live; `tobedeleted` — and 1.0's `inactive` —
//!   is gone: the record is left out of the pull, so the engine archives what we hold of
//!   it after a complete pull and restores it when it comes back `active`.
//!   `enabledUser: "false"` removes nothing.
//! - **Roles**: 1.1 reads `role`, 1.2 every `roles[].role` (each falls back to the other
//!   field when its own is empty). Students are `student`; guardians are `guardian`,
//!   `parent` and `relative`; staff are teachers and administrators (1.1 `administrator`,
//!   1.2 `districtAdministrator`, `siteAdministrator`, `systemAdministrator`, `principal`).
//! - **Orgs**: 1.1's `orgs`; 1.2's `primaryOrg` and `roles[].org`; only orgs the pull
//!   read as schools count as schools.
//! - **Students**: `sourcedId` is the source id, `identifier` the student number, the first
//!   `userIds` identifier the SIS id; `givenName`/`familyName`/`middleName` are the legal
//!   names (1.2's preferred names are not legal names and are not read into them); the
//!   first grade, kept when it is in the CEDS list the reference gives, else `Other` with
//!   one warning per value.
//! - **Guardians**: one [`Contact`] per student tied by `agents` in either direction (the
//!   pull gathers the students' side), relationship = the role, contact type `guardian`
//!   for guardians and parents and `family` for relatives; `sms` is the mobile (SMS field),
//!   `phone` the home phone (phone field), as seed 002 says.
//! - **Classes** become classrooms of their `school`; **enrollments** of students and
//!   teachers tie people to them (administrators' and proctors' are not classroom
//!   membership and are left out).

use std::collections::HashSet;

use connector::{RecordKind, Warnings};
use model::ids::{ClassroomId, SchoolId, SourceId, StaffId};
use model::roster::{
    Classroom, Contact, ContactType, Enrollment, EnrollmentRole, EnrollmentStatus, Gender, Phone,
    PhoneType, Relationship, School, Staff,
};
use model::source::{GuardianAccount, SourceStudent};

use crate::settings::OneRosterVersion;
use crate::wire;

/// The roles whose users are guardians (reference §9).
pub const GUARDIAN_ROLES: [&str; 3] = ["guardian", "parent", "relative"];

/// The roles whose users are staff, per version.
pub fn staff_roles(version: OneRosterVersion) -> &'static [&'static str] {
    match version {
        OneRosterVersion::V1_1 => &["teacher", "administrator"],
        OneRosterVersion::V1_2 => &[
            "teacher",
            "districtAdministrator",
            "siteAdministrator",
            "systemAdministrator",
            "principal",
        ],
    }
}

/// Grades the reference's CEDS list holds (OneRoster leaves the vocabulary open).
const GRADES: [&str; 25] = [
    "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
    "12", "13", "PS", "UG", "Other", "ABE", "ASE", "AdultESL", "",
];

/// What mapping needs to know beyond the record: the version and the schools read.
#[derive(Debug, Clone)]
pub struct Context {
    pub version: OneRosterVersion,
    pub schools: HashSet<String>,
}

impl Context {
    pub fn new(version: OneRosterVersion) -> Self {
        Context {
            version,
            schools: HashSet::new(),
        }
    }
}

/// Whether a record's `status` says it is live (`active`, or none given); `tobedeleted`
/// and 1.0's `inactive` say it is gone.
pub fn is_live(status: &str) -> bool {
    !(status.eq_ignore_ascii_case("tobedeleted") || status.eq_ignore_ascii_case("inactive"))
}

/// The user's roles, as its version spells them.
pub fn roles(user: &wire::User, version: OneRosterVersion) -> Vec<&str> {
    let single = user.role.as_str();
    let many: Vec<&str> = user
        .roles
        .iter()
        .map(|r| r.role.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    match version {
        OneRosterVersion::V1_1 if !single.is_empty() => vec![single],
        OneRosterVersion::V1_2 if !many.is_empty() => many,
        _ if !single.is_empty() => vec![single],
        _ => many,
    }
}

/// The orgs of a user: 1.1 `orgs`, 1.2 `primaryOrg` first, then `roles[].org`.
fn orgs(user: &wire::User, version: OneRosterVersion) -> Vec<&str> {
    let from_roles = user
        .roles
        .iter()
        .filter_map(|r| r.org.as_ref())
        .map(|o| o.sourced_id.as_str());
    let primary = user.primary_org.iter().map(|o| o.sourced_id.as_str());
    let mut all: Vec<&str> = match version {
        OneRosterVersion::V1_1 => user.orgs.ids().chain(primary).chain(from_roles).collect(),
        OneRosterVersion::V1_2 => primary.chain(from_roles).chain(user.orgs.ids()).collect(),
    };
    all.retain(|o| !o.is_empty());
    let mut seen = HashSet::new();
    all.retain(|o| seen.insert(*o));
    all
}

/// A school org as a school; `None` for other org types.
pub fn school(w: &wire::Org) -> Option<School> {
    let id = w.sourced_id.as_str();
    let is_school = w.kind.as_str().eq_ignore_ascii_case("school");
    (is_school && !id.is_empty()).then(|| School {
        id: SchoolId::unassigned(),
        source_id: SourceId::new(id),
        school_number: w.identifier.as_str().to_owned(),
        name: w.name.as_str().to_owned(),
        archived: false,
    })
}

/// A student user as a source student; `None` (refused, with the reason) when it cannot
/// be right.
pub fn student(
    w: &wire::User,
    cx: &Context,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<SourceStudent> {
    let id = w.sourced_id.as_str();
    if id.is_empty() {
        warnings.reject(
            RecordKind::Student,
            endpoint,
            id,
            "the student has no sourcedId",
        );
        return None;
    }
    if !roles(w, cx.version).contains(&"student") {
        warnings.reject(
            RecordKind::Student,
            endpoint,
            id,
            "the user has no student role",
        );
        return None;
    }
    let grade = w.grades.0.first().map(|g| g.trim()).unwrap_or_default();
    let grade = if GRADES.contains(&grade) {
        grade.to_owned()
    } else {
        warnings.unknown(endpoint, id, "grade", grade);
        "Other".to_owned()
    };
    let school = orgs(w, cx.version)
        .into_iter()
        .find(|o| cx.schools.contains(*o));
    let sis_id = w
        .user_ids
        .iter()
        .map(|u| u.identifier.as_str())
        .find(|i| !i.is_empty())
        .unwrap_or_default();
    let mapped = SourceStudent {
        source_id: SourceId::new(id),
        student_number: w.identifier.as_str().to_owned(),
        sis_id: sis_id.to_owned(),
        state_id: String::new(),
        legal_first_name: w.given_name.as_str().to_owned(),
        legal_last_name: w.family_name.as_str().to_owned(),
        middle_name: w.middle_name.as_str().to_owned(),
        birth_date: None,
        gender: Gender::Unspecified,
        school_source_id: school.map(SourceId::new),
        grade,
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

/// A student's birth date and sex from its `/demographics` record; a birth date that is
/// not `YYYY-MM-DD` is left unknown, with one warning per value and pull.
pub fn demographic(
    d: &wire::Demographic,
    endpoint: &str,
    warnings: &mut Warnings,
) -> (Option<chrono::NaiveDate>, Gender) {
    let born = d.birth_date.as_str();
    let birth_date = match chrono::NaiveDate::parse_from_str(born, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) if born.is_empty() => None,
        Err(_) => {
            warnings.unknown(endpoint, d.sourced_id.as_str(), "birthDate", born);
            None
        }
    };
    (birth_date, Gender::parse(d.sex.as_str()))
}

/// The guardian role of a user (`guardian`, `parent` or `relative`), if it has one.
pub fn guardian_role(w: &wire::User, version: OneRosterVersion) -> Option<&str> {
    roles(w, version)
        .into_iter()
        .find(|r| GUARDIAN_ROLES.iter().any(|g| g.eq_ignore_ascii_case(r)))
}

/// A guardian user: one contact per student in `students` (its own `agents` joined with
/// the students that list it, gathered by the caller) and its account.
pub fn guardian(
    w: &wire::User,
    students: &[SourceId],
    cx: &Context,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<(Vec<Contact>, GuardianAccount)> {
    let id = w.sourced_id.as_str();
    if id.is_empty() {
        warnings.reject(
            RecordKind::GuardianAccount,
            endpoint,
            id,
            "the guardian has no sourcedId",
        );
        return None;
    }
    let Some(role) = guardian_role(w, cx.version) else {
        warnings.reject(
            RecordKind::GuardianAccount,
            endpoint,
            id,
            "the user has no guardian, parent or relative role",
        );
        return None;
    };
    let relationship = Relationship::parse(role);
    let contact_type = if relationship == Relationship::Relative {
        ContactType::Family
    } else {
        ContactType::Guardian
    };
    let mut phones = Vec::new();
    for (number, kind) in [
        (w.sms.as_str(), PhoneType::Cell),
        (w.phone.as_str(), PhoneType::Home),
    ] {
        if !number.is_empty() {
            phones.push(Phone {
                number: number.to_owned(),
                kind,
            });
        }
    }
    let email = w.email.as_str().to_owned();
    let (first_name, last_name) = (
        w.given_name.as_str().to_owned(),
        w.family_name.as_str().to_owned(),
    );
    let contacts = students
        .iter()
        .map(|student| Contact {
            source_id: SourceId::new(id),
            student_source_id: student.clone(),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            emails: if email.is_empty() {
                Vec::new()
            } else {
                vec![email.clone()]
            },
            relationship: relationship.clone(),
            contact_type: contact_type.clone(),
            phones: phones.clone(),
            decision_making: None,
        })
        .collect();
    let account = GuardianAccount {
        source_id: SourceId::new(id),
        first_name,
        last_name,
        email,
        username: w.username.as_str().to_owned(),
        home_phone: w.phone.as_str().to_owned(),
        mobile_phone: w.sms.as_str().to_owned(),
        mailing_address: None,
        physical_address: None,
        contact_source_ids: vec![SourceId::new(id)],
        student_source_ids: students.to_vec(),
        phones,
    };
    Some((contacts, account))
}

/// A teacher or administrator as a staff member of its schools.
pub fn staff(
    w: &wire::User,
    cx: &Context,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<Staff> {
    let id = w.sourced_id.as_str();
    if id.is_empty() {
        warnings.reject(
            RecordKind::Staff,
            endpoint,
            id,
            "the staff member has no sourcedId",
        );
        return None;
    }
    let staff_roles = staff_roles(cx.version);
    if !roles(w, cx.version)
        .iter()
        .any(|r| staff_roles.iter().any(|s| s.eq_ignore_ascii_case(r)))
    {
        warnings.reject(
            RecordKind::Staff,
            endpoint,
            id,
            "the user is neither a teacher nor an administrator",
        );
        return None;
    }
    let mut schools: Vec<SourceId> = orgs(w, cx.version)
        .into_iter()
        .filter(|o| cx.schools.contains(*o))
        .map(SourceId::new)
        .collect();
    schools.sort();
    Some(Staff {
        id: StaffId::unassigned(),
        source_id: SourceId::new(id),
        first_name: w.given_name.as_str().to_owned(),
        last_name: w.family_name.as_str().to_owned(),
        email: w.email.as_str().to_owned(),
        school_source_ids: schools,
        permissions: Default::default(),
        archived: false,
    })
}

/// A class as a classroom of its school.
pub fn class(w: &wire::Class, endpoint: &str, warnings: &mut Warnings) -> Option<Classroom> {
    let id = w.sourced_id.as_str();
    let school = w
        .school
        .as_ref()
        .map(|s| s.sourced_id.as_str())
        .unwrap_or_default();
    if id.is_empty() || school.is_empty() {
        warnings.reject(
            RecordKind::Classroom,
            endpoint,
            id,
            "the class has no sourcedId or no school",
        );
        return None;
    }
    let title = match w.title.as_str() {
        "" => w.class_code.as_str(),
        t => t,
    };
    Some(Classroom {
        id: ClassroomId::unassigned(),
        source_id: SourceId::new(id),
        school_source_id: SourceId::new(school),
        name: title.to_owned(),
        archived: false,
    })
}

/// What an enrollment record is for the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentRead {
    /// A student's or teacher's place in a class.
    Member(Enrollment),
    /// An administrator's or proctor's: not classroom membership.
    NotMembership,
    /// Refused (the reason is in the warnings).
    Refused,
}

pub fn enrollment(w: &wire::Enrollment, endpoint: &str, warnings: &mut Warnings) -> EnrollmentRead {
    let id = w.sourced_id.as_str();
    let person = w
        .user
        .as_ref()
        .map(|u| u.sourced_id.as_str())
        .unwrap_or_default();
    let class = w
        .class
        .as_ref()
        .map(|c| c.sourced_id.as_str())
        .unwrap_or_default();
    if person.is_empty() || class.is_empty() {
        warnings.reject(
            RecordKind::Enrollment,
            endpoint,
            id,
            "the enrollment names no user or no class",
        );
        return EnrollmentRead::Refused;
    }
    let role = match w.role.as_str().to_ascii_lowercase().as_str() {
        "student" => EnrollmentRole::Student,
        "teacher" => EnrollmentRole::Teacher,
        "administrator" | "proctor" | "aide" => return EnrollmentRead::NotMembership,
        other => {
            warnings.unknown(endpoint, id, "enrollment role", other);
            return EnrollmentRead::NotMembership;
        }
    };
    EnrollmentRead::Member(Enrollment {
        classroom_source_id: SourceId::new(class),
        person_source_id: SourceId::new(person),
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(json: &str) -> wire::User {
        serde_json::from_str(json).expect("user")
    }

    fn cx(version: OneRosterVersion) -> Context {
        let mut cx = Context::new(version);
        cx.schools.insert("org-3".into());
        cx.schools.insert("org-4".into());
        cx
    }

    #[test]
    fn a_1_1_student_and_a_1_2_student_map_alike() {
        let v11 = user(
            r#"{"sourcedId":"s-1001","status":"active","enabledUser":"true","givenName":"Jo",
            "familyName":"Li","middleName":"","role":"student","identifier":"200311","email":"jo.li@district.example",
            "userIds":[{"type":"FED","identifier":"FED-9"}],
            "orgs":[{"sourcedId":"org-1","type":"org"},{"sourcedId":"org-3","type":"org"}],"grades":["06"]}"#,
        );
        let v12 = user(
            r#"{"sourcedId":"s-1001","status":"active","enabledUser":"true","givenName":"Jo",
            "familyName":"Li","preferredFirstName":"Joey","identifier":"200311","email":"jo.li@district.example",
            "userIds":[{"type":"FED","identifier":"FED-9"}],
            "roles":[{"roleType":"primary","role":"student","org":{"sourcedId":"org-3"}}],
            "primaryOrg":{"sourcedId":"org-3"},"grades":["06"]}"#,
        );
        let mut w = Warnings::default();
        let a = student(&v11, &cx(OneRosterVersion::V1_1), "GET /students", &mut w).expect("1.1");
        let b = student(&v12, &cx(OneRosterVersion::V1_2), "GET /students", &mut w).expect("1.2");
        assert_eq!(a, b, "one student whatever the version");
        assert_eq!(a.school_source_id, Some(SourceId::new("org-3")));
        assert_eq!(
            a.org_email, "jo.li@district.example",
            "the e-mail is stored"
        );
        assert_eq!(
            a.legal_first_name, "Jo",
            "a preferred name is not the legal name"
        );
        assert_eq!(
            (a.student_number.as_str(), a.sis_id.as_str()),
            ("200311", "FED-9")
        );
        assert!(w.warnings.is_empty() && w.rejected.is_empty());
    }

    #[test]
    fn an_unknown_grade_is_kept_as_other_with_one_warning() {
        let u = user(
            r#"{"sourcedId":"s-1","givenName":"A","familyName":"B","role":"student","grades":["Sixth"]}"#,
        );
        let mut w = Warnings::default();
        let s = student(&u, &cx(OneRosterVersion::V1_1), "GET /students", &mut w).expect("kept");
        assert_eq!(s.grade, "Other");
        student(&u, &cx(OneRosterVersion::V1_1), "GET /students", &mut w).expect("kept");
        assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
    }

    #[test]
    fn a_guardian_puts_sms_in_the_mobile_and_phone_in_the_home_field() {
        let u = user(
            r#"{"sourcedId":"g-2001","status":"active","givenName":"Ana","familyName":"Ruiz",
            "role":"relative","email":"ana@example.net","sms":"+15550102233","phone":"555-010-4455"}"#,
        );
        let students = [SourceId::new("s-1"), SourceId::new("s-2")];
        let mut w = Warnings::default();
        let (contacts, account) = guardian(
            &u,
            &students,
            &cx(OneRosterVersion::V1_1),
            "GET /users",
            &mut w,
        )
        .expect("mapped");
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[0].relationship, Relationship::Relative);
        assert_eq!(contacts[0].contact_type, ContactType::Family);
        assert_eq!(account.mobile_phone, "+15550102233");
        assert_eq!(account.home_phone, "555-010-4455");
        let kinds: Vec<&PhoneType> = account.phones.iter().map(|p| &p.kind).collect();
        assert_eq!(kinds, [&PhoneType::Cell, &PhoneType::Home]);
    }

    #[test]
    fn staff_roles_differ_by_version_and_schools_come_from_orgs_or_roles() {
        let admin11 =
            user(r#"{"sourcedId":"a-1","role":"administrator","orgs":[{"sourcedId":"org-3"}]}"#);
        let admin12 = user(
            r#"{"sourcedId":"a-1","roles":[{"roleType":"primary","role":"siteAdministrator","org":{"sourcedId":"org-3"}},
            {"roleType":"secondary","role":"teacher","org":{"sourcedId":"org-4"}}]}"#,
        );
        let mut w = Warnings::default();
        let a = staff(&admin11, &cx(OneRosterVersion::V1_1), "GET /users", &mut w).expect("1.1");
        assert_eq!(a.school_source_ids, [SourceId::new("org-3")]);
        let b = staff(&admin12, &cx(OneRosterVersion::V1_2), "GET /users", &mut w).expect("1.2");
        assert_eq!(
            b.school_source_ids,
            [SourceId::new("org-3"), SourceId::new("org-4")]
        );
        let aide = user(r#"{"sourcedId":"x","role":"aide"}"#);
        assert!(staff(&aide, &cx(OneRosterVersion::V1_1), "GET /users", &mut w).is_none());
    }

    #[test]
    fn tobedeleted_and_inactive_are_gone() {
        assert!(is_live("active") && is_live(""));
        assert!(!is_live("tobedeleted") && !is_live("inactive"));
    }

    #[test]
    fn enrollments_of_students_and_teachers_are_membership() {
        let e = |role: &str| -> wire::Enrollment {
            serde_json::from_str(&format!(
                r#"{{"sourcedId":"e-1","user":{{"sourcedId":"s-1"}},"class":{{"sourcedId":"c-9"}},"role":"{role}","primary":"false"}}"#
            ))
            .expect("enrollment")
        };
        let mut w = Warnings::default();
        assert!(
            matches!(enrollment(&e("student"), "GET /enrollments", &mut w), EnrollmentRead::Member(m) if m.role == EnrollmentRole::Student)
        );
        assert_eq!(
            enrollment(&e("administrator"), "GET /enrollments", &mut w),
            EnrollmentRead::NotMembership
        );
    }
}
