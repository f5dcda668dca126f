//! Staff, sections and section enrollments: their tables, how a district gets them, the
//! `/ws/v1` resources that serve them (`/school/{id}/staff`, `/school/{id}/section`, each
//! with `/count`, and `/section/{id}/section_enrollment` with `/count`), and the ground truth.
//!
//! Shapes follow public clients of PowerSchool: `{"staffs":{"staff":[…]}}` with `name`,
//! `emails.work_email` and `school_affiliations.school_affiliation` expansions;
//! `{"sections":{"section":[…]}}`; `{"section_enrollments":{"section_enrollment":[…]}}`
//! with a `dropped` flag. A list of one is a bare object; an empty expansion is `""`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use model::ids::{ClassroomId, SourceId, StaffId};
use model::roster::{Classroom, Enrollment, EnrollmentRole, Staff as ModelStaff};
use serde_json::{json, Map, Value};

use super::auth::Refusals;
use super::config::SimConfig;
use super::courses::{COURSES, FIRST_COURSE};
use super::data::District;
use super::query::{page_range, Params};
use super::reply::Reply;
use super::v1::xml_list;

/// A staff member: one person (`Users`) with a `SchoolStaff` record at each school of
/// an affiliation. `/ws/v1/school/{id}/staff` lists the school's records: `id` is the
/// record's own (`SchoolStaff.DCID`, a section's `staff_id`), `users_dcid` the person's
/// ([SW] `/ws/v1/staff/{id}` shows `users_dcid`; that `id` differs per school follows
/// from `staff_id` = `SCHOOLSTAFF.DCID` there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// The person (`Users.DCID`, `users_dcid`): the staff record's source id.
    pub dcid: u64,
    /// The person's `SchoolStaff.DCID` at each school of `affiliations`.
    pub school_staff_ids: Vec<(u64, u64)>,
    pub local_id: u64,
    pub teacher_username: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    /// Empty when none.
    pub work_email: String,
    /// The schools the member is affiliated with, and whether each affiliation is active
    /// (`status` 1) or not (2).
    pub affiliations: Vec<(u64, bool)>,
}

impl StaffMember {
    /// The person's `SchoolStaff.DCID` at `school`; 0 when not affiliated there.
    pub fn school_staff_id(&self, school: u64) -> u64 {
        self.school_staff_ids
            .iter()
            .find(|(s, _)| *s == school)
            .map_or(0, |(_, id)| *id)
    }
}

/// A section: a class of a course at a school, taught by one staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub dcid: u64,
    pub school_dcid: u64,
    pub course_id: u64,
    pub term_id: u64,
    pub section_number: u64,
    pub expression: String,
    /// The teacher: the person's `Users.DCID` (served as `staff_id`, the person's
    /// `SchoolStaff.DCID` at the section's school).
    pub staff_dcid: u64,
}

impl Section {
    /// What a correct connector names the section's classroom: "{course name} - section
    /// {section_number} ({expression})" when the course is named, and "course
    /// {course_id} section {section_number} ({expression})" when it is not (the course
    /// refused or unknown). The connector's contract, written out again here.
    pub fn classroom_name(&self, course_name: Option<&str>) -> String {
        match course_name.filter(|n| !n.trim().is_empty()) {
            Some(name) => format!(
                "{} - section {} ({})",
                name.trim(),
                self.section_number,
                self.expression
            ),
            None => format!(
                "course {} section {} ({})",
                self.course_id, self.section_number, self.expression
            ),
        }
    }
}

