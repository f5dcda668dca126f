//! The district as Clever shares it: one plain struct per record, one `Vec` per record
//! type, each in ascending id order (creation order). Everything the simulator serves is
//! read from here, and tests edit it live.
//!
//! Field names follow Clever's; a field Clever may leave out is an `Option` (or an empty
//! string where Clever sends `""`).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::cases::Cases;

/// Clever's grade vocabulary, in school order (students, sections, school low/high).
pub const GRADES: &[&str] = &[
    "InfantToddler",
    "Preschool",
    "PreKindergarten",
    "TransitionalKindergarten",
    "Kindergarten",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "13",
    "PostGraduate",
    "Ungraded",
    "Other",
];

/// `student_relationships[].relationship` values Clever validates (besides `""`).
pub const RELATIONSHIPS: &[&str] = &[
    "Parent",
    "Grandparent",
    "Self",
    "Aunt/Uncle",
    "Sibling",
    "Other",
];

/// `student_relationships[].type` values Clever validates (besides `""`).
pub const CONTACT_TYPES: &[&str] = &[
    "Parent/Guardian",
    "Emergency",
    "Primary",
    "Secondary",
    "Family",
    "Other",
];

/// `roles.contact.phone_type` values, `""` included.
pub const PHONE_TYPES: &[&str] = &["Cell", "Home", "Work", "Other", ""];

/// A person's name; Clever leaves out (or nulls) the parts it does not have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    pub first: Option<String>,
    pub middle: Option<String>,
    pub last: Option<String>,
}

impl Name {
    /// A first and last name, with a middle one when not empty.
    pub fn new(first: &str, middle: &str, last: &str) -> Name {
        Name {
            first: Some(first.to_owned()),
            middle: (!middle.is_empty()).then(|| middle.to_owned()),
            last: Some(last.to_owned()),
        }
    }

    /// A contact's name: the whole of it in `last`, as Clever sends contacts.
    pub fn full_in_last(full: &str) -> Name {
        Name {
            first: None,
            middle: None,
            last: Some(full.to_owned()),
        }
    }
}

/// A street address (`location` of schools and students).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// The district record (`/districts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictRecord {
    pub id: String,
    pub name: String,
    /// The sync state: `running, pending, error, paused, success` or `""`.
    pub state: String,
    pub last_sync: DateTime<Utc>,
    pub launch_date: NaiveDate,
    pub portal_url: String,
    pub sis_type: String,
    pub login_methods: Vec<String>,
    /// `district_contact`: the district's Clever administrator.
    pub contact_id: String,
    pub contact_email: String,
    pub contact_name: Name,
    pub contact_title: String,
    pub nces_id: String,
    pub mdr_number: String,
}

/// A school (`/schools`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub name: String,
    pub sis_id: String,
    pub school_number: String,
    pub state_id: String,
    pub nces_id: String,
    pub low_grade: String,
    pub high_grade: String,
    pub phone: String,
    pub principal_name: String,
    pub principal_email: String,
    pub location: Location,
}

/// `roles.student`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentRole {
    pub sis_id: String,
    pub student_number: String,
    pub state_id: String,
    pub legacy_id: String,
    /// `credentials.district_username`.
    pub district_username: String,
    /// The primary school.
    pub school: String,
    pub schools: Vec<String>,
    /// One of [`GRADES`] or `""`.
    pub grade: String,
    pub graduation_year: String,
    /// Served as `M/D/YYYY` without zero padding.
    pub dob: Option<NaiveDate>,
    /// `M`, `F`, `X` or `""`.
    pub gender: String,
    pub race: String,
    pub hispanic_ethnicity: String,
    pub ell_status: String,
    pub location: Location,
    /// `preferred_name`, served on `/v3.1` only.
    pub preferred_name: Option<Name>,
}

/// One entry of `roles.contact.student_relationships`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentRelationship {
    pub student: String,
    /// One of [`RELATIONSHIPS`], `""`, or (in a few records) something else.
    pub relationship: String,
    /// One of [`CONTACT_TYPES`] or `""`; served as `type`.
    pub kind: String,
}

/// `roles.contact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRole {
    /// `""` when the SIS gave none: such a contact gets a new id whenever it changes.
    pub sis_id: String,
    /// The v2 contact id.
    pub legacy_id: String,
    /// One free-text number, not normalised.
    pub phone: String,
    /// One of [`PHONE_TYPES`].
    pub phone_type: String,
    pub student_relationships: Vec<StudentRelationship>,
}

/// `roles.teacher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherRole {
    pub sis_id: String,
    pub teacher_number: String,
    pub state_id: String,
    pub title: String,
    pub school: String,
    pub schools: Vec<String>,
    pub legacy_id: String,
    pub district_username: String,
}

