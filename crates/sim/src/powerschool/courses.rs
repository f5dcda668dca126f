//! Courses: the catalogue sections point into by `course_id`, and
//! `GET /ws/v1/course/{id}`, the one resource that names a course.
//!
//! [SW] (mennotech/powerschool-api-docs `plugins/powerschool-api-v1.md`, "GET
//! /ws/v1/course/{id}", available since 7.8.0, accessible to plugins): a course has `id`,
//! `course_number` (≤ 11 characters) and `course_name` (≤ 40), and the resource may
//! answer 403 "Request is for a resource the user is not allowed to access". The Swagger
//! schema draws the course bare; the simulator wraps it in `{"course":{…}}` as every
//! single `/ws/v1` resource is wrapped (reference powerschool.md §3: `/ws/v1/student/{dcid}`
//! → `{"student":{…}}`) — our choice where [SW] and the wrapped resources disagree. An
//! unknown id answers 404 (reference §10: 404 for an unknown record, body [U]; the body
//! is our choice, as for schools and sections).

use serde_json::json;

use super::auth::Refusal;
use super::data::District;
use super::reply::Reply;

/// The first course id; sections draw theirs from `FIRST_COURSE..FIRST_COURSE + n`.
pub(super) const FIRST_COURSE: u64 = 70;
/// How many courses a district's catalogue holds (our choice).
pub(super) const COURSES: u64 = 30;

/// Subjects and the `course_number` prefix of each (our choice; the catalogue is made up).
const SUBJECTS: [(&str, &str); 10] = [
    ("Mathematics", "MAT"),
    ("English Language Arts", "ELA"),
    ("Science", "SCI"),
    ("Social Studies", "SOC"),
    ("French", "FRE"),
    ("Physical Education", "PED"),
    ("Art", "ART"),
    ("Music", "MUS"),
    ("Health", "HEA"),
    ("Career and Technology", "CTS"),
];

/// A course (`Courses`): what a section's `course_id` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// `Courses.ID`, a section's `course_id`.
    pub id: u64,
    /// Up to 11 characters ([SW]).
    pub course_number: String,
    /// Up to 40 characters ([SW]).
    pub course_name: String,
}

/// The district's course catalogue: [`COURSES`] courses from [`FIRST_COURSE`] on, each a
/// subject at a grade from 7 to 9 ("Mathematics 8", number "MAT08"). Deterministic and
/// drawn from no random source, so nothing else in the district moves.
pub(super) fn generate(d: &mut District) {
    d.courses = (0..COURSES)
        .map(|n| {
            let (subject, prefix) = SUBJECTS[n as usize % SUBJECTS.len()];
            let grade = 7 + n / SUBJECTS.len() as u64;
            Course {
                id: FIRST_COURSE + n,
                course_number: format!("{prefix}{grade:02}"),
                course_name: format!("{subject} {grade}"),
            }
        })
        .collect();
}

/// `GET /ws/v1/course/{id}`, or the refusal the plugin is set up with; `None` for any
/// other path.
pub(super) fn route(d: &District, rest: &[&str], refused: Option<Refusal>) -> Option<Reply> {
    let ["course", id] = rest else {
        return None;
    };
    if let Some(refusal) = refused {
        return Some(refusal.reply("course"));
    }
    let course = id.parse::<u64>().ok().and_then(|id| d.course(id));
    Some(match course {
        Some(c) => Reply::ok(&json!({
            "course": {
                "id": c.id,
                "course_number": c.course_number,
                "course_name": c.course_name,
            }
        })),
        None => Reply::message(404, format!("Course not found: {id}")),
    })
}

impl District {
    /// The course with this id.
    pub fn course(&self, id: u64) -> Option<&Course> {
        self.courses.iter().find(|c| c.id == id)
    }
}
