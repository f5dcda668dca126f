//! The `/ws/v1` resources: metadata, schools and students, with their XML-to-JSON
//! heritage: a list of one element is a bare object, an empty expansion is `""`, absent
//! members are left out, and a page past the end has no inner list key at all.

use serde_json::{json, Map, Value};

use super::auth::PluginState;
use super::config::SimConfig;
use super::data::{enroll_status, District, PostalAddress, School, Student};
use super::query::{page_range, parse_q, Clause, Params};
use super::reply::Reply;

const STUDENT_EXPANSIONS: &str = "demographics, addresses, alerts, phones, school_enrollment, ethnicity_race, contact, contact_info, initial_enrollment, schedule_setup, fees, lunch";
const STUDENT_EXTENSIONS: &str = "s_ab_stu_x,u_student,studentcorefields,c_studentlocator";
const SCHOOL_EXPANSIONS: &str = "school_boundary, full_time_equivalencies, school_fees_setup";
const SCHOOL_EXTENSIONS: &str = "schoolscorefields";

/// `GET /ws/v1/metadata`.
pub(super) fn metadata(config: &SimConfig) -> Reply {
    let max = config.max_page_size;
    Reply::ok(&json!({
        "metadata": {
            "powerschool_version": "24.7.0",
            "student_max_page_size": max,
            "school_max_page_size": max,
            "staff_max_page_size": max,
            "section_max_page_size": max,
            "section_enrollment_max_page_size": max,
            "course_max_page_size": max,
            "term_max_page_size": max,
            "event_max_page_size": max,
            "schema_table_query_max_page_size": max,
            "state": "AB",
        }
    }))
}

/// A list of one element becomes the element itself; an empty list, nothing.
pub(super) fn xml_list(mut items: Vec<Value>) -> Option<Value> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Value::Array(items)),
    }
}

/// Routes `/ws/v1/{rest}` (the caller has checked the token and the v1 gate).
pub(super) fn route(
    config: &SimConfig,
    d: &District,
    rest: &[&str],
    params: &Params,
    short_page: bool,
    plugin: &PluginState,
) -> Reply {
    let list = |students: Vec<&Student>, count: bool| {
        if count {
            return Reply::ok(&json!({ "resource": { "count": students.len() } }));
        }
        student_page(config, students, params, short_page)
    };
    if let Some(reply) = super::sections::route(config, d, rest, params, &plugin.refused) {
        return reply;
    }
    if let Some(reply) = super::courses::route(d, rest, plugin.refused.courses) {
        return reply;
    }
    match rest {
        ["district", "school"] => school_page(config, d, params, short_page),
        ["district", "school", "count"] => {
            Reply::ok(&json!({ "resource": { "count": d.schools.len() } }))
        }
        ["school", id] => match id.parse().ok().and_then(|id| d.school(id)) {
            Some(school) => Reply::ok(&json!({ "school": school_json(school) })),
            None => Reply::message(404, format!("School not found: {id}")),
        },
        ["school", id, "student"] | ["school", id, "student", "count"] => {
            let Some(school) = id.parse().ok().and_then(|id| d.school(id)) else {
                return Reply::message(404, format!("School not found: {id}"));
            };
            match select(d, Some(school.dcid), params) {
                Ok(students) => list(students, rest.len() == 4),
                Err(reply) => reply,
            }
        }
        ["district", "student"] | ["district", "student", "count"] => match select(d, None, params)
        {
            Ok(students) => list(students, rest.len() == 3),
            Err(reply) => reply,
        },
        ["student", id] => match id.parse().ok().and_then(|id| d.student(id)) {
            Some(student) => {
                let body = student_json(
                    student,
                    &params.list("expansions"),
                    &params.list("extensions"),
                );
                Reply::ok(&json!({ "student": body }))
            }
            None => Reply::message(404, format!("Student not found: {id}")),
        },
        _ => Reply::not_found(),
    }
}

fn school_json(s: &School) -> Value {
    json!({
        "id": s.dcid,
        "school_number": s.school_number,
        "name": s.name,
        "low_grade": s.low_grade,
        "high_grade": s.high_grade,
    })
}

