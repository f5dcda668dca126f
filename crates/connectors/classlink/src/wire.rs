//! OneRoster 1.1 and 1.2 JSON as it arrives (reference §3, §6): the collection envelopes
//! (`{"users": […]}`, or a bare array as some proxies send), single reads
//! (`{"user": …}`), and the records — every field optional, `null`- and number-tolerant,
//! string booleans read as text. One struct holds both versions: 1.1's `role` and
//! `orgs`, 1.2's `roles[]`, `primaryOrg` and preferred names; [`crate::map`] chooses.

use connector::lenient::{Ids, Text};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A reference to another record: `{"href", "sourcedId", "type"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuidRef {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default, rename = "type")]
    pub kind: Text,
}

/// A list of references that may be absent, `null` or hold junk entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs(pub Vec<GuidRef>);

impl<'de> Deserialize<'de> for Refs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Refs(match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|i| serde_json::from_value::<GuidRef>(i).ok())
                .filter(|r| !r.sourced_id.as_str().is_empty())
                .collect(),
            _ => Vec::new(),
        }))
    }
}

impl Refs {
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|r| r.sourced_id.as_str())
    }
}

/// One entry of 1.2's `roles`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleEntry {
    #[serde(default)]
    pub role_type: Text,
    #[serde(default)]
    pub role: Text,
    #[serde(default)]
    pub org: Option<GuidRef>,
}

/// `userIds` entries: `{"type": "FED", "identifier": "2001"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UserId {
    #[serde(default, rename = "type")]
    pub kind: Text,
    #[serde(default)]
    pub identifier: Text,
}

/// A user, 1.1 or 1.2.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default)]
    pub status: Text,
    #[serde(default)]
    pub username: Text,
    #[serde(default, deserialize_with = "lenient_list")]
    pub user_ids: Vec<UserId>,
    #[serde(default)]
    pub enabled_user: Text,
    #[serde(default)]
    pub given_name: Text,
    #[serde(default)]
    pub family_name: Text,
    #[serde(default)]
    pub middle_name: Text,
    /// 1.2 (also spelt `preferredGivenName` by one implementation).
    #[serde(default, alias = "preferredGivenName")]
    pub preferred_first_name: Text,
    /// 1.2 (also spelt `preferredFamilyName`).
    #[serde(default, alias = "preferredFamilyName")]
    pub preferred_last_name: Text,
    /// 1.1: the one role.
    #[serde(default)]
    pub role: Text,
    /// 1.2: every role, each with its org.
    #[serde(default, deserialize_with = "lenient_list")]
    pub roles: Vec<RoleEntry>,
    #[serde(default)]
    pub identifier: Text,
    #[serde(default)]
    pub email: Text,
    #[serde(default)]
    pub sms: Text,
    #[serde(default)]
    pub phone: Text,
    #[serde(default)]
    pub agents: Refs,
    /// 1.1 only.
    #[serde(default)]
    pub orgs: Refs,
    /// 1.2 only.
    #[serde(default)]
    pub primary_org: Option<GuidRef>,
    #[serde(default)]
    pub grades: Ids,
}

/// An org (district, school, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default)]
    pub status: Text,
    #[serde(default)]
    pub name: Text,
    #[serde(default, rename = "type")]
    pub kind: Text,
    #[serde(default)]
    pub identifier: Text,
}

/// A class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Class {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default)]
    pub status: Text,
    #[serde(default)]
    pub title: Text,
    #[serde(default)]
    pub class_code: Text,
    #[serde(default)]
    pub school: Option<GuidRef>,
}

/// An enrollment of a user in a class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrollment {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default)]
    pub status: Text,
    #[serde(default)]
    pub user: Option<GuidRef>,
    #[serde(default)]
    pub class: Option<GuidRef>,
    #[serde(default)]
    pub role: Text,
}

/// A list whose entries that do not parse are dropped rather than failing the record.
fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The collection envelope: one of these keys holds the records.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Envelope<T> {
    users: Option<Vec<T>>,
    orgs: Option<Vec<T>>,
    classes: Option<Vec<T>>,
    enrollments: Option<Vec<T>>,
    demographics: Option<Vec<T>>,
}

/// Which envelope key a collection answers under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKey {
    Users,
    Orgs,
    Classes,
    Enrollments,
    Demographics,
}

impl ListKey {
    pub fn as_str(self) -> &'static str {
        match self {
            ListKey::Users => "users",
            ListKey::Orgs => "orgs",
            ListKey::Classes => "classes",
            ListKey::Enrollments => "enrollments",
            ListKey::Demographics => "demographics",
        }
    }
}