/// A student in a section (`CC`). [SW] (`GET /ws/v1/section/{id}/section_enrollment`):
/// `entry_date` is `CC.DATEENROLLED`, `exit_date` `CC.DATELEFT`, `dropped` "true if the
/// student dropped the class". [SW] types the dates as integers; the simulator sends
/// `YYYY-MM-DD` like every other PowerSchool date (reference powerschool.md §3) — our
/// choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionEnrollment {
    pub id: u64,
    pub section_dcid: u64,
    pub student_dcid: u64,
    pub entry_date: NaiveDate,
    /// The first day the student is no longer in the class (exclusive, as `DATELEFT`
    /// reads); an enrollment whose exit date has come stays listed.
    pub exit_date: NaiveDate,
    /// Dropped enrollments stay listed, flagged.
    pub dropped: bool,
}

impl SectionEnrollment {
    /// Whether the student is a member of the section on `today`: not dropped, and the
    /// exit date still ahead.
    pub fn is_member(&self, today: NaiveDate) -> bool {
        !self.dropped && self.exit_date > today
    }
}

/// Today's date in UTC, the day ground truth and connectors judge membership on.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `today` moved by `days` (negative: earlier).
fn shifted(today: NaiveDate, days: i64) -> NaiveDate {
    today
        .checked_add_signed(chrono::Duration::days(days))
        .unwrap_or(today)
}

/// Gives the district staff and sections: per school, a staff member per twelve students
/// (at least two), some also at a second school or with a lapsed affiliation — the first
/// school's first teacher always teaches at the second school too, the first section of
/// each of the two — and a
/// section per twenty current students (at least one), each holding up to twenty-five of
/// the school's current students, a few of whom dropped it and a few of whom already
/// left it (one in fifteen, exit date 1 to 60 days ago; in the district's first section,
/// the first student leaves today and the second left 30 days ago — the exclusive exit
/// date's edge). Dates are set relative to today (UTC): current enrollments began 60
/// days ago and end in 240 days, so the district stays current in any year. All of it is
/// our choice. Deterministic from the seed (dates from the day), and drawn from its own
/// random source so the rest of the district does not move.
pub(super) fn generate(d: &mut District, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5ec7_1045);
    let today = today();
    let day = |days: i64| shifted(today, days);
    let mut next = d.next_id().max(1) + 500_000;
    let mut id = || {
        next += 1;
        next
    };
    let schools: Vec<u64> = d.schools.iter().map(|s| s.dcid).collect();
    let mut by_school: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for s in d.students.iter().filter(|s| s.is_current()) {
        by_school.entry(s.school_dcid).or_default().push(s.dcid);
    }
    let first = [
        "Alex", "Robin", "Morgan", "Casey", "Jordan", "Taylor", "Jamie", "Riley",
    ];
    let last = [
        "Nguyen", "Singh", "Martin", "Tremblay", "Roy", "Wilson", "Chen", "Brown",
    ];
    let mut shared = None;
    for (i, &school) in schools.iter().enumerate() {
        let students = by_school.get(&school).cloned().unwrap_or_default();
        let staff_count = (students.len() / 12).max(2);
        let mut staff_here = Vec::new();
        for n in 0..staff_count {
            let dcid = id();
            let mut affiliations = vec![(school, true)];
            let other = schools[(i + 1) % schools.len()];
            match rng.u32(0..10) {
                _ if i == 0 && n == 0 && schools.len() > 1 => {
                    shared = Some(dcid);
                    affiliations.push((other, true));
                }
                0 if schools.len() > 1 => affiliations.push((other, true)),
                1 if schools.len() > 1 => affiliations.push((other, false)),
                _ => {}
            }
            let school_staff_ids = affiliations.iter().map(|(s, _)| (*s, id())).collect();
            let f = first[rng.usize(0..first.len())];
            let l = last[rng.usize(0..last.len())];
            d.staff.push(StaffMember {
                dcid,
                local_id: 3000 + dcid % 100_000,
                teacher_username: format!("{}{}", f.to_ascii_lowercase(), dcid % 10_000),
                first_name: f.into(),
                middle_name: String::new(),
                last_name: l.into(),
                school_staff_ids,
                work_email: if rng.u32(0..20) == 0 {
                    String::new()
                } else {
                    format!(
                        "{}.{}{}@district.example",
                        f.to_ascii_lowercase(),
                        l.to_ascii_lowercase(),
                        dcid % 1000
                    )
                },
                affiliations,
            });
            staff_here.push(dcid);
        }
        let sections = (students.len() / 20).max(1);
        for n in 0..sections {
            let section = Section {
                dcid: id(),
                school_dcid: school,
                course_id: FIRST_COURSE + rng.u64(0..COURSES),
                term_id: 2600,
                section_number: 100 + n as u64,
                expression: format!("{}(A-E)", 1 + n % 6),
                staff_dcid: match (n, shared) {
                    (0, Some(shared)) if i < 2 => shared,
                    _ => staff_here[rng.usize(0..staff_here.len())],
                },
            };
            let mut pupils = students.clone();
            rng.shuffle(&mut pupils);
            pupils.truncate(rng.usize(5..=25.min(pupils.len().max(5))));
            let first_section = i == 0 && n == 0;
            for (k, student) in pupils.into_iter().enumerate() {
                let ((entry_date, exit_date), dropped) = match (first_section, k) {
                    (true, 0) => ((day(-120), today), false),
                    (true, 1) => ((day(-120), day(-30)), false),
                    _ => {
                        let left = rng.u32(0..15) == 0;
                        let dates = if left {
                            (day(-120), day(-1 - rng.i64(0..60)))
                        } else {
                            (day(-60), day(240))
                        };
                        (dates, rng.u32(0..20) == 0)
                    }
                };
                d.section_enrollments.push(SectionEnrollment {
                    id: id(),
                    section_dcid: section.dcid,
                    student_dcid: student,
                    entry_date,
                    exit_date,
                    dropped,
                });
            }
            d.sections.push(section);
        }
    }
}