fn school_page(config: &SimConfig, d: &District, params: &Params, short_page: bool) -> Reply {
    let mut schools: Vec<&School> = d.schools.iter().collect();
    schools.sort_by_key(|s| s.dcid);
    let max = config.page_max();
    let range = match page_range(params, schools.len(), max, Some(max), false) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let mut items: Vec<Value> = schools[range].iter().map(|s| school_json(s)).collect();
    if short_page {
        items.pop();
    }
    let mut envelope = Map::new();
    envelope.insert("@expansions".into(), SCHOOL_EXPANSIONS.into());
    envelope.insert("@extensions".into(), SCHOOL_EXTENSIONS.into());
    if let Some(list) = xml_list(items) {
        envelope.insert("school".into(), list);
    }
    Reply::ok(&json!({ "schools": envelope }))
}

/// The students of a school (or the district) that pass `q`, by DCID.
fn select<'a>(
    d: &'a District,
    school: Option<u64>,
    params: &Params,
) -> Result<Vec<&'a Student>, Reply> {
    let clauses = match params.get("q") {
        Some(q) => parse_q(q).map_err(|m| Reply::message(400, m))?,
        None => Vec::new(),
    };
    let filters: Vec<Filter> = clauses
        .iter()
        .map(Filter::parse)
        .collect::<Result<_, _>>()?;
    let mut students: Vec<&Student> = d
        .students
        .iter()
        .filter(|s| school.is_none_or(|dcid| s.school_dcid == dcid))
        .filter(|s| filters.iter().all(|f| f.accepts(s)))
        .collect();
    students.sort_by_key(|s| s.dcid);
    Ok(students)
}

/// A `q` clause on a student field.
enum Filter {
    StatusCode(Vec<i32>),
    Status(Vec<String>),
    Dcid(Vec<u64>),
    LocalId(Vec<u64>),
    Text(fn(&Student) -> &str, Vec<String>),
}

impl Filter {
    fn parse(clause: &Clause) -> Result<Filter, Reply> {
        fn numbers<T: std::str::FromStr>(c: &Clause) -> Result<Vec<T>, Reply> {
            c.values
                .iter()
                .map(|v| {
                    v.parse().map_err(|_| {
                        Reply::message(400, format!("Invalid value for {}: {v}", c.field))
                    })
                })
                .collect()
        }
        let values = clause.values.clone();
        Ok(match clause.field.as_str() {
            "school_enrollment.enroll_status_code" => Filter::StatusCode(numbers(clause)?),
            "school_enrollment.enroll_status" => Filter::Status(values),
            "id" => Filter::Dcid(numbers(clause)?),
            "local_id" => Filter::LocalId(numbers(clause)?),
            "student_username" => Filter::Text(|s| &s.student_username, values),
            "state_province_id" => Filter::Text(|s| &s.state_province_id, values),
            "name.first_name" => Filter::Text(|s| &s.first_name, values),
            "name.last_name" => Filter::Text(|s| &s.last_name, values),
            other => return Err(Reply::invalid_field(other)),
        })
    }

    fn accepts(&self, s: &Student) -> bool {
        match self {
            Filter::StatusCode(codes) => codes.contains(&s.enroll_status_code),
            Filter::Status(letters) => letters
                .iter()
                .any(|l| l.eq_ignore_ascii_case(s.enroll_status())),
            Filter::Dcid(ids) => ids.contains(&s.dcid),
            Filter::LocalId(ids) => ids.contains(&s.local_id),
            Filter::Text(field, values) => values.iter().any(|v| v.eq_ignore_ascii_case(field(s))),
        }
    }
}

fn student_page(
    config: &SimConfig,
    students: Vec<&Student>,
    params: &Params,
    short_page: bool,
) -> Reply {
    let max = config.page_max();
    let range = match page_range(params, students.len(), max, Some(max), false) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let expansions = params.list("expansions");
    let extensions = params.list("extensions");
    let mut items: Vec<Value> = students[range]
        .iter()
        .map(|s| student_json(s, &expansions, &extensions))
        .collect();
    if short_page {
        items.pop();
    }
    let mut envelope = Map::new();
    envelope.insert("@expansions".into(), STUDENT_EXPANSIONS.into());
    envelope.insert("@extensions".into(), STUDENT_EXTENSIONS.into());
    if let Some(list) = xml_list(items) {
        envelope.insert("student".into(), list);
    }
    Reply::ok(&json!({ "students": envelope }))
}

