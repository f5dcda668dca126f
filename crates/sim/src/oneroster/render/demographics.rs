//! `/demographics`: a student's birth date and sex, one record per student user under
//! the user's own `sourcedId` (reference §3, [OAS12] `demographics` envelope and single
//! `{"demographics": …}` read). The values are derived from the user's id, so the same
//! district always answers the same, and a test knows them through
//! [`expected_demographics`].

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::{day, one, Ctx, Field, Record, Version};
use crate::oneroster::data::*;

/// A student's demographics record.
#[derive(Debug, Clone, Copy)]
pub struct Demographics<'a>(pub &'a User);

/// The birth date and sex (`male`, `female`, `other`, `unspecified`) the server gives
/// a student: a function of its id.
pub fn expected_demographics(user: &User) -> (NaiveDate, &'static str) {
    let n = user
        .sourced_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let born = NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or_default()
        + chrono::Days::new(u64::from(n % 4000));
    let sex = ["female", "male", "other", "unspecified"][(n % 4) as usize];
    (born, sex)
}

const FIELDS: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "birthDate",
    "sex",
];

impl Record for Demographics<'_> {
    const SINGLE: &'static str = "demographics";

    fn id(&self) -> &str {
        &self.0.sourced_id
    }

    fn status(&self) -> Status {
        self.0.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.0.date_last_modified
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        FIELDS
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        FIELDS
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        let (born, sex) = expected_demographics(self.0);
        match name {
            "birthDate" => Some(Field::One(std::borrow::Cow::Owned(day(&born)))),
            "sex" => one(sex),
            _ => None,
        }
    }

    fn render(&self, _: &Ctx<'_>) -> Map<String, Value> {
        let (born, sex) = expected_demographics(self.0);
        let mut m = self.head();
        m.insert("birthDate".into(), day(&born).into());
        m.insert("sex".into(), sex.into());
        m
    }
}
