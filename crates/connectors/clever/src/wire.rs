//! Clever's v3 JSON as it arrives: the list envelope and the records, each field optional
//! and `null`-tolerant (reference §4: optional fields may be absent, `null` or `""`;
//! unknown keys are ignored).

use serde::Deserialize;

pub use connector::lenient::{Ids, Text};

/// `{"data": [{"data": {…}, "uri": …}], "links": [{"rel": …, "uri": …}]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListAnswer<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<Item<T>>,
    #[serde(default)]
    pub links: Vec<Link>,
}

impl<T> ListAnswer<T> {
    /// The `next` link's URI, when the source gave one.
    pub fn next(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel.as_str() == "next")
            .map(|l| l.uri.as_str())
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Item<T> {
    pub data: T,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub rel: Text,
    #[serde(default)]
    pub uri: Text,
}

/// A single read: `{"data": {…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Single<T> {
    pub data: T,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct District {
    #[serde(default)]
    pub id: Text,
    #[serde(default)]
    pub name: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct School {
    #[serde(default)]
    pub id: Text,
    #[serde(default)]
    pub name: Text,
    #[serde(default)]
    pub sis_id: Text,
    #[serde(default)]
    pub school_number: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Name {
    #[serde(default)]
    pub first: Text,
    #[serde(default)]
    pub middle: Text,
    #[serde(default)]
    pub last: Text,
}

/// A user of any role.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    #[serde(default)]
    pub id: Text,
    #[serde(default)]
    pub email: Text,
    #[serde(default)]
    pub name: Name,
    #[serde(default)]
    pub roles: Roles,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Roles {
    #[serde(default)]
    pub student: Option<StudentRole>,
    #[serde(default)]
    pub contact: Option<ContactRole>,
    #[serde(default)]
    pub teacher: Option<TeacherRole>,
    #[serde(default)]
    pub staff: Option<StaffRole>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StudentRole {
    #[serde(default)]
    pub sis_id: Text,
    #[serde(default)]
    pub student_number: Text,
    #[serde(default)]
    pub state_id: Text,
    #[serde(default)]
    pub school: Text,
    #[serde(default)]
    pub schools: Ids,
    #[serde(default)]
    pub grade: Text,
    #[serde(default)]
    pub dob: Text,
    #[serde(default)]
    pub gender: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactRole {
    #[serde(default)]
    pub sis_id: Text,
    #[serde(default)]
    pub legacy_id: Text,
    #[serde(default)]
    pub phone: Text,
    #[serde(default)]
    pub phone_type: Text,
    #[serde(default)]
    pub student_relationships: Vec<Relationship>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Relationship {
    #[serde(default)]
    pub student: Text,
    #[serde(default)]
    pub relationship: Text,
    #[serde(default, rename = "type")]
    pub kind: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeacherRole {
    #[serde(default)]
    pub sis_id: Text,
    #[serde(default)]
    pub school: Text,
    #[serde(default)]
    pub schools: Ids,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StaffRole {
    #[serde(default)]
    pub staff_id: Text,
    #[serde(default)]
    pub schools: Ids,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Section {
    #[serde(default)]
    pub id: Text,
    #[serde(default)]
    pub school: Text,
    #[serde(default)]
    pub name: Text,
    #[serde(default)]
    pub teacher: Text,
    #[serde(default)]
    pub teachers: Ids,
    #[serde(default)]
    pub students: Ids,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_list_page_reads_with_nulls_and_unknown_keys() {
        let json = r#"{"data":[{"data":{"id":"66f0a1b2c3d4e5f6a7b8d001","district":"d",
            "created":"2025-01-10T10:00:00.000Z","email":"ana.ruiz@example.net",
            "name":{"last":"Ana Ruiz","first":null},"roles":{"contact":{"sis_id":"G-2001",
            "legacy_id":"5b2a","phone":"(555) 010-2233","phone_type":"Cell",
            "student_relationships":[{"student":"66f0a1b2c3d4e5f6a7b8e001","relationship":"Parent","type":"Parent/Guardian"},
            {"student":"66f0a1b2c3d4e5f6a7b8e002","relationship":"Aunt/Uncle","type":"Emergency"}]}},
            "surprise":1},"uri":"/v3.0/users/66f0a1b2c3d4e5f6a7b8d001"}],
            "links":[{"rel":"self","uri":"/v3.0/users?role=contact"},
                     {"rel":"next","uri":"/v3.0/users?role=contact&starting_after=66f0a1b2c3d4e5f6a7b8d001"}]}"#;
        let page: ListAnswer<User> = serde_json::from_str(json).expect("parses");
        assert_eq!(
            page.next(),
            Some("/v3.0/users?role=contact&starting_after=66f0a1b2c3d4e5f6a7b8d001")
        );
        let user = &page.data[0].data;
        assert_eq!(user.name.last.as_str(), "Ana Ruiz");
        assert_eq!(user.name.first.as_str(), "");
        let contact = user.roles.contact.as_ref().expect("a contact");
        assert_eq!(contact.student_relationships.len(), 2);
        assert_eq!(contact.student_relationships[1].kind.as_str(), "Emergency");
    }
}

macro_rules! keyed_by_id {
    ($($t:ty),*) => {$(
        impl connector::Keyed for $t {
            fn page_key(&self) -> &str {
                self.id.as_str()
            }
        }
    )*};
}
keyed_by_id!(District, School, User, Section);

impl<T: connector::Keyed> connector::Keyed for Item<T> {
    fn page_key(&self) -> &str {
        self.data.page_key()
    }
}
