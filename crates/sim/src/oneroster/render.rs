//! The records as OneRoster JSON, in the shape of the version asked (reference §6): 1.1
//! users carry one `role` and `orgs`; 1.2 users carry `roles[]`, `primaryOrg` and the
//! preferred names. Booleans go out as the strings `"true"` / `"false"`; references as
//! GUIDRefs with absolute `href`s on the simulator's own host.
//!
//! Also owns, per record type, the fields a `filter` / `sort` may name and the fields a
//! `fields` selection may name, and reads a filter field straight off the struct (no
//! record is rendered to be filtered or counted).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::data::*;
use super::oauth::encode;

mod demographics;
mod users;

pub use demographics::{expected_demographics, Demographics};

/// The OneRoster version a path speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `/ims/oneroster/v1p1`
    V1p1,
    /// `/ims/oneroster/rostering/v1p2`
    V1p2,
}

impl Version {
    /// The path root.
    pub fn root(self) -> &'static str {
        match self {
            Version::V1p1 => "/ims/oneroster/v1p1",
            Version::V1p2 => "/ims/oneroster/rostering/v1p2",
        }
    }

    /// The version whose root starts `path`, and the rest of the path.
    pub fn split(path: &str) -> Option<(Version, &str)> {
        [Version::V1p1, Version::V1p2].into_iter().find_map(|v| {
            let rest = path.strip_prefix(v.root())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((v, rest))
        })
    }
}

/// What rendering needs besides the record.
#[derive(Debug)]
pub(super) struct Ctx<'a> {
    pub version: Version,
    /// `http://HOST:PORT`, from the request's `Host`.
    pub origin: &'a str,
    pub district: &'a District,
}

impl Ctx<'_> {
    /// `{"href", "sourcedId", "type"}`; `collection` is the path segment (`users`).
    fn guid(&self, collection: &str, kind: &str, id: &str) -> Value {
        json!({
            "href": format!("{}{}/{collection}/{}", self.origin, self.version.root(), encode(id)),
            "sourcedId": id,
            "type": kind,
        })
    }

    fn org(&self, id: &str) -> Value {
        self.guid("orgs", "org", id)
    }
}

/// A field's value for filtering and sorting.
#[derive(Debug, Clone)]
pub(super) enum Field<'a> {
    One(Cow<'a, str>),
    /// Matches when any element does (`!=`: when none equals).
    Many(Vec<Cow<'a, str>>),
    Time(DateTime<Utc>),
}

impl Field<'_> {
    /// The value to sort by.
    pub fn sort_key(&self) -> String {
        match self {
            Field::One(s) => s.to_string(),
            Field::Many(list) => list.first().map(|s| s.to_string()).unwrap_or_default(),
            Field::Time(t) => stamp(t),
        }
    }
}

fn one(s: &str) -> Option<Field<'_>> {
    Some(Field::One(Cow::Borrowed(s)))
}

fn many(list: &[String]) -> Option<Field<'_>> {
    Some(Field::Many(
        list.iter().map(|s| Cow::Borrowed(s.as_str())).collect(),
    ))
}

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `2026-03-01T18:14:45.000Z`.
pub(super) fn stamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn day(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A record type the server lists.
pub(super) trait Record {
    /// The single-read envelope key (`user`).
    const SINGLE: &'static str;
    fn id(&self) -> &str;
    fn status(&self) -> Status;
    fn modified(&self) -> &DateTime<Utc>;
    /// Fields a `filter` or `sort` may name.
    fn filter_fields(version: Version) -> &'static [&'static str];
    /// Fields a `fields` selection may name (the keys the version renders).
    fn select_fields(version: Version) -> &'static [&'static str];
    /// The value of a field of [`Record::filter_fields`], besides the three common ones.
    fn own_field(&self, name: &str, version: Version) -> Option<Field<'_>>;
    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value>;
    /// Whether the record is served (enrollments also need their user and class).
    fn visible(&self, district: &District) -> bool {
        district.visible(self.id())
    }

    fn field(&self, name: &str, version: Version) -> Option<Field<'_>> {
        match name {
            "sourcedId" => one(self.id()),
            "status" => one(self.status().as_str()),
            "dateLastModified" => Some(Field::Time(*self.modified())),
            _ => self.own_field(name, version),
        }
    }

    /// `sourcedId`, `status`, `dateLastModified`.
    fn head(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("sourcedId".into(), self.id().into());
        m.insert("status".into(), self.status().as_str().into());
        m.insert("dateLastModified".into(), stamp(self.modified()).into());
        m
    }
}

impl Record for Org {
    const SINGLE: &'static str = "org";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parent.sourcedId",
        ]
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parent",
            "children",
        ]
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        match name {
            "name" => one(&self.name),
            "type" => one(self.kind.as_str()),
            "identifier" => one(&self.identifier),
            "parent.sourcedId" => one(self.parent.as_deref().unwrap_or("")),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut m = self.head();
        m.insert("name".into(), self.name.as_str().into());
        m.insert("type".into(), self.kind.as_str().into());
        m.insert("identifier".into(), self.identifier.as_str().into());
        m.insert(
            "parent".into(),
            self.parent.as_deref().map_or(Value::Null, |p| ctx.org(p)),
        );
        m.insert(
            "children".into(),
            self.children
                .iter()
                .filter(|c| ctx.district.visible(c))
                .map(|c| ctx.org(c))
                .collect(),
        );
        m
    }
}