/// `roles.staff` (no single `school`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRole {
    pub staff_id: String,
    pub title: String,
    pub department: String,
    pub roles: Vec<String>,
    pub schools: Vec<String>,
    pub legacy_id: String,
    pub district_username: String,
}

/// `roles.district_admin` (district-wide: no schools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictAdminRole {
    pub title: String,
    pub legacy_id: String,
}

/// The roles a user holds. `student` and `contact` never combine with another role;
/// teacher, staff and district admin may share one user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles {
    pub student: Option<StudentRole>,
    pub teacher: Option<TeacherRole>,
    pub staff: Option<StaffRole>,
    pub contact: Option<ContactRole>,
    pub district_admin: Option<DistrictAdminRole>,
}

/// A `role=` value of `/users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Student,
    Teacher,
    Staff,
    Contact,
    DistrictAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Student,
        Role::Teacher,
        Role::Staff,
        Role::Contact,
        Role::DistrictAdmin,
    ];

    /// The role's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Contact => "contact",
            Role::DistrictAdmin => "district_admin",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// A user (`/users`): one person, with one object per role held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// Unvalidated; `None` is served as `null`.
    pub email: Option<String>,
    pub name: Name,
    pub roles: Roles,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        let r = &self.roles;
        match role {
            Role::Student => r.student.is_some(),
            Role::Teacher => r.teacher.is_some(),
            Role::Staff => r.staff.is_some(),
            Role::Contact => r.contact.is_some(),
            Role::DistrictAdmin => r.district_admin.is_some(),
        }
    }

    /// The schools the user belongs to (students, teachers, staff).
    pub fn schools(&self) -> Vec<&str> {
        let r = &self.roles;
        let mut out: Vec<&str> = Vec::new();
        let lists = [
            r.student.as_ref().map(|s| &s.schools),
            r.teacher.as_ref().map(|t| &t.schools),
            r.staff.as_ref().map(|s| &s.schools),
        ];
        for school in lists.into_iter().flatten().flatten() {
            if !out.contains(&school.as_str()) {
                out.push(school);
            }
        }
        out
    }

    /// The `sis_id` of the user's student, teacher or contact role, if it holds one.
    pub fn sis_id(&self) -> Option<&str> {
        let r = &self.roles;
        r.student
            .as_ref()
            .map(|s| s.sis_id.as_str())
            .or(r.teacher.as_ref().map(|t| t.sis_id.as_str()))
            .or(r.contact.as_ref().map(|c| c.sis_id.as_str()))
    }
}

/// A section (`/sections`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub school: String,
    pub course: String,
    pub term_id: String,
    pub name: String,
    pub sis_id: String,
    pub section_number: String,
    pub period: String,
    pub grade: String,
    pub subject: String,
    /// The primary teacher.
    pub teacher: Option<String>,
    pub teachers: Vec<String>,
    pub students: Vec<String>,
}

/// Where new Clever ids come from: a fixed 18-hex head (time and machine parts of an
/// ObjectId) and a six-hex counter, so ids sort in creation order (for up to 16 777 215
/// records).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdSource {
    pub head: String,
    pub next: u32,
}

impl IdSource {
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        format!("{}{:06x}", self.head, self.next)
    }
}

/// A whole district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct District {
    pub record: DistrictRecord,
    pub schools: Vec<School>,
    pub users: Vec<User>,
    pub sections: Vec<Section>,
    /// Ids of records the district stopped sharing: gone from lists, 404 on `/{id}`.
    pub unshared: BTreeSet<String>,
    pub cases: Cases,
    pub ids: IdSource,
    /// The time edits are stamped with; each edit moves it on.
    pub clock: DateTime<Utc>,
}

