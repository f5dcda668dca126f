//! A record's field set back from its text, as [`crate::fields`] writes it: the change
//! log keeps values as text, and undoing a change puts the old text back.

use chrono::NaiveDate;

use crate::change::Entity;
use crate::district::StaffPermission;
use crate::ids::{GuardianId, SourceId, StudentId};
use crate::link::{AccessTier, Decision, Link, LinkOrigin};
use crate::roster::{
    AccountStatus, Classroom, Contact, ContactType, Enrollment, EnrollmentRole, EnrollmentStatus,
    Gender, Guardian, Phone, PhoneType, Relationship, School, Staff, Student,
};
use crate::run::PlanItem;

/// Why a field's text could not be set.
pub type AssignError = String;

fn flag(field: &str, v: &str) -> Result<bool, AssignError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{field}: {v:?} is not true or false")),
    }
}

fn source(v: &str) -> Option<SourceId> {
    (!v.is_empty()).then(|| SourceId::new(v))
}

/// The items of a `, `-joined list.
fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(", ").filter(|s| !s.is_empty())
}

fn unknown(entity: &str, field: &str) -> AssignError {
    format!("{entity} has no field {field:?}")
}

pub fn set_student_field(s: &mut Student, field: &str, v: &str) -> Result<(), AssignError> {
    let text = v.to_owned();
    match field {
        "source_id" => s.source_id = SourceId::new(v),
        "student_number" => s.student_number = text,
        "state_id" => s.state_id = text,
        "legal_first_name" => s.legal_first_name = text,
        "legal_last_name" => s.legal_last_name = text,
        "middle_name" => s.middle_name = text,
        "birth_date" if v.is_empty() => s.birth_date = None,
        "birth_date" => {
            s.birth_date = Some(
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| format!("birth_date: {v:?} is not a date"))?,
            )
        }
        "gender" => s.gender = Gender::parse(v),
        "school_source_id" => s.school_source_id = source(v),
        "grade" => s.grade = text,
        "enrollment_status" => s.enrollment_status = EnrollmentStatus::parse(v),
        "independent_student" => s.independent_student = flag(field, v)?,
        "org_email" => s.org_email = text,
        "personal_email" => s.personal_email = text,
        "web_id" => s.web_id = text,
        "archived" => s.archived = flag(field, v)?,
        _ => return Err(unknown("a student", field)),
    }
    Ok(())
}

pub fn set_guardian_field(g: &mut Guardian, field: &str, v: &str) -> Result<(), AssignError> {
    let text = v.to_owned();
    match field {
        "source_id" => g.source_id = source(v),
        "first_name" => g.first_name = text,
        "last_name" => g.last_name = text,
        "email" => g.email = text,
        "home_phone" => g.home_phone = text,
        "mobile_phone" => g.mobile_phone = text,
        "address_street" => g.address.street = text,
        "address_city" => g.address.city = text,
        "address_region" => g.address.region = text,
        "address_postal_code" => g.address.postal_code = text,
        "status" => {
            g.status =
                AccountStatus::parse(v).ok_or_else(|| format!("status: {v:?} is not a status"))?
        }
        "sis_connected" => g.sis_connected = flag(field, v)?,
        "archived" => g.archived = flag(field, v)?,
        _ => return Err(unknown("a guardian", field)),
    }
    Ok(())
}

pub fn set_school_field(s: &mut School, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "source_id" => s.source_id = SourceId::new(v),
        "school_number" => s.school_number = v.to_owned(),
        "name" => s.name = v.to_owned(),
        "archived" => s.archived = flag(field, v)?,
        _ => return Err(unknown("a school", field)),
    }
    Ok(())
}

pub fn set_staff_field(s: &mut Staff, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "source_id" => s.source_id = SourceId::new(v),
        "first_name" => s.first_name = v.to_owned(),
        "last_name" => s.last_name = v.to_owned(),
        "email" => s.email = v.to_owned(),
        "school_source_ids" => s.school_source_ids = list(v).map(SourceId::new).collect(),
        "permissions" => {
            s.permissions = list(v)
                .map(|p| {
                    StaffPermission::parse(p)
                        .ok_or_else(|| format!("permissions: {p:?} is not a permission"))
                })
                .collect::<Result<_, _>>()?
        }
        "archived" => s.archived = flag(field, v)?,
        _ => return Err(unknown("a staff member", field)),
    }
    Ok(())
}

pub fn set_classroom_field(c: &mut Classroom, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "source_id" => c.source_id = SourceId::new(v),
        "school_source_id" => c.school_source_id = SourceId::new(v),
        "name" => c.name = v.to_owned(),
        "archived" => c.archived = flag(field, v)?,
        _ => return Err(unknown("a classroom", field)),
    }
    Ok(())
}