impl Record for AcademicSession {
    const SINGLE: &'static str = "academicSession";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "type",
            "startDate",
            "endDate",
            "schoolYear",
        ]
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "type",
            "startDate",
            "endDate",
            "parent",
            "children",
            "schoolYear",
        ]
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        match name {
            "title" => one(&self.title),
            "type" => one(self.kind.as_str()),
            "startDate" => Some(Field::One(Cow::Owned(day(&self.start_date)))),
            "endDate" => Some(Field::One(Cow::Owned(day(&self.end_date)))),
            "schoolYear" => one(&self.school_year),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let session = |id: &str| ctx.guid("academicSessions", "academicSession", id);
        let mut m = self.head();
        m.insert("title".into(), self.title.as_str().into());
        m.insert("type".into(), self.kind.as_str().into());
        m.insert("startDate".into(), day(&self.start_date).into());
        m.insert("endDate".into(), day(&self.end_date).into());
        m.insert(
            "parent".into(),
            self.parent.as_deref().map_or(Value::Null, session),
        );
        m.insert(
            "children".into(),
            self.children.iter().map(|c| session(c)).collect(),
        );
        m.insert("schoolYear".into(), self.school_year.as_str().into());
        m
    }
}

impl Record for Course {
    const SINGLE: &'static str = "course";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "courseCode",
            "org.sourcedId",
        ]
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "schoolYear",
            "courseCode",
            "grades",
            "subjects",
            "org",
        ]
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        match name {
            "title" => one(&self.title),
            "courseCode" => one(&self.course_code),
            "org.sourcedId" => one(&self.org),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut m = self.head();
        m.insert("title".into(), self.title.as_str().into());
        m.insert(
            "schoolYear".into(),
            ctx.guid("academicSessions", "academicSession", &self.school_year),
        );
        m.insert("courseCode".into(), self.course_code.as_str().into());
        m.insert("grades".into(), json!(self.grades));
        m.insert("subjects".into(), json!(self.subjects));
        m.insert("org".into(), ctx.org(&self.org));
        m
    }
}

impl Record for Class {
    const SINGLE: &'static str = "class";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "classCode",
            "classType",
            "location",
            "grades",
            "subjects",
            "course.sourcedId",
            "school.sourcedId",
            "terms.sourcedId",
        ]
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "classCode",
            "classType",
            "location",
            "grades",
            "subjects",
            "subjectCodes",
            "course",
            "school",
            "terms",
            "periods",
        ]
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        match name {
            "title" => one(&self.title),
            "classCode" => one(&self.class_code),
            "classType" => one(self.class_type.as_str()),
            "location" => one(&self.location),
            "grades" => many(&self.grades),
            "subjects" => many(&self.subjects),
            "course.sourcedId" => one(&self.course),
            "school.sourcedId" => one(&self.school),
            "terms.sourcedId" => many(&self.terms),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut m = self.head();
        m.insert("title".into(), self.title.as_str().into());
        m.insert("classCode".into(), self.class_code.as_str().into());
        m.insert("classType".into(), self.class_type.as_str().into());
        m.insert("location".into(), self.location.as_str().into());
        m.insert("grades".into(), json!(self.grades));
        m.insert("subjects".into(), json!(self.subjects));
        m.insert("subjectCodes".into(), json!([]));
        m.insert("course".into(), ctx.guid("courses", "course", &self.course));
        m.insert("school".into(), ctx.org(&self.school));
        m.insert(
            "terms".into(),
            self.terms
                .iter()
                .map(|t| ctx.guid("academicSessions", "academicSession", t))
                .collect(),
        );
        m.insert("periods".into(), json!(self.periods));
        m
    }
}

impl Record for Enrollment {
    const SINGLE: &'static str = "enrollment";

    fn id(&self) -> &str {
        &self.sourced_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn modified(&self) -> &DateTime<Utc> {
        &self.date_last_modified
    }

    fn visible(&self, district: &District) -> bool {
        district.visible(&self.sourced_id)
            && (district.removed.is_empty()
                || (district.visible(&self.user) && district.visible(&self.class)))
    }

    fn filter_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "role",
            "primary",
            "beginDate",
            "endDate",
            "user.sourcedId",
            "class.sourcedId",
            "school.sourcedId",
        ]
    }

    fn select_fields(_: Version) -> &'static [&'static str] {
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "user",
            "class",
            "school",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ]
    }

    fn own_field(&self, name: &str, _: Version) -> Option<Field<'_>> {
        match name {
            "role" => one(self.role.as_str()),
            "primary" => one(flag(self.primary)),
            "beginDate" => Some(Field::One(Cow::Owned(day(&self.begin_date)))),
            "endDate" => Some(Field::One(Cow::Owned(day(&self.end_date)))),
            "user.sourcedId" => one(&self.user),
            "class.sourcedId" => one(&self.class),
            "school.sourcedId" => one(&self.school),
            _ => None,
        }
    }

    fn render(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut m = self.head();
        m.insert("user".into(), ctx.guid("users", "user", &self.user));
        m.insert("class".into(), ctx.guid("classes", "class", &self.class));
        m.insert("school".into(), ctx.org(&self.school));
        m.insert("role".into(), self.role.as_str().into());
        m.insert("primary".into(), flag(self.primary).into());
        m.insert("beginDate".into(), day(&self.begin_date).into());
        m.insert("endDate".into(), day(&self.end_date).into());
        m
    }
}