impl District {
    /// Whether the district shares this id (with the app).
    pub fn is_shared(&self, id: &str) -> bool {
        !self.unshared.contains(id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }

    pub fn school(&self, id: &str) -> Option<&School> {
        self.schools.iter().find(|s| s.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Users holding `role`, in id order.
    pub fn users_with_role(&self, role: Role) -> impl Iterator<Item = &User> {
        self.users.iter().filter(move |u| u.has_role(role))
    }

    /// The contacts whose relationships list `student`.
    pub fn contacts_of(&self, student: &str) -> impl Iterator<Item = &User> + '_ {
        let student = student.to_owned();
        self.users.iter().filter(move |u| {
            u.roles
                .contact
                .as_ref()
                .is_some_and(|c| c.student_relationships.iter().any(|r| r.student == student))
        })
    }

    /// A fresh id, greater than every id given before.
    pub fn new_id(&mut self) -> String {
        self.ids.next_id()
    }

    /// Moves the clock on and answers the new time.
    pub fn tick(&mut self) -> DateTime<Utc> {
        self.clock += Duration::minutes(7);
        self.clock
    }

    /// Marks a record changed now.
    pub fn touch_user(&mut self, id: &str) -> bool {
        let now = self.tick();
        match self.user_mut(id) {
            Some(user) => {
                user.last_modified = now;
                true
            }
            None => false,
        }
    }

    /// Gives a user a new id, as Clever does when it deletes a record and creates it again:
    /// the old id is gone (404), the record comes back last in id order, and every
    /// reference to it (sections, contacts' relationships, [`Cases`]) follows.
    /// Answers the new id, or `None` when no user has `old`.
    pub fn reissue_user(&mut self, old: &str) -> Option<String> {
        let at = self.users.iter().position(|u| u.id == old)?;
        let mut user = self.users.remove(at);
        let new = self.new_id();
        let now = self.tick();
        user.id = new.clone();
        user.created = now;
        user.last_modified = now;
        self.users.push(user);
        for section in &mut self.sections {
            for id in section
                .students
                .iter_mut()
                .chain(section.teachers.iter_mut())
                .chain(section.teacher.iter_mut())
            {
                if id == old {
                    id.clone_from(&new);
                }
            }
        }
        for contact in self
            .users
            .iter_mut()
            .filter_map(|u| u.roles.contact.as_mut())
        {
            for link in &mut contact.student_relationships {
                if link.student == old {
                    link.student.clone_from(&new);
                }
            }
        }
        if self.record.contact_id == old {
            self.record.contact_id.clone_from(&new);
        }
        self.unshared.remove(old);
        self.cases.rename(old, &new);
        Some(new)
    }

    /// Deletes a contact and creates it again under a new id (and a new `legacy_id`),
    /// same name, e-mail, phone and students: what Clever does when a contact without
    /// `sis_id` is edited. `None` when `id` is no contact.
    pub fn recreate_contact(&mut self, id: &str) -> Option<String> {
        if !self.user(id)?.has_role(Role::Contact) {
            return None;
        }
        let legacy = self.new_id();
        let new = self.reissue_user(id)?;
        if let Some(contact) = self.user_mut(&new).and_then(|u| u.roles.contact.as_mut()) {
            contact.legacy_id = legacy;
        }
        Some(new)
    }

    /// Sets the `sis_id` of a student, teacher or contact; Clever gives the user a new
    /// id. `None` when no such user holds one of those roles.
    pub fn change_sis_id(&mut self, id: &str, sis_id: &str) -> Option<String> {
        let user = self.user_mut(id)?;
        let r = &mut user.roles;
        if let Some(s) = r.student.as_mut() {
            s.sis_id = sis_id.to_owned();
        } else if let Some(t) = r.teacher.as_mut() {
            t.sis_id = sis_id.to_owned();
        } else if let Some(c) = r.contact.as_mut() {
            c.sis_id = sis_id.to_owned();
        } else {
            return None;
        }
        self.reissue_user(id)
    }

    /// Stops sharing a record (user, school or section): it vanishes from every list
    /// and its `/{id}` answers 404. `false` when the district holds no such record.
    pub fn unshare(&mut self, id: &str) -> bool {
        if !self.holds(id) {
            return false;
        }
        self.unshared.insert(id.to_owned());
        true
    }

    /// Shares an unshared record again, under the same id.
    pub fn reshare(&mut self, id: &str) -> bool {
        self.unshared.remove(id)
    }

    /// Whether any user, school or section has this id.
    pub fn holds(&self, id: &str) -> bool {
        self.user(id).is_some() || self.school(id).is_some() || self.section(id).is_some()
    }
}

/// `M/D/YYYY` without zero padding, as Clever writes `dob`.
pub fn clever_date(date: NaiveDate) -> String {
    use chrono::Datelike as _;
    format!("{}/{}/{}", date.month(), date.day(), date.year())
}

/// ISO-8601 UTC with milliseconds (`2025-03-02T22:24:57.485Z`).
pub fn clever_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_unpadded_and_times_carry_milliseconds() {
        let date = NaiveDate::from_ymd_opt(2007, 2, 3).expect("date");
        assert_eq!(clever_date(date), "2/3/2007");
        let time = DateTime::parse_from_rfc3339("2025-03-02T22:24:57.4Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(clever_time(time), "2025-03-02T22:24:57.400Z");
    }

    #[test]
    fn ids_grow_in_creation_order() {
        let mut ids = IdSource {
            head: "66f0a1b2c3d4e5f6a7".to_owned(),
            next: 0,
        };
        let a = ids.next_id();
        let b = ids.next_id();
        assert_eq!(a.len(), 24);
        assert!(a < b);
    }
}
