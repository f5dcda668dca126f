//! Records as Clever's JSON: the `data` object of each list item and single read.
//! References to records the district does not share (students of a section, of a
//! contact) are left out, as Clever only names what it shares.

use serde_json::{json, Map, Value};

use super::data::*;

/// The API version of a request: `/v3.1` adds fields, removes none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V30,
    V31,
}

impl Version {
    pub fn parse(segment: &str) -> Option<Version> {
        match segment {
            "v3.0" => Some(Version::V30),
            "v3.1" => Some(Version::V31),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V30 => "v3.0",
            Version::V31 => "v3.1",
        }
    }
}

/// The name parts held, others left out.
fn name(name: &Name) -> Value {
    let mut out = Map::new();
    for (key, part) in [
        ("first", &name.first),
        ("middle", &name.middle),
        ("last", &name.last),
    ] {
        if let Some(part) = part {
            out.insert(key.to_owned(), Value::String(part.clone()));
        }
    }
    Value::Object(out)
}

fn location(location: &Location) -> Value {
    json!({
        "address": location.address,
        "city": location.city,
        "state": location.state,
        "zip": location.zip,
    })
}

fn shared(d: &District, ids: &[String]) -> Vec<String> {
    ids.iter().filter(|id| d.is_shared(id)).cloned().collect()
}

pub fn district(d: &District) -> Value {
    let r = &d.record;
    json!({
        "id": r.id,
        "name": r.name,
        "state": r.state,
        "last_sync": clever_time(r.last_sync),
        "launch_date": r.launch_date.format("%Y-%m-%d").to_string(),
        "portal_url": r.portal_url,
        "sis_type": r.sis_type,
        "login_methods": r.login_methods,
        "district_contact": {
            "id": r.contact_id,
            "district": r.id,
            "email": r.contact_email,
            "name": name(&r.contact_name),
            "title": r.contact_title,
        },
        "nces_id": r.nces_id,
        "mdr_number": r.mdr_number,
        "error": "",
        "pause_start": null,
        "pause_end": null,
    })
}

pub fn school(d: &District, s: &School) -> Value {
    json!({
        "id": s.id,
        "district": d.record.id,
        "created": clever_time(s.created),
        "last_modified": clever_time(s.last_modified),
        "name": s.name,
        "sis_id": s.sis_id,
        "school_number": s.school_number,
        "state_id": s.state_id,
        "nces_id": s.nces_id,
        "mdr_number": "",
        "low_grade": s.low_grade,
        "high_grade": s.high_grade,
        "phone": s.phone,
        "principal": { "name": s.principal_name, "email": s.principal_email },
        "location": location(&s.location),
        "ext": {},
    })
}

pub fn section(d: &District, s: &Section) -> Value {
    let teachers = shared(d, &s.teachers);
    let teacher = s
        .teacher
        .as_ref()
        .filter(|t| d.is_shared(t))
        .or(teachers.first());
    json!({
        "id": s.id,
        "district": d.record.id,
        "created": clever_time(s.created),
        "last_modified": clever_time(s.last_modified),
        "school": s.school,
        "course": s.course,
        "term_id": s.term_id,
        "name": s.name,
        "sis_id": s.sis_id,
        "section_number": s.section_number,
        "period": s.period,
        "grade": s.grade,
        "subject": s.subject,
        "teacher": teacher,
        "teachers": teachers,
        "students": shared(d, &s.students),
        "ext": {},
    })
}

pub fn user(d: &District, u: &User, version: Version) -> Value {
    let mut roles = Map::new();
    if let Some(s) = &u.roles.student {
        roles.insert("student".to_owned(), student(s, version));
    }
    if let Some(t) = &u.roles.teacher {
        roles.insert(
            "teacher".to_owned(),
            json!({
                "sis_id": t.sis_id,
                "teacher_number": t.teacher_number,
                "state_id": t.state_id,
                "title": t.title,
                "school": t.school,
                "schools": t.schools,
                "credentials": { "district_username": t.district_username },
                "legacy_id": t.legacy_id,
                "ext": {},
            }),
        );
    }
    if let Some(s) = &u.roles.staff {
        roles.insert(
            "staff".to_owned(),
            json!({
                "staff_id": s.staff_id,
                "title": s.title,
                "department": s.department,
                "roles": s.roles,
                "schools": s.schools,
                "credentials": { "district_username": s.district_username },
                "legacy_id": s.legacy_id,
                "ext": {},
            }),
        );
    }
    if let Some(a) = &u.roles.district_admin {
        roles.insert(
            "district_admin".to_owned(),
            json!({ "title": a.title, "legacy_id": a.legacy_id }),
        );
    }
    if let Some(c) = &u.roles.contact {
        let links: Vec<Value> = c
            .student_relationships
            .iter()
            .filter(|l| d.is_shared(&l.student))
            .map(|l| {
                json!({
                    "student": l.student,
                    "relationship": l.relationship,
                    "type": l.kind,
                })
            })
            .collect();
        roles.insert(
            "contact".to_owned(),
            json!({
                "sis_id": c.sis_id,
                "legacy_id": c.legacy_id,
                "phone": c.phone,
                "phone_type": c.phone_type,
                "student_relationships": links,
            }),
        );
    }
    json!({
        "id": u.id,
        "district": d.record.id,
        "created": clever_time(u.created),
        "last_modified": clever_time(u.last_modified),
        "email": u.email,
        "name": name(&u.name),
        "roles": roles,
    })
}

fn student(s: &StudentRole, version: Version) -> Value {
    let mut out = json!({
        "sis_id": s.sis_id,
        "student_number": s.student_number,
        "state_id": s.state_id,
        "legacy_id": s.legacy_id,
        "credentials": { "district_username": s.district_username },
        "school": s.school,
        "schools": s.schools,
        "grade": s.grade,
        "graduation_year": s.graduation_year,
        "gender": s.gender,
        "race": s.race,
        "hispanic_ethnicity": s.hispanic_ethnicity,
        "ell_status": s.ell_status,
        "location": location(&s.location),
        "ext": {},
    });
    if let Some(object) = out.as_object_mut() {
        if let Some(dob) = s.dob {
            object.insert("dob".to_owned(), Value::String(clever_date(dob)));
        }
        if version == Version::V31 {
            if let Some(preferred) = &s.preferred_name {
                object.insert("preferred_name".to_owned(), name(preferred));
            }
        }
    }
    out
}