/// Routes the staff and section resources; `None` for any other path.
pub(super) fn route(
    config: &SimConfig,
    d: &District,
    rest: &[&str],
    params: &Params,
    refused: &Refusals,
) -> Option<Reply> {
    let refusal = match rest {
        ["school", _, "staff", ..] => refused.staff.map(|r| r.reply("staff")),
        ["school", _, "section", ..] => refused.sections.map(|r| r.reply("section")),
        ["section", _, "section_enrollment", ..] => refused
            .section_enrollments
            .map(|r| r.reply("section_enrollment")),
        _ => None,
    };
    if refusal.is_some() {
        return refusal;
    }
    let school = |id: &str| id.parse::<u64>().ok().filter(|id| d.school(*id).is_some());
    Some(match rest {
        ["school", id, "staff", tail @ ..] => {
            let Some(school) = school(id) else {
                return Some(Reply::message(404, format!("School not found: {id}")));
            };
            let staff: Vec<&StaffMember> = d
                .staff
                .iter()
                .filter(|s| s.affiliations.iter().any(|(sid, _)| *sid == school))
                .collect();
            match tail {
                [] => staff_page(config, school, staff, params),
                ["count"] => Reply::ok(&json!({ "resource": { "count": staff.len() } })),
                _ => Reply::not_found(),
            }
        }
        ["school", id, "section", tail @ ..] => {
            let Some(school) = school(id) else {
                return Some(Reply::message(404, format!("School not found: {id}")));
            };
            let sections: Vec<&Section> = d
                .sections
                .iter()
                .filter(|s| s.school_dcid == school)
                .collect();
            match tail {
                [] => section_page(config, d, sections, params),
                ["count"] => Reply::ok(&json!({ "resource": { "count": sections.len() } })),
                _ => Reply::not_found(),
            }
        }
        ["section", id, "section_enrollment", tail @ ..] => {
            let Some(section) = id
                .parse::<u64>()
                .ok()
                .filter(|id| d.sections.iter().any(|s| s.dcid == *id))
            else {
                return Some(Reply::message(404, format!("Section not found: {id}")));
            };
            let mut list: Vec<&SectionEnrollment> = d
                .section_enrollments
                .iter()
                .filter(|e| e.section_dcid == section)
                .collect();
            // [SW]: "sorted by student_id and entry_date".
            list.sort_by_key(|e| (e.student_dcid, e.entry_date, e.id));
            match tail {
                [] => enrollment_page(config, list, params),
                ["count"] => Reply::ok(&json!({ "resource": { "count": list.len() } })),
                _ => Reply::not_found(),
            }
        }
        _ => return None,
    })
}

