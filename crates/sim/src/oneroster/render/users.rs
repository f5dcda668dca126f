//! Users in each version's shape: 1.1's one `role` and `orgs`, 1.2's `roles[]`,
//! `primaryOrg` and preferred names; the fields each version lets a filter or a `fields`
//! selection name. A 1.2 user has no `role`, so a 1.2 filter naming it is refused with
//! 400 `invalid_filter_field`, as a strict 1.2 server answers (reference §8, [OAS12]).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{flag, many, one, Ctx, Field, Record, Version};
use crate::oneroster::data::*;

const USER_FILTER_V1P1: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "username",
    "enabledUser",
    "givenName",
    "familyName",
    "middleName",
    "role",
    "identifier",
    "email",
    "sms",
    "phone",
    "grades",
    "orgs.sourcedId",
    "agents.sourcedId",
];
const USER_FILTER_V1P2: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "username",
    "enabledUser",
    "givenName",
    "familyName",
    "middleName",
    "preferredFirstName",
    "preferredLastName",
    "roles.role",
    "identifier",
    "email",
    "sms",
    "phone",
    "grades",
    "primaryOrg.sourcedId",
    "agents.sourcedId",
];
const USER_SELECT_V1P1: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "username",
    "userIds",
    "enabledUser",
    "givenName",
    "familyName",
    "middleName",
    "role",
    "identifier",
    "email",
    "sms",
    "phone",
    "agents",
    "orgs",
    "grades",
    "password",
];
const USER_SELECT_V1P2: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "username",
    "userIds",
    "enabledUser",
    "givenName",
    "familyName",
    "middleName",
    "preferredFirstName",
    "preferredLastName",
    "roles",
    "primaryOrg",
    "identifier",
    "email",
    "sms",
    "phone",
    "agents",
    "grades",
    "password",
];

impl Record for User {
    const SINGLE: &'static str = "user";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn filter_fields(version: Version) -> &'static [&'static str] {
        match version {
            Version::V1p1 => USER_FILTER_V1P1,
            Version::V1p2 => USER_FILTER_V1P2,
        }
    }

    fn select_fields(version: Version) -> &'static [&'static str] {
        match version {
            Version::V1p1 => USER_SELECT_V1P1,
            Version::V1p2 => USER_SELECT_V1P2,
        }
    }

    fn own_field(&self, name: &str, version: Version) -> Option<Field<'_>> {
        match name {
            "username" => one(&self.username),
            "enabledUser" => one(flag(self.enabled_user)),
            "givenName" => one(&self.given_name),
            "familyName" => one(&self.family_name),
            "middleName" => one(&self.middle_name),
            "preferredFirstName" => one(self.preferred_first_name.as_deref().unwrap_or("")),
            "preferredLastName" => one(self.preferred_last_name.as_deref().unwrap_or("")),
            "role" | "roles.role" => match version {
                Version::V1p1 => one(self.role.v1p1()),
                // One roles entry per org, all of the user's one role.
                Version::V1p2 => Some(Field::Many(
                    self.orgs
                        .iter()
                        .map(|_| Cow::Borrowed(self.role.v1p2()))
                        .collect(),
                )),
            },
            "identifier" => one(&self.identifier),
            "email" => one(&self.email),
            "sms" => one(&self.sms),
            "phone" => one(&self.phone),
            "grades" => many(&self.grades),
            "orgs.sourcedId" => many(&self.orgs),
            "primaryOrg.sourcedId" => one(self.orgs.first().map(String::as_str).unwrap_or("")),
            "agents.sourcedId" => many(&self.agents),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut m = self.head();
        m.insert("username".into(), self.username.as_str().into());
        m.insert(
            "userIds".into(),
            self.user_ids
                .iter()
                .map(|u| json!({"type": u.kind, "identifier": u.identifier}))
                .collect(),
        );
        m.insert("enabledUser".into(), flag(self.enabled_user).into());
        m.insert("givenName".into(), self.given_name.as_str().into());
        m.insert("familyName".into(), self.family_name.as_str().into());
        m.insert("middleName".into(), self.middle_name.as_str().into());
        match ctx.version {
            Version::V1p1 => {
                m.insert("role".into(), self.role.v1p1().into());
            }
            Version::V1p2 => {
                if let Some(first) = &self.preferred_first_name {
                    m.insert("preferredFirstName".into(), first.as_str().into());
                }
                if let Some(last) = &self.preferred_last_name {
                    m.insert("preferredLastName".into(), last.as_str().into());
                }
                let roles: Vec<Value> = self
                    .orgs
                    .iter()
                    .enumerate()
                    .map(|(i, org)| {
                        json!({
                            "roleType": if i == 0 { "primary" } else { "secondary" },
                            "role": self.role.v1p2(),
                            "org": ctx.org(org),
                        })
                    })
                    .collect();
                m.insert("roles".into(), roles.into());
                if let Some(first) = self.orgs.first() {
                    m.insert("primaryOrg".into(), ctx.org(first));
                }
            }
        }
        m.insert("identifier".into(), self.identifier.as_str().into());
        m.insert("email".into(), self.email.as_str().into());
        m.insert("sms".into(), self.sms.as_str().into());
        m.insert("phone".into(), self.phone.as_str().into());
        m.insert(
            "agents".into(),
            self.agents
                .iter()
                .filter(|a| ctx.district.visible(a))
                .map(|a| ctx.guid("users", "user", a))
                .collect(),
        );
        if ctx.version == Version::V1p1 {
            m.insert(
                "orgs".into(),
                self.orgs.iter().map(|o| ctx.org(o)).collect(),
            );
        }
        m.insert(
            "grades".into(),
            self.grades
                .iter()
                .map(|g| Value::from(g.as_str()))
                .collect(),
        );
        m.insert("password".into(), "".into());
        m
    }
}
