//! The edge cases every generated district of at least 20 students holds, whatever the
//! seed: each family case is built by one builder below and placed at a random position
//! among the random families; the staff and section cases are built with the schools'
//! staff and sections in `generate`.

use std::collections::BTreeMap;

use super::data::StudentRelationship;
use super::generate::{Builder, StudentSpec};

/// The Clever ids of the edge-case records of a district. Ids follow the records: when
/// a mutation gives a record a new id, the new id replaces the old one here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cases {
    /// Each `relationship` value Clever validates (`Parent`, `Grandparent`, `Self`,
    /// `Aunt/Uncle`, `Sibling`, `Other`) → a contact whose one relationship has it.
    pub relationship_contacts: BTreeMap<String, String>,
    /// Each `type` value (`Parent/Guardian`, `Emergency`, `Primary`, `Secondary`,
    /// `Family`, `Other`) → a contact whose one relationship has it.
    pub type_contacts: BTreeMap<String, String>,
    /// Each `phone_type` (`Cell`, `Home`, `Work`, `Other` and `""`) → a contact with a
    /// phone of that type.
    pub phone_type_contacts: BTreeMap<String, String>,
    /// Each unusual grade (`PreKindergarten`, `TransitionalKindergarten`,
    /// `Kindergarten`, `Ungraded`, `PostGraduate`, `Other`) → a student in it. Each has
    /// one contact, of the maps above; the `PostGraduate` student is its own `Self`
    /// contact (same name and e-mail).
    pub grade_students: BTreeMap<String, String>,
    /// A contact of type `Parent/Guardian` whose relationship is `Probation Officer`,
    /// outside Clever's list, when the district is generated with
    /// [`super::config::Quirks::unknown_values`] (`Other` otherwise, as Clever sends),
    /// and its student.
    pub unknown_relationship_contact: String,
    pub unknown_relationship_student: String,
    /// A contact with `sis_id: ""` (with an e-mail and a `Cell` phone): any edit gives it
    /// a new id. Parent of [`Cases::sis_id_student`].
    pub no_sis_id_contact: String,
    /// A contact with an `sis_id`: its id survives edits. The other parent of
    /// [`Cases::sis_id_student`].
    pub sis_id_contact: String,
    pub sis_id_student: String,
    /// A contact linked to two students: `Parent`/`Parent/Guardian` of the first,
    /// `Other`/`Emergency` of the second.
    pub two_students_contact: String,
    pub two_students: Vec<String>,
    /// A student without any contact, whose gender is `X`.
    pub contactless_student: String,
    /// A student whose gender is `X` (the contactless one).
    pub gender_x_student: String,
    /// A student with a `preferred_name` (served on `/v3.1`): the first of
    /// [`Cases::two_students`].
    pub preferred_name_student: String,
    /// A teacher of two schools (`schools` holds both; `school` is the first). Empty in a
    /// one-school district.
    pub two_school_teacher: String,
    /// A section with two teachers (`teacher` is the first of `teachers`).
    pub two_teacher_section: String,
    /// A staff member whose `roles` holds three values, of two schools when the district
    /// has two.
    pub several_roles_staff: String,
    /// One user holding both a teacher and a staff role.
    pub teacher_and_staff: String,
    /// The district admin (`roles.district_admin`, no schools), also the district's
    /// `district_contact`.
    pub district_admin: String,
}

impl Cases {
    /// Replaces an id that a record gave up for a new one.
    pub(super) fn rename(&mut self, old: &str, new: &str) {
        let maps = [
            &mut self.relationship_contacts,
            &mut self.type_contacts,
            &mut self.phone_type_contacts,
            &mut self.grade_students,
        ];
        let in_maps = maps.into_iter().flat_map(|m| m.values_mut());
        let fields = [
            &mut self.unknown_relationship_contact,
            &mut self.unknown_relationship_student,
            &mut self.no_sis_id_contact,
            &mut self.sis_id_contact,
            &mut self.sis_id_student,
            &mut self.two_students_contact,
            &mut self.contactless_student,
            &mut self.gender_x_student,
            &mut self.preferred_name_student,
            &mut self.two_school_teacher,
            &mut self.two_teacher_section,
            &mut self.several_roles_staff,
            &mut self.teacher_and_staff,
            &mut self.district_admin,
        ];
        for id in in_maps.chain(fields).chain(self.two_students.iter_mut()) {
            if id == old {
                *id = new.to_owned();
            }
        }
    }
}

/// A builder of one edge-case family.
pub(super) type CaseFamily = fn(&mut Builder, &mut Cases);

/// The edge-case families, in a fixed order.
pub(super) const FAMILIES: &[CaseFamily] = &[
    |b, c| grade_family(b, c, 0),
    |b, c| grade_family(b, c, 1),
    |b, c| grade_family(b, c, 2),
    |b, c| grade_family(b, c, 3),
    |b, c| grade_family(b, c, 4),
    |b, c| grade_family(b, c, 5),
    sis_id_parents,
    siblings,
    contactless,
];