/// A page of a section's enrollments (dropped ones included, flagged), capped at the
/// metadata's `section_enrollment_max_page_size` (reference powerschool.md §2/§11:
/// `pagesize` capped at the metadata maxima — our choice; real behaviour U).
fn enrollment_page(config: &SimConfig, list: Vec<&SectionEnrollment>, params: &Params) -> Reply {
    let max = config.page_max();
    let range = match page_range(params, list.len(), max, Some(max), false) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let items: Vec<Value> = list[range]
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "section_id": e.section_dcid,
                "student_id": e.student_dcid,
                "entry_date": e.entry_date.format("%Y-%m-%d").to_string(),
                "exit_date": e.exit_date.format("%Y-%m-%d").to_string(),
                "dropped": e.dropped,
            })
        })
        .collect();
    let mut envelope = Map::new();
    if let Some(list) = xml_list(items) {
        envelope.insert("section_enrollment".into(), list);
    }
    Reply::ok(&json!({ "section_enrollments": envelope }))
}

fn staff_json(s: &StaffMember, school: u64, expansions: &[String]) -> Value {
    let wants = |e: &str| expansions.iter().any(|x| x.eq_ignore_ascii_case(e));
    let mut name = Map::new();
    name.insert("first_name".into(), s.first_name.clone().into());
    if !s.middle_name.is_empty() {
        name.insert("middle_name".into(), s.middle_name.clone().into());
    }
    name.insert("last_name".into(), s.last_name.clone().into());
    let mut m = Map::new();
    m.insert("id".into(), s.school_staff_id(school).into());
    m.insert("users_dcid".into(), s.dcid.into());
    m.insert("local_id".into(), s.local_id.into());
    m.insert("teacher_username".into(), s.teacher_username.clone().into());
    m.insert("name".into(), Value::Object(name));
    if wants("emails") {
        let emails = if s.work_email.is_empty() {
            "".into()
        } else {
            json!({ "work_email": s.work_email })
        };
        m.insert("emails".into(), emails);
    }
    if wants("school_affiliations") {
        let list: Vec<Value> = s
            .affiliations
            .iter()
            .map(|(school, active)| json!({ "school_id": school, "type": 1, "status": if *active { 1 } else { 2 } }))
            .collect();
        let value = match xml_list(list) {
            Some(list) => json!({ "school_affiliation": list }),
            None => "".into(),
        };
        m.insert("school_affiliations".into(), value);
    }
    Value::Object(m)
}

fn staff_page(
    config: &SimConfig,
    school: u64,
    mut staff: Vec<&StaffMember>,
    params: &Params,
) -> Reply {
    staff.sort_by_key(|s| s.school_staff_id(school));
    let max = config.page_max();
    let range = match page_range(params, staff.len(), max, Some(max), false) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let expansions = params.list("expansions");
    let items: Vec<Value> = staff[range]
        .iter()
        .map(|s| staff_json(s, school, &expansions))
        .collect();
    let mut envelope = Map::new();
    envelope.insert(
        "@expansions".into(),
        "addresses, emails, phones, school_affiliations".into(),
    );
    envelope.insert("@extensions".into(), "".into());
    if let Some(list) = xml_list(items) {
        envelope.insert("staff".into(), list);
    }
    Reply::ok(&json!({ "staffs": envelope }))
}

