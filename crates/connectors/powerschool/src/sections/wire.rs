//! The wire of staff, sections and section enrollments, and its pure mapping to the
//! model (see [`super`] for the endpoints and what the pull makes of them).

use chrono::NaiveDate;
use serde::Deserialize;

use connector::{Keyed, PullWarning, RecordKind, RejectedRecord, RosterEvent};
use model::ids::{ClassroomId, SourceId, StaffId};
use model::roster::{Classroom, Enrollment, EnrollmentRole, Staff};

use crate::wire::{Expansion, OneOrMany, Text};

/// Staff expansions read.
pub const STAFF_EXPANSIONS: &str = "emails,school_affiliations";

// ---- wire ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct StaffAnswer {
    pub(super) staffs: StaffList,
}

#[derive(Debug, Deserialize)]
pub(super) struct StaffList {
    #[serde(default)]
    pub(super) staff: OneOrMany<WireStaff>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct WireStaff {
    /// The school's record of the person (`SchoolStaff.DCID`, a section's `staff_id`).
    #[serde(default)]
    pub(super) id: Text,
    /// The person (`Users.DCID`), the same at every school.
    #[serde(default)]
    pub(super) users_dcid: Text,
    #[serde(default)]
    pub(super) name: Expansion<StaffName>,
    #[serde(default)]
    pub(super) emails: Expansion<StaffEmails>,
    #[serde(default)]
    pub(super) school_affiliations: Expansion<Affiliations>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct StaffName {
    #[serde(default)]
    pub(super) first_name: Text,
    #[serde(default)]
    pub(super) last_name: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct StaffEmails {
    #[serde(default)]
    pub(super) work_email: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Affiliations {
    #[serde(default)]
    pub(super) school_affiliation: OneOrMany<Affiliation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Affiliation {
    #[serde(default)]
    pub(super) school_id: Text,
    #[serde(default)]
    pub(super) status: Text,
}

#[derive(Debug, Deserialize)]
pub(super) struct SectionsAnswer {
    pub(super) sections: SectionList,
}

#[derive(Debug, Deserialize)]
pub(super) struct SectionList {
    #[serde(default)]
    pub(super) section: OneOrMany<WireSection>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct WireSection {
    #[serde(default)]
    pub(super) id: Text,
    #[serde(default)]
    pub(super) school_id: Text,
    #[serde(default)]
    pub(super) course_id: Text,
    #[serde(default)]
    pub(super) section_number: Text,
    #[serde(default)]
    pub(super) expression: Text,
    #[serde(default)]
    pub(super) staff_id: Text,
}

#[derive(Debug, Deserialize)]
pub(super) struct EnrollmentsAnswer {
    pub(super) section_enrollments: EnrollmentList,
}

#[derive(Debug, Deserialize)]
pub(super) struct EnrollmentList {
    #[serde(default)]
    pub(super) section_enrollment: OneOrMany<WireEnrollment>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct WireEnrollment {
    #[serde(default)]
    pub(super) id: Text,
    #[serde(default)]
    pub(super) student_id: Text,
    /// `CC.DATELEFT` ([SW]), `YYYY-MM-DD`.
    #[serde(default)]
    pub(super) exit_date: Text,
    #[serde(default)]
    pub(super) dropped: Text,
}

// ---- mapping ------------------------------------------------------------------------

/// The person a per-school staff record is: `users_dcid`, or the record's `id` when a
/// server leaves `users_dcid` out. Empty when the record has neither.
pub(super) fn person(w: &WireStaff) -> &str {
    match w.users_dcid.as_str() {
        "" | "0" => w.id.as_str(),
        person => person,
    }
}

/// A per-school staff record as the person's staff record (source id: [`person`]), or why
/// it cannot be read.
pub(super) fn staff(w: &WireStaff) -> Result<Staff, String> {
    let id = person(w);
    if id.is_empty() {
        return Err("the staff member has no id".into());
    }
    let name = w.name.0.clone().unwrap_or_default();
    let mut schools: Vec<SourceId> = w
        .school_affiliations
        .0
        .iter()
        .flat_map(|a| a.school_affiliation.0.iter())
        .filter(|a| a.status.as_str() == "1" && !a.school_id.as_str().is_empty())
        // School 0 is the district office.
        .filter(|a| a.school_id.as_str() != "0")
        .map(|a| SourceId::new(a.school_id.as_str()))
        .collect();
    schools.sort();
    schools.dedup();
    let staff = Staff {
        id: StaffId::unassigned(),
        source_id: SourceId::new(id),
        first_name: name.first_name.as_str().to_owned(),
        last_name: name.last_name.as_str().to_owned(),
        email: w
            .emails
            .0
            .as_ref()
            .map(|e| e.work_email.as_str().to_owned())
            .unwrap_or_default(),
        school_source_ids: schools,
        permissions: Default::default(),
        archived: false,
    };
    model::validate::staff(&staff).map(|()| staff)
}

/// A section as a classroom, with its teacher's enrollment; or why it cannot be read.
///
/// The classroom is named "{course name} - section {section_number} ({expression})", e.g.
/// "Mathematics 7 - section 904 (1(A-F))" (our choice: what a teacher calls the class,
/// then which of its sections, then the period expression that tells same-numbered
/// sections apart); a missing section number or expression drops its part. Without a
/// course name (`course_name` is `None` or blank: the course was refused or unknown) the
/// course stands by its id: "course 74 section 904 (1(A-F))".
pub(super) fn classroom(
    w: &WireSection,
    course_name: Option<&str>,
) -> Result<(Classroom, Option<Enrollment>), String> {
    let id = w.id.as_str();
    if id.is_empty() {
        return Err("the section has no id".into());
    }
    let (number, expression) = (w.section_number.as_str(), w.expression.as_str());
    let name = match course_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(course) => match (number, expression) {
            ("", "") => course.to_owned(),
            ("", e) => format!("{course} ({e})"),
            (n, "") => format!("{course} - section {n}"),
            (n, e) => format!("{course} - section {n} ({e})"),
        },
        None => {
            let course = w.course_id.as_str();
            match (number, expression) {
                ("", "") => format!("course {course}"),
                ("", e) => format!("course {course} ({e})"),
                (n, "") => format!("course {course} section {n}"),
                (n, e) => format!("course {course} section {n} ({e})"),
            }
        }
    };
    let classroom = Classroom {
        id: ClassroomId::unassigned(),
        source_id: SourceId::new(id),
        school_source_id: SourceId::new(w.school_id.as_str()),
        name,
        archived: false,
    };
    model::validate::classroom(&classroom)?;
    let teacher =
        (!w.staff_id.as_str().is_empty() && w.staff_id.as_str() != "0").then(|| Enrollment {
            classroom_source_id: classroom.source_id.clone(),
            person_source_id: SourceId::new(w.staff_id.as_str()),
            role: EnrollmentRole::Teacher,
        });
    Ok((classroom, teacher))
}

/// What a page of a section's enrollments makes.
#[derive(Debug, Default)]
pub(super) struct Members {
    /// The students who are members of the section on the day of the pull.
    pub kept: Vec<Enrollment>,
    /// The first enrollment whose exit date could not be read (it is kept), if any.
    pub unreadable: Option<PullWarning>,
}

/// The students of a section who are its members on `today` (UTC): an enrollment is left
/// out when it is `dropped`, or when its `exit_date` (`CC.DATELEFT` [SW]) is `today` or
/// earlier — the exit date is exclusive, the first day the student is no longer in the
/// class, as PowerSchool's date left reads. Left-out enrollments are not records of the
/// roster: they are neither sent nor declared, so the pull's counts still balance. An
/// enrollment without an exit date is kept; so is one whose exit date is not a
/// `YYYY-MM-DD` date (the Swagger text types it an integer, public clients read dates),
/// since nothing says it ended — with a warning naming `endpoint` and the record.
pub(super) fn students(
    section: &SourceId,
    endpoint: &str,
    list: &[WireEnrollment],
    today: NaiveDate,
) -> Members {
    let mut members = Members::default();
    for e in list {
        if matches!(e.dropped.as_str(), "1" | "true") || e.student_id.as_str().is_empty() {
            continue;
        }
        let exit = e.exit_date.as_str();
        if !exit.is_empty() {
            match NaiveDate::parse_from_str(exit, "%Y-%m-%d") {
                Ok(left) if left <= today => continue,
                Ok(_) => {}
                Err(_) => {
                    members.unreadable.get_or_insert_with(|| PullWarning {
                        endpoint: endpoint.to_owned(),
                        record: e.id.as_str().to_owned(),
                        message: format!(
                            "an enrollment's exit date {exit:?} is not a date; it is kept as current"
                        ),
                    });
                }
            }
        }
        members.kept.push(Enrollment {
            classroom_source_id: section.clone(),
            person_source_id: SourceId::new(e.student_id.as_str()),
            role: EnrollmentRole::Student,
        });
    }
    members
}

pub(super) fn rejected(kind: RecordKind, endpoint: &str, id: &str, reason: String) -> RosterEvent {
    RosterEvent::Rejected(RejectedRecord {
        kind,
        source_id: (!id.is_empty()).then(|| SourceId::new(id)),
        endpoint: endpoint.to_owned(),
        record: if id.is_empty() {
            "(no id)".into()
        } else {
            id.to_owned()
        },
        reason,
    })
}

impl Keyed for WireStaff {
    fn page_key(&self) -> &str {
        self.id.as_str()
    }
}

impl Keyed for WireEnrollment {
    fn page_key(&self) -> &str {
        self.id.as_str()
    }
}

impl Keyed for WireSection {
    fn page_key(&self) -> &str {
        self.id.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_map_with_their_active_schools_and_a_bare_affiliation() {
        let json = r#"{"staffs":{"@expansions":"emails, school_affiliations","staff":[
          {"id":52,"local_id":3001,"admin_username":"jdoe","teacher_username":"jdoe",
           "name":{"first_name":"Jane","middle_name":"Q","last_name":"Doe"},
           "emails":{"work_email":"jdoe@district.example"},
           "school_affiliations":{"school_affiliation":[{"school_id":3,"type":1,"status":1},
             {"school_id":0,"type":0,"status":1},{"school_id":4,"type":1,"status":2}]}},
          {"id":102,"local_id":"T-9","name":{"first_name":"Bo","last_name":"Smith"},
           "emails":"","school_affiliations":{"school_affiliation":{"school_id":3,"type":1,"status":1}}}]}}"#;
        let answer: StaffAnswer = serde_json::from_str(json).expect("parses");
        let mapped: Vec<Staff> = answer
            .staffs
            .staff
            .0
            .iter()
            .map(|w| staff(w).expect("maps"))
            .collect();
        assert_eq!(mapped[0].source_id.as_str(), "52");
        assert_eq!(mapped[0].school_source_ids, [SourceId::new("3")]);
        assert_eq!(mapped[0].email, "jdoe@district.example");
        assert_eq!(mapped[1].school_source_ids, [SourceId::new("3")]);
        assert_eq!(mapped[1].email, "");
    }

    #[test]
    fn a_section_is_a_classroom_with_its_teacher_and_dropped_students_are_left_out() {
        let json = r#"{"sections":{"@expansions":"term","section":
          {"id":79,"school_id":3,"course_id":74,"term_id":2,"section_number":904,
           "expression":"1(A-F)","staff_id":155}}}"#;
        let answer: SectionsAnswer = serde_json::from_str(json).expect("parses");
        let (c, teacher) = classroom(&answer.sections.section.0[0], None).expect("maps");
        assert_eq!(c.source_id.as_str(), "79");
        assert_eq!(c.school_source_id.as_str(), "3");
        assert_eq!(c.name, "course 74 section 904 (1(A-F))");
        let teacher = teacher.expect("a teacher");
        assert_eq!(
            (teacher.person_source_id.as_str(), teacher.role),
            ("155", EnrollmentRole::Teacher)
        );
        let json = r#"{"section_enrollments":{"section_enrollment":[
          {"id":9001,"section_id":79,"student_id":5011,"entry_date":"2024-08-20","exit_date":"2025-06-10","dropped":false},
          {"id":9002,"section_id":79,"student_id":5012,"entry_date":"2024-08-20","exit_date":"2024-09-15","dropped":true}]}}"#;
        let answer: EnrollmentsAnswer = serde_json::from_str(json).expect("parses");
        let kept = students(
            &c.source_id,
            "GET /ws/v1/section/79/section_enrollment",
            &answer.section_enrollments.section_enrollment.0,
            NaiveDate::from_ymd_opt(2025, 1, 15).expect("a date"),
        )
        .kept;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].person_source_id.as_str(), "5011");
        assert!(staff(&WireStaff {
            id: Text(String::new()),
            users_dcid: Text(String::new()),
            name: Expansion(None),
            emails: Expansion(None),
            school_affiliations: Expansion(None),
        })
        .is_err());
    }

    #[test]
    fn a_classroom_is_named_after_its_course_then_section_and_period() {
        let section = |number: &str, expression: &str| WireSection {
            id: Text("79".into()),
            school_id: Text("3".into()),
            course_id: Text("74".into()),
            section_number: Text(number.into()),
            expression: Text(expression.into()),
            staff_id: Text(String::new()),
        };
        let name =
            |w: &WireSection, course: Option<&str>| classroom(w, course).expect("maps").0.name;
        let full = section("904", "1(A-F)");
        assert_eq!(
            name(&full, Some("Mathematics 7")),
            "Mathematics 7 - section 904 (1(A-F))"
        );
        assert_eq!(
            name(&section("904", ""), Some(" Mathematics 7 ")),
            "Mathematics 7 - section 904"
        );
        assert_eq!(name(&section("", "2(A)"), Some("Art 8")), "Art 8 (2(A))");
        // No course name (refused, unknown or blank): the course by its id.
        for course in [None, Some(""), Some("  ")] {
            assert_eq!(name(&full, course), "course 74 section 904 (1(A-F))");
        }
        assert_eq!(name(&section("", ""), None), "course 74");
    }

    #[test]
    fn an_enrollment_whose_exit_date_has_come_is_not_a_member() {
        // Today is 2026-03-10 (UTC); the exit date is the first day out of the class.
        let json = r#"{"section_enrollments":{"section_enrollment":[
          {"id":1,"section_id":79,"student_id":5001,"entry_date":"2025-09-02","exit_date":"2026-03-09","dropped":false},
          {"id":2,"section_id":79,"student_id":5002,"entry_date":"2025-09-02","exit_date":"2026-03-10","dropped":false},
          {"id":3,"section_id":79,"student_id":5003,"entry_date":"2025-09-02","exit_date":"2026-03-11","dropped":false},
          {"id":4,"section_id":79,"student_id":5004,"entry_date":"2025-09-02","exit_date":"2026-06-30","dropped":true},
          {"id":5,"section_id":79,"student_id":5005,"entry_date":"2025-09-02"},
          {"id":6,"section_id":79,"student_id":5006,"entry_date":"2025-09-02","exit_date":"soon","dropped":"0"},
          {"id":7,"section_id":79,"student_id":5007,"entry_date":"2025-09-02","exit_date":"2026-06-30","dropped":0}]}}"#;
        let answer: EnrollmentsAnswer = serde_json::from_str(json).expect("parses");
        let endpoint = "GET /ws/v1/section/79/section_enrollment";
        let members = students(
            &SourceId::new("79"),
            endpoint,
            &answer.section_enrollments.section_enrollment.0,
            NaiveDate::from_ymd_opt(2026, 3, 10).expect("a date"),
        );
        let kept: Vec<&str> = members
            .kept
            .iter()
            .map(|e| e.person_source_id.as_str())
            .collect();
        // Gone: exited yesterday, exits today, dropped. Kept: exits tomorrow, no exit
        // date, an exit date that is not a date, exits in June.
        assert_eq!(kept, ["5003", "5005", "5006", "5007"]);
        let warning = members
            .unreadable
            .expect("a warning for the unreadable date");
        assert_eq!(
            (warning.endpoint.as_str(), warning.record.as_str()),
            (endpoint, "6")
        );
    }
}
