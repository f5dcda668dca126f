//! Records as field lists, and the field changes between two versions of one.

use crate::change::{Entity, FieldChange, Operation};
use crate::link::Link;
use crate::roster::{Classroom, Contact, Enrollment, Guardian, School, Staff, Student};

/// A record's synced fields by name, as text.
pub type Fields = Vec<(&'static str, String)>;

pub fn student_fields(s: &Student) -> Fields {
    vec![
        ("source_id", s.source_id.to_string()),
        ("student_number", s.student_number.clone()),
        ("state_id", s.state_id.clone()),
        ("legal_first_name", s.legal_first_name.clone()),
        ("legal_last_name", s.legal_last_name.clone()),
        ("middle_name", s.middle_name.clone()),
        (
            "birth_date",
            s.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("gender", s.gender.as_str().to_owned()),
        (
            "school_source_id",
            s.school_source_id
                .as_ref()
                .map(|x| x.to_string())
                .unwrap_or_default(),
        ),
        ("grade", s.grade.clone()),
        ("enrollment_status", s.enrollment_status.as_str().to_owned()),
        ("independent_student", s.independent_student.to_string()),
        ("org_email", s.org_email.clone()),
        ("personal_email", s.personal_email.clone()),
        ("web_id", s.web_id.clone()),
        ("archived", s.archived.to_string()),
    ]
}

pub fn guardian_fields(g: &Guardian) -> Fields {
    vec![
        (
            "source_id",
            g.source_id
                .as_ref()
                .map(|x| x.to_string())
                .unwrap_or_default(),
        ),
        ("first_name", g.first_name.clone()),
        ("last_name", g.last_name.clone()),
        ("email", g.email.clone()),
        ("home_phone", g.home_phone.clone()),
        ("mobile_phone", g.mobile_phone.clone()),
        ("address_street", g.address.street.clone()),
        ("address_city", g.address.city.clone()),
        ("address_region", g.address.region.clone()),
        ("address_postal_code", g.address.postal_code.clone()),
        ("status", g.status.as_str().to_owned()),
        ("sis_connected", g.sis_connected.to_string()),
        ("archived", g.archived.to_string()),
    ]
}

pub fn school_fields(s: &School) -> Fields {
    vec![
        ("source_id", s.source_id.to_string()),
        ("school_number", s.school_number.clone()),
        ("name", s.name.clone()),
        ("archived", s.archived.to_string()),
    ]
}

pub fn staff_fields(s: &Staff) -> Fields {
    vec![
        ("source_id", s.source_id.to_string()),
        ("first_name", s.first_name.clone()),
        ("last_name", s.last_name.clone()),
        ("email", s.email.clone()),
        (
            "school_source_ids",
            joined(s.school_source_ids.iter().map(|x| x.as_str())),
        ),
        (
            "permissions",
            joined(s.permissions.iter().map(|p| p.as_str())),
        ),
        ("archived", s.archived.to_string()),
    ]
}

pub fn classroom_fields(c: &Classroom) -> Fields {
    vec![
        ("source_id", c.source_id.to_string()),
        ("school_source_id", c.school_source_id.to_string()),
        ("name", c.name.clone()),
        ("archived", c.archived.to_string()),
    ]
}

pub fn contact_fields(c: &Contact) -> Fields {
    vec![
        ("first_name", c.first_name.clone()),
        ("last_name", c.last_name.clone()),
        ("emails", joined(c.emails.iter().map(String::as_str))),
        ("relationship", c.relationship.as_str().to_owned()),
        ("contact_type", c.contact_type.as_str().to_owned()),
        (
            "phones",
            joined(
                c.phones
                    .iter()
                    .map(|p| format!("{}:{}", p.kind.as_str(), p.number))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
        ),
        (
            "decision_making",
            c.decision_making.map(|d| d.to_string()).unwrap_or_default(),
        ),
        // Never changed for a contact (they are its key); kept so a deleted contact's
        // logged fields are the whole contact.
        ("student_source_id", c.student_source_id.to_string()),
        ("source_id", c.source_id.to_string()),
    ]
}

pub fn enrollment_fields(e: &Enrollment) -> Fields {
    vec![
        ("classroom_source_id", e.classroom_source_id.to_string()),
        ("person_source_id", e.person_source_id.to_string()),
        ("role", e.role.as_str().to_owned()),
    ]
}

fn joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

pub fn link_fields(l: &Link) -> Fields {
    vec![
        ("origin", l.origin.as_str().to_owned()),
        ("tier", l.tier.as_str().to_owned()),
        ("rule", l.decision.rule.to_string()),
    ]
}

/// The field changes from `old` (none: a new record) to `new`. A created record lists
/// its non-empty fields; a deleted one lists what it was.
pub fn changes(
    entity: Entity,
    record_id: &str,
    operation: Operation,
    old: Option<&Fields>,
    new: &Fields,
) -> Vec<FieldChange> {
    let change = |field: &str, old: Option<String>, new: Option<String>| FieldChange {
        entity,
        record_id: record_id.to_owned(),
        operation,
        field: field.to_owned(),
        old_value: old,
        new_value: new,
    };
    match (operation, old) {
        (Operation::Delete, _) => new
            .iter()
            .map(|(f, v)| change(f, Some(v.clone()), None))
            .collect(),
        (_, None) => new
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| change(f, None, Some(v.clone())))
            .collect(),
        (_, Some(old)) => new
            .iter()
            .zip(old.iter())
            .filter(|((_, n), (_, o))| n != o)
            .map(|((f, n), (_, o))| change(f, Some(o.clone()), Some(n.clone())))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_lists_only_the_fields_that_moved() {
        let old: Fields = vec![("grade", "6".into()), ("legal_last_name", "Doe".into())];
        let new: Fields = vec![("grade", "7".into()), ("legal_last_name", "Doe".into())];
        let c = changes(Entity::Student, "s1", Operation::Update, Some(&old), &new);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (
                c[0].field.as_str(),
                c[0].old_value.as_deref(),
                c[0].new_value.as_deref()
            ),
            ("grade", Some("6"), Some("7"))
        );
        assert!(changes(Entity::Student, "s1", Operation::Update, Some(&old), &old).is_empty());
    }

    #[test]
    fn a_creation_lists_its_non_empty_fields_and_a_deletion_what_was() {
        let new: Fields = vec![("grade", "7".into()), ("middle_name", String::new())];
        let c = changes(Entity::Student, "s1", Operation::Create, None, &new);
        assert_eq!(c.len(), 1);
        let d = changes(Entity::Link, "s1/g1", Operation::Delete, None, &new);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|c| c.new_value.is_none()));
    }
}