fn section_page(
    config: &SimConfig,
    d: &District,
    mut sections: Vec<&Section>,
    params: &Params,
) -> Reply {
    sections.sort_by_key(|s| s.dcid);
    let max = config.page_max();
    let range = match page_range(params, sections.len(), max, Some(max), false) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let items: Vec<Value> = sections[range]
        .iter()
        .map(|s| {
            json!({
                "id": s.dcid,
                "school_id": s.school_dcid,
                "course_id": s.course_id,
                "term_id": s.term_id,
                "section_number": s.section_number,
                "expression": s.expression,
                "staff_id": d
                    .staff
                    .iter()
                    .find(|t| t.dcid == s.staff_dcid)
                    .map_or(0, |t| t.school_staff_id(s.school_dcid)),
            })
        })
        .collect();
    let mut envelope = Map::new();
    envelope.insert("@expansions".into(), "term".into());
    envelope.insert("@extensions".into(), "".into());
    if let Some(list) = xml_list(items) {
        envelope.insert("section".into(), list);
    }
    Reply::ok(&json!({ "sections": envelope }))
}

impl District {
    /// Every staff member with an active affiliation to a school of the district, by
    /// DCID, with the schools of those affiliations.
    pub fn expected_staff(&self) -> Vec<ModelStaff> {
        let mut staff: Vec<ModelStaff> = self
            .staff
            .iter()
            .filter(|s| {
                s.affiliations
                    .iter()
                    .any(|(school, _)| self.school(*school).is_some())
            })
            .map(|s| {
                let mut schools: Vec<SourceId> = s
                    .affiliations
                    .iter()
                    .filter(|(_, active)| *active)
                    .map(|(school, _)| SourceId::new(school.to_string()))
                    .collect();
                schools.sort();
                ModelStaff {
                    id: StaffId::unassigned(),
                    source_id: SourceId::new(s.dcid.to_string()),
                    first_name: s.first_name.clone(),
                    last_name: s.last_name.clone(),
                    email: s.work_email.clone(),
                    school_source_ids: schools,
                    permissions: Default::default(),
                    archived: false,
                }
            })
            .collect();
        staff.sort_by_key(|s| s.source_id.as_str().parse::<u64>().unwrap_or(u64::MAX));
        staff
    }

    /// Every section of a school of the district, as a classroom named by
    /// [`Section::classroom_name`] with its course from the catalogue (the fallback name
    /// when the catalogue lacks it, as `/ws/v1/course/{id}` then answers 404).
    pub fn expected_classrooms(&self) -> Vec<Classroom> {
        self.sections
            .iter()
            .filter(|s| self.school(s.school_dcid).is_some())
            .map(|s| Classroom {
                id: ClassroomId::unassigned(),
                source_id: SourceId::new(s.dcid.to_string()),
                school_source_id: SourceId::new(s.school_dcid.to_string()),
                name: s.classroom_name(self.course(s.course_id).map(|c| c.course_name.as_str())),
                archived: false,
            })
            .collect()
    }

    /// Each section's teacher, and its students who are members today (UTC): neither
    /// dropped nor past their exit date ([`SectionEnrollment::is_member`]).
    pub fn expected_enrollments(&self) -> Vec<Enrollment> {
        let today = today();
        let mut out = Vec::new();
        for s in self
            .sections
            .iter()
            .filter(|s| self.school(s.school_dcid).is_some())
        {
            out.push(Enrollment {
                classroom_source_id: SourceId::new(s.dcid.to_string()),
                person_source_id: SourceId::new(s.staff_dcid.to_string()),
                role: EnrollmentRole::Teacher,
            });
            out.extend(
                self.section_enrollments
                    .iter()
                    .filter(|e| e.section_dcid == s.dcid && e.is_member(today))
                    .map(|e| Enrollment {
                        classroom_source_id: SourceId::new(s.dcid.to_string()),
                        person_source_id: SourceId::new(e.student_dcid.to_string()),
                        role: EnrollmentRole::Student,
                    }),
            );
        }
        out
    }
}