pub fn set_contact_field(c: &mut Contact, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "source_id" => c.source_id = SourceId::new(v),
        "student_source_id" => c.student_source_id = SourceId::new(v),
        "first_name" => c.first_name = v.to_owned(),
        "last_name" => c.last_name = v.to_owned(),
        "emails" => c.emails = list(v).map(str::to_owned).collect(),
        "relationship" => c.relationship = Relationship::parse(v),
        "contact_type" => c.contact_type = ContactType::parse(v),
        "phones" => {
            c.phones = list(v)
                .map(|p| {
                    let (kind, number) = p
                        .split_once(':')
                        .ok_or_else(|| format!("phones: {p:?} is not kind:number"))?;
                    Ok(Phone {
                        number: number.to_owned(),
                        kind: PhoneType::parse(kind),
                    })
                })
                .collect::<Result<_, AssignError>>()?
        }
        "decision_making" if v.is_empty() => c.decision_making = None,
        "decision_making" => c.decision_making = Some(flag(field, v)?),
        _ => return Err(unknown("a contact", field)),
    }
    Ok(())
}

pub fn set_enrollment_field(e: &mut Enrollment, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "classroom_source_id" => e.classroom_source_id = SourceId::new(v),
        "person_source_id" => e.person_source_id = SourceId::new(v),
        "role" => {
            e.role = EnrollmentRole::parse(v).ok_or_else(|| format!("role: {v:?} is not a role"))?
        }
        _ => return Err(unknown("an enrollment", field)),
    }
    Ok(())
}

pub fn set_link_field(l: &mut Link, field: &str, v: &str) -> Result<(), AssignError> {
    match field {
        "origin" => {
            l.origin =
                LinkOrigin::parse(v).ok_or_else(|| format!("origin: {v:?} is not an origin"))?
        }
        "tier" => {
            l.tier = AccessTier::parse(v).ok_or_else(|| format!("tier: {v:?} is not a tier"))?
        }
        "rule" => l.decision = Decision::new(v),
        _ => return Err(unknown("a link", field)),
    }
    Ok(())
}

impl PlanItem {
    /// Sets one field of the item's record from its text.
    pub fn set_field(&mut self, field: &str, value: &str) -> Result<(), AssignError> {
        match self {
            PlanItem::Student { student, .. } => set_student_field(student, field, value),
            PlanItem::Guardian { guardian, .. } => set_guardian_field(guardian, field, value),
            PlanItem::Link { link, .. } => set_link_field(link, field, value),
            PlanItem::School { school, .. } => set_school_field(school, field, value),
            PlanItem::Contact { contact, .. } => set_contact_field(contact, field, value),
            PlanItem::Staff { staff, .. } => set_staff_field(staff, field, value),
            PlanItem::Classroom { classroom, .. } => set_classroom_field(classroom, field, value),
            PlanItem::Enrollment { enrollment, .. } => {
                set_enrollment_field(enrollment, field, value)
            }
        }
    }
}