/// Inserts `key: value` when the value is not empty.
fn put(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn address_json(a: &PostalAddress) -> Value {
    let mut map = Map::new();
    put(&mut map, "street", &a.street);
    put(&mut map, "city", &a.city);
    put(&mut map, "state_province", &a.state_province);
    put(&mut map, "postal_code", &a.postal_code);
    Value::Object(map)
}

/// A student as `/ws/v1` renders it, with the expansions and extensions asked for.
pub(super) fn student_json(s: &Student, expansions: &[String], extensions: &[String]) -> Value {
    let wants = |name: &str| expansions.iter().any(|e| e.eq_ignore_ascii_case(name));
    let mut m = Map::new();
    m.insert("id".into(), s.dcid.into());
    m.insert("local_id".into(), s.local_id.into());
    put(&mut m, "student_username", &s.student_username);
    put(&mut m, "state_province_id", &s.state_province_id);
    let mut name = Map::new();
    put(&mut name, "first_name", &s.first_name);
    put(&mut name, "middle_name", &s.middle_name);
    put(&mut name, "last_name", &s.last_name);
    m.insert("name".into(), Value::Object(name));
    if wants("demographics") {
        let mut demo = Map::new();
        put(&mut demo, "gender", &s.gender);
        put(
            &mut demo,
            "birth_date",
            &s.birth_date.format("%Y-%m-%d").to_string(),
        );
        m.insert("demographics".into(), Value::Object(demo));
    }
    if wants("addresses") {
        let mut addresses = Map::new();
        if let Some(a) = &s.physical_address {
            addresses.insert("physical".into(), address_json(a));
        }
        if let Some(a) = &s.mailing_address {
            addresses.insert("mailing".into(), address_json(a));
        }
        let value = if addresses.is_empty() {
            "".into()
        } else {
            Value::Object(addresses)
        };
        m.insert("addresses".into(), value);
    }
    if wants("phones") {
        let value = if s.home_phone.is_empty() {
            "".into()
        } else {
            json!({ "main": { "number": s.home_phone } })
        };
        m.insert("phones".into(), value);
    }
    if wants("school_enrollment") {
        let (letter, description) = enroll_status(s.enroll_status_code);
        m.insert(
            "school_enrollment".into(),
            json!({
                "enroll_status": letter,
                "enroll_status_description": description,
                "enroll_status_code": s.enroll_status_code,
                "grade_level": s.grade_level,
                "entry_date": s.entry_date.format("%Y-%m-%d").to_string(),
                "exit_date": s.exit_date.format("%Y-%m-%d").to_string(),
                "school_number": s.school_number,
                "school_id": s.school_dcid,
            }),
        );
    }
    if wants("contact_info") {
        let value = match s.u_student.orgemail.as_deref().filter(|e| !e.is_empty()) {
            Some(email) => json!({ "email": email }),
            None => "".into(),
        };
        m.insert("contact_info".into(), value);
    }
    if let Some(data) = extension_data(s, extensions) {
        m.insert("_extension_data".into(), data);
    }
    Value::Object(m)
}

/// `_extension_data` for the requested extension tables that hold any value.
fn extension_data(s: &Student, extensions: &[String]) -> Option<Value> {
    let mut tables = Vec::new();
    for name in extensions.iter().map(|e| e.to_ascii_lowercase()) {
        let fields: Vec<(&str, &str)> = match name.as_str() {
            "u_student" => [
                ("orgemail", s.u_student.orgemail.as_deref()),
                ("personalemail", s.u_student.personalemail.as_deref()),
            ]
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .collect(),
            "s_ab_stu_x" => s.s_ab_stu_x.fields(),
            "studentcorefields" => s.studentcorefields.fields(),
            _ => continue,
        };
        let fields: Vec<Value> = fields
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(field, value)| json!({ "name": field, "type": "String", "value": value }))
            .collect();
        if let Some(fields) = xml_list(fields) {
            tables.push(json!({ "name": name, "recordFound": false, "_field": fields }));
        }
    }
    xml_list(tables).map(|t| json!({ "_table_extension": t }))
}