/// The records of a collection answer under `key`, or of a bare array. A success-shaped
/// body without the expected array is an error (reference §3), not an empty page.
pub fn list<T: DeserializeOwned>(body: &[u8], key: ListKey) -> Result<Vec<T>, String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return serde_json::from_slice(body).map_err(|e| e.to_string());
    }
    let envelope: Envelope<T> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let records = match key {
        ListKey::Users => envelope.users,
        ListKey::Orgs => envelope.orgs,
        ListKey::Classes => envelope.classes,
        ListKey::Enrollments => envelope.enrollments,
        ListKey::Demographics => envelope.demographics,
    };
    records.ok_or_else(|| format!("the answer holds no {:?} list", key.as_str()))
}

/// A user's demographics (`/demographics`, keyed by the user's `sourcedId`): the
/// fields rostersync keeps of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Demographic {
    #[serde(default)]
    pub sourced_id: Text,
    #[serde(default)]
    pub status: Text,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub birth_date: Text,
    /// `male`, `female`, `other`, `unspecified`.
    #[serde(default)]
    pub sex: Text,
}

/// `{"demographics": …}`.
#[derive(Debug, Deserialize)]
pub struct SingleDemographic {
    pub demographics: Demographic,
}

/// `{"user": …}`.
#[derive(Debug, Deserialize)]
pub struct SingleUser {
    pub user: User,
}

/// ClassLink's `/applications` answer (reference §1).
#[derive(Debug, Deserialize)]
pub struct Applications {
    #[serde(default, deserialize_with = "lenient_list")]
    pub applications: Vec<Application>,
}

/// One district's grant of our application.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Application {
    #[serde(default)]
    pub tenant_id: Text,
    #[serde(default)]
    pub tenant_name: Text,
    #[serde(default)]
    pub application_id: Text,
    #[serde(default)]
    pub oneroster_application_id: Text,
    #[serde(default)]
    pub enabled: Text,
    #[serde(default)]
    pub tenant_status: Text,
}

/// `/applications/{id}/server`.
#[derive(Debug, Deserialize)]
pub struct ServerAnswer {
    pub server: Server,
}

/// The Roster Server and its OAuth 1.0a credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct Server {
    #[serde(default)]
    pub client_id: Text,
    #[serde(default)]
    pub client_secret: Text,
    #[serde(default)]
    pub endpoint_url: Text,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1_1_user_and_a_1_2_user_read_into_one_struct() {
        let v11: User = serde_json::from_str(
            r#"{"sourcedId":"g-2001","status":"active","enabledUser":"true","givenName":"Ana",
            "familyName":"Ruiz","role":"parent","sms":"+15550102233","phone":"555-010-4455",
            "agents":[{"href":"https://h/users/s-1001","sourcedId":"s-1001","type":"user"}],
            "orgs":[{"sourcedId":"3","type":"org"}],"grades":[],"password":""}"#,
        )
        .expect("1.1 user");
        assert_eq!(v11.role.as_str(), "parent");
        assert_eq!(v11.agents.ids().collect::<Vec<_>>(), ["s-1001"]);
        let v12: User = serde_json::from_str(
            r#"{"sourcedId":"s-1","status":"active","enabledUser":true,"givenName":"Jo",
            "familyName":"Li","preferredGivenName":"Joey",
            "roles":[{"roleType":"primary","role":"student","org":{"sourcedId":"3"}}, 7],
            "primaryOrg":{"sourcedId":"3"},"agents":null,"grades":["06"],"metadata":{},
            "userProfiles":[{"profileId":"p-1","profileType":"lms","vendorId":"v","applicationId":"a",
              "credentials":[{"type":"password","username":"jo.li"}]}],"pronouns":"they/them"}"#,
        )
        .expect("1.2 user");
        assert_eq!(v12.enabled_user.as_str(), "true");
        assert_eq!(v12.preferred_first_name.as_str(), "Joey");
        assert_eq!(v12.roles.len(), 1, "a junk role entry is dropped");
        assert!(v12.agents.0.is_empty());
    }

    #[test]
    fn a_list_needs_its_key_or_a_bare_array() {
        let users: Vec<User> =
            list(br#"{"users":[{"sourcedId":"a"}]}"#, ListKey::Users).expect("keyed");
        assert_eq!(users.len(), 1);
        let bare: Vec<User> = list(br#" [{"sourcedId":"a"}]"#, ListKey::Users).expect("bare");
        assert_eq!(bare.len(), 1);
        let err = list::<User>(br#"{"orgs":[]}"#, ListKey::Users).expect_err("wrong key");
        assert!(err.contains("\"users\""), "{err}");
    }
}

macro_rules! keyed_by_sourced_id {
    ($($t:ty),*) => {$(
        impl connector::Keyed for $t {
            fn page_key(&self) -> &str {
                self.sourced_id.as_str()
            }
        }
    )*};
}
keyed_by_sourced_id!(User, Org, Class, Enrollment, Demographic);