/// A link, a contact or an enrollment made again from its record id and the fields the
/// change log kept of it (those are the records a run deletes). At `at`, with
/// `operation`; its changes are left for the caller to list.
pub fn remade(
    entity: Entity,
    record_id: &str,
    fields: &[(String, String)],
    operation: crate::change::Operation,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<PlanItem, AssignError> {
    let mut item = match entity {
        Entity::Link => {
            let (student, guardian) = record_id
                .split_once('/')
                .ok_or_else(|| format!("link {record_id:?} is not student/guardian"))?;
            let student: StudentId = student.parse().map_err(|e| format!("link: {e}"))?;
            let guardian: GuardianId = guardian.parse().map_err(|e| format!("link: {e}"))?;
            PlanItem::Link {
                operation,
                link: Link {
                    student_id: student,
                    guardian_id: guardian,
                    origin: LinkOrigin::Sis,
                    tier: AccessTier::Full,
                    decision: Decision::new(""),
                    updated_at: at,
                },
                changes: Vec::new(),
            }
        }
        Entity::Contact => {
            let (student, contact) = record_id
                .split_once('/')
                .ok_or_else(|| format!("contact {record_id:?} is not student/contact"))?;
            PlanItem::Contact {
                operation,
                contact: Contact {
                    source_id: SourceId::new(contact),
                    student_source_id: SourceId::new(student),
                    first_name: String::new(),
                    last_name: String::new(),
                    emails: Vec::new(),
                    relationship: Relationship::OtherRelationship,
                    contact_type: ContactType::OtherContactType,
                    phones: Vec::new(),
                    decision_making: None,
                },
                source_hash: String::new(),
                changes: Vec::new(),
            }
        }
        Entity::Enrollment => PlanItem::Enrollment {
            operation,
            enrollment: Enrollment {
                classroom_source_id: SourceId::new(""),
                person_source_id: SourceId::new(""),
                role: EnrollmentRole::Student,
            },
            changes: Vec::new(),
        },
        other => {
            return Err(format!(
                "a {} is archived, never deleted: it cannot be made again",
                other.as_str()
            ))
        }
    };
    for (field, value) in fields {
        item.set_field(field, value)?;
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields;

    /// Every field of `fields` set on `blank` gives back the record they were read from.
    fn round_trip<T: Clone + PartialEq + std::fmt::Debug>(
        record: &T,
        blank: &T,
        read: fn(&T) -> fields::Fields,
        set: fn(&mut T, &str, &str) -> Result<(), AssignError>,
    ) {
        let mut made = blank.clone();
        for (field, value) in read(record) {
            set(&mut made, field, &value).expect("a field it wrote");
        }
        assert_eq!(&made, record);
    }

    #[test]
    fn each_records_fields_set_back_give_the_record() {
        let student = Student {
            id: StudentId::new(),
            source_id: SourceId::new("4101"),
            student_number: "20041".into(),
            state_id: "123456789".into(),
            legal_first_name: "Zoë".into(),
            legal_last_name: "O'Brien".into(),
            middle_name: "Ann".into(),
            birth_date: NaiveDate::from_ymd_opt(2013, 4, 1),
            gender: Gender::NonBinary,
            school_source_id: Some(SourceId::new("17")),
            grade: "7".into(),
            enrollment_status: EnrollmentStatus::PreRegistered,
            independent_student: true,
            org_email: "z@district.example".into(),
            personal_email: "z@mail.example".into(),
            web_id: "zob".into(),
            archived: true,
        };
        let blank = Student {
            birth_date: None,
            school_source_id: None,
            independent_student: false,
            archived: false,
            ..student.clone()
        };
        round_trip(&student, &blank, fields::student_fields, set_student_field);
        let contact = Contact {
            source_id: SourceId::new("501"),
            student_source_id: SourceId::new("4101"),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            emails: vec!["a@x.example".into(), "b@x.example".into()],
            relationship: Relationship::StepParent,
            contact_type: ContactType::Emergency,
            phones: vec![Phone {
                number: "+1 403 555 0100".into(),
                kind: PhoneType::Cell,
            }],
            decision_making: Some(false),
        };
        let blank = Contact {
            emails: vec![],
            phones: vec![],
            decision_making: None,
            ..contact.clone()
        };
        round_trip(&contact, &blank, fields::contact_fields, set_contact_field);
        let staff = Staff {
            id: crate::ids::StaffId::new(),
            source_id: SourceId::new("T1"),
            first_name: "Lee".into(),
            last_name: "Teacher".into(),
            email: "t@district.example".into(),
            school_source_ids: vec![SourceId::new("17"), SourceId::new("18")],
            permissions: [StaffPermission::FamilyAccess].into_iter().collect(),
            archived: false,
        };
        let blank = Staff {
            school_source_ids: vec![],
            permissions: Default::default(),
            ..staff.clone()
        };
        round_trip(&staff, &blank, fields::staff_fields, set_staff_field);
    }

    #[test]
    fn a_deleted_link_contact_or_enrollment_is_made_again_from_its_logged_fields() {
        let at = chrono::Utc::now();
        let (s, g) = (StudentId::new(), GuardianId::new());
        let logged = vec![
            ("origin".to_owned(), "sis".to_owned()),
            ("tier".to_owned(), "restricted".to_owned()),
            ("rule".to_owned(), "ps.rule4.not_decision_making".to_owned()),
        ];
        let item = remade(
            Entity::Link,
            &format!("{s}/{g}"),
            &logged,
            crate::change::Operation::Create,
            at,
        )
        .expect("a link");
        let PlanItem::Link { link, .. } = item else {
            panic!("a link item")
        };
        assert_eq!(
            (
                link.student_id,
                link.guardian_id,
                link.tier,
                link.decision.rule.as_str()
            ),
            (s, g, AccessTier::Restricted, "ps.rule4.not_decision_making")
        );
        let refused = remade(
            Entity::Student,
            "x",
            &[],
            crate::change::Operation::Create,
            at,
        );
        assert!(refused.is_err());
    }
}