/// How many students the edge-case families hold together.
pub(super) const CASE_STUDENTS: usize = 10;

/// (grade, relationship, type, phone type) of the one student and contact of each grade
/// family: together they cover every relationship, type and phone type.
const GRADE_CASES: [(&str, &str, &str, &str); 6] = [
    ("PreKindergarten", "Parent", "Parent/Guardian", "Cell"),
    (
        "TransitionalKindergarten",
        "Grandparent",
        "Emergency",
        "Home",
    ),
    ("Kindergarten", "Aunt/Uncle", "Secondary", "Work"),
    ("Ungraded", "Sibling", "Family", "Other"),
    ("Other", "Other", "Other", ""),
    ("PostGraduate", "Self", "Primary", "Cell"),
];

fn grade_family(b: &mut Builder, c: &mut Cases, which: usize) {
    let Some(&(grade, relationship, kind, phone_type)) = GRADE_CASES.get(which) else {
        return;
    };
    let family = b.new_family();
    let student = b.add_student(
        &family,
        StudentSpec {
            grade: Some(grade),
            ..StudentSpec::default()
        },
    );
    let mut contact = b.contact_spec(&family);
    if relationship == "Self" {
        let email = match contact.email.clone() {
            Some(email) => Some(email),
            None => Some(b.email(&contact.full_name)),
        };
        if let Some(user) = b.d.user_mut(&student) {
            let first = user.name.first.clone().unwrap_or_default();
            let last = user.name.last.clone().unwrap_or_default();
            contact.full_name = format!("{first} {last}");
            if user.email.is_none() {
                user.email = email;
            }
            contact.email = user.email.clone();
        }
    }
    contact.phone_type = phone_type.to_owned();
    contact.links = vec![link(&student, relationship, kind)];
    let id = b.add_contact(&contact);
    c.grade_students.insert(grade.to_owned(), student);
    c.relationship_contacts
        .insert(relationship.to_owned(), id.clone());
    c.type_contacts.insert(kind.to_owned(), id.clone());
    c.phone_type_contacts
        .entry(phone_type.to_owned())
        .or_insert(id);
}

/// Two parents of one student: the mother without `sis_id`, the father with one.
fn sis_id_parents(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(&family, StudentSpec::default());
    let mut mother = b.contact_spec(&family);
    mother.with_sis_id = false;
    mother.phone_type = "Cell".to_owned();
    if mother.email.is_none() {
        mother.email = Some(b.email(&mother.full_name));
    }
    mother.links = vec![link(&student, "Parent", "Parent/Guardian")];
    let mut father = b.contact_spec(&family);
    father.with_sis_id = true;
    father.links = vec![link(&student, "Parent", "Parent/Guardian")];
    c.no_sis_id_contact = b.add_contact(&mother);
    c.sis_id_contact = b.add_contact(&father);
    c.sis_id_student = student;
}

/// Two siblings; one contact is the parent of the first and the emergency contact of the
/// second, another is the first's step-parent.
fn siblings(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let first = b.add_student(&family, StudentSpec::default());
    let second = b.add_student(&family, StudentSpec::default());
    if let Some(student) = b.d.user_mut(&first).and_then(|u| u.roles.student.as_mut()) {
        let last = family.last_name.clone();
        student.preferred_name = Some(super::data::Name {
            first: Some("Sunny".to_owned()),
            middle: None,
            last: Some(last),
        });
    }
    let mut parent = b.contact_spec(&family);
    parent.links = vec![
        link(&first, "Parent", "Parent/Guardian"),
        link(&second, "Other", "Emergency"),
    ];
    let mut step = b.contact_spec(&family);
    // Clever validates relationships against its list [SW]: only a district generated
    // to test unknown values holds one outside it.
    let relationship = if b.unknown_values {
        "Probation Officer"
    } else {
        "Other"
    };
    step.links = vec![link(&first, relationship, "Parent/Guardian")];
    c.two_students_contact = b.add_contact(&parent);
    c.unknown_relationship_contact = b.add_contact(&step);
    c.unknown_relationship_student = first.clone();
    c.preferred_name_student = first.clone();
    c.two_students = vec![first, second];
}

fn contactless(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(
        &family,
        StudentSpec {
            gender: Some("X"),
            ..StudentSpec::default()
        },
    );
    c.contactless_student = student.clone();
    c.gender_x_student = student;
}

fn link(student: &str, relationship: &str, kind: &str) -> StudentRelationship {
    StudentRelationship {
        student: student.to_owned(),
        relationship: relationship.to_owned(),
        kind: kind.to_owned(),
    }
}
