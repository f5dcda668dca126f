//! Staff, sections and section enrollments from PowerSchool's documented `/ws/v1`
//! resources (public clients show these shapes; see the crate docs):
//!
//! - `GET /ws/v1/school/{id}/staff?expansions=emails,school_affiliations` →
//!   `{"staffs":{"staff":[{"id","local_id","admin_username","teacher_username",
//!   "name":{"first_name","middle_name","last_name"},"emails":{"work_email"},
//!   "school_affiliations":{"school_affiliation":[{"school_id","type","status"}]}}]}}`,
//!   counted by `…/staff/count` (`{"resource":{"count":N}}`), paged by `page`/`pagesize`;
//! - `GET /ws/v1/school/{id}/section` → `{"sections":{"section":[{"id","school_id",
//!   "course_id","term_id","section_number","expression","staff_id"}]}}`, counted and paged
//!   the same way;
//! - `GET /ws/v1/section/{id}/section_enrollment` → `{"section_enrollments":
//!   {"section_enrollment":[{"id","section_id","student_id","entry_date","exit_date",
//!   "dropped"}]}}`, one list per section (no count is documented: what arrives is what
//!   the section holds).
//!
//! A staff member affiliated with several schools is listed by each; every listing maps
//! to the same record, which the engine stages once. Staff have no enrollment status in
//! `/ws/v1`; an affiliation whose `status` is not 1 does not count. Dropped enrollments
//! are left out. Sections become classrooms, their `staff_id` a teacher enrollment.

use futures::StreamExt;
use serde::Deserialize;

use connector::{
    page_keys, ConnectorError, Keyed, PageWalk, PullCounts, PullStop, RecordKind, RejectedRecord,
    RosterEvent, RosterSink,
};
use model::ids::{ClassroomId, SourceId, StaffId};
use model::roster::{Classroom, Enrollment, EnrollmentRole, Staff};

use crate::client::PsClient;
use crate::wire::{Expansion, OneOrMany, Text};

/// Staff expansions read.
pub const STAFF_EXPANSIONS: &str = "emails,school_affiliations";

// ---- wire ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct StaffAnswer {
    staffs: StaffList,
}

#[derive(Debug, Deserialize)]
struct StaffList {
    #[serde(default)]
    staff: OneOrMany<WireStaff>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireStaff {
    #[serde(default)]
    id: Text,
    #[serde(default)]
    name: Expansion<StaffName>,
    #[serde(default)]
    emails: Expansion<StaffEmails>,
    #[serde(default)]
    school_affiliations: Expansion<Affiliations>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct StaffName {
    #[serde(default)]
    first_name: Text,
    #[serde(default)]
    last_name: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct StaffEmails {
    #[serde(default)]
    work_email: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Affiliations {
    #[serde(default)]
    school_affiliation: OneOrMany<Affiliation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Affiliation {
    #[serde(default)]
    school_id: Text,
    #[serde(default)]
    status: Text,
}

#[derive(Debug, Deserialize)]
struct SectionsAnswer {
    sections: SectionList,
}

#[derive(Debug, Deserialize)]
struct SectionList {
    #[serde(default)]
    section: OneOrMany<WireSection>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireSection {
    #[serde(default)]
    id: Text,
    #[serde(default)]
    school_id: Text,
    #[serde(default)]
    course_id: Text,
    #[serde(default)]
    section_number: Text,
    #[serde(default)]
    expression: Text,
    #[serde(default)]
    staff_id: Text,
}

#[derive(Debug, Deserialize)]
struct EnrollmentsAnswer {
    section_enrollments: EnrollmentList,
}

#[derive(Debug, Deserialize)]
struct EnrollmentList {
    #[serde(default)]
    section_enrollment: OneOrMany<WireEnrollment>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireEnrollment {
    #[serde(default)]
    student_id: Text,
    #[serde(default)]
    dropped: Text,
}

// ---- mapping ------------------------------------------------------------------------

/// A staff member, or why it cannot be read.
fn staff(w: &WireStaff) -> Result<Staff, String> {
    let id = w.id.as_str();
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
fn classroom(w: &WireSection) -> Result<(Classroom, Option<Enrollment>), String> {
    let id = w.id.as_str();
    if id.is_empty() {
        return Err("the section has no id".into());
    }
    let name = match (w.section_number.as_str(), w.expression.as_str()) {
        ("", e) => format!("course {} ({e})", w.course_id.as_str()),
        (n, "") => format!("course {} section {n}", w.course_id.as_str()),
        (n, e) => format!("course {} section {n} ({e})", w.course_id.as_str()),
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

/// The students of a section who have not dropped it.
fn students(section: &SourceId, list: &[WireEnrollment]) -> Vec<Enrollment> {
    list.iter()
        .filter(|e| !matches!(e.dropped.as_str(), "1" | "true"))
        .filter(|e| !e.student_id.as_str().is_empty())
        .map(|e| Enrollment {
            classroom_source_id: section.clone(),
            person_source_id: SourceId::new(e.student_id.as_str()),
            role: EnrollmentRole::Student,
        })
        .collect()
}

fn rejected(kind: RecordKind, endpoint: &str, id: &str, reason: String) -> RosterEvent {
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

// ---- pull ---------------------------------------------------------------------------

/// Every school's staff, then its sections with their enrollments, sent as they are read;
/// adds what it declared to `declared`.
pub async fn pull(
    client: &PsClient,
    sink: &RosterSink,
    schools: &[String],
    declared: &mut PullCounts,
) -> Result<(), PullStop> {
    let limits = client.limits().await?.clone();
    let concurrency = client.http().config().concurrency.max(1);
    for school in schools {
        let path = format!("/ws/v1/school/{school}/staff");
        let endpoint = format!("GET {path}");
        let count = client.v1_count(&path, &[]).await?;
        declared.staff += count;
        let mut walk = PageWalk::new(endpoint.clone(), limits.staff_page, Some(count));
        while let Some(page) = walk.next_page() {
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let answer: StaffAnswer = client
                .get(
                    &path,
                    &[
                        ("expansions", STAFF_EXPANSIONS),
                        ("pagesize", &size),
                        ("page", &page),
                    ],
                )
                .await?;
            let rows = answer.staffs.staff.0;
            walk.record(rows.len(), page_keys(&rows))?;
            let mut mapped = Vec::with_capacity(rows.len());
            for w in &rows {
                match staff(w) {
                    Ok(s) => mapped.push(s),
                    Err(why) => {
                        sink.send(rejected(RecordKind::Staff, &endpoint, w.id.as_str(), why))
                            .await?
                    }
                }
            }
            sink.send(RosterEvent::Staff(mapped)).await?;
        }

        let path = format!("/ws/v1/school/{school}/section");
        let endpoint = format!("GET {path}");
        let count = client.v1_count(&path, &[]).await?;
        declared.classrooms += count;
        let mut walk = PageWalk::new(endpoint.clone(), limits.section_page, Some(count));
        while let Some(page) = walk.next_page() {
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let answer: SectionsAnswer = client
                .get(&path, &[("pagesize", &size), ("page", &page)])
                .await?;
            let rows = answer.sections.section.0;
            walk.record(rows.len(), page_keys(&rows))?;
            let mut classrooms = Vec::with_capacity(rows.len());
            let mut teachers = Vec::new();
            for w in &rows {
                match classroom(w) {
                    Ok((c, t)) => {
                        classrooms.push(c);
                        teachers.extend(t);
                    }
                    Err(why) => {
                        sink.send(rejected(
                            RecordKind::Classroom,
                            &endpoint,
                            w.id.as_str(),
                            why,
                        ))
                        .await?
                    }
                }
            }
            // Each section's students, several sections in flight at once.
            let ids: Vec<SourceId> = classrooms.iter().map(|c| c.source_id.clone()).collect();
            let mut lists = futures::stream::iter(ids)
                .map(|section| async move {
                    let path = format!("/ws/v1/section/{section}/section_enrollment");
                    let answer: EnrollmentsAnswer = client.get(&path, &[]).await?;
                    Ok::<_, ConnectorError>(students(
                        &section,
                        &answer.section_enrollments.section_enrollment.0,
                    ))
                })
                .buffered(concurrency);
            let mut enrollments = teachers;
            while let Some(list) = lists.next().await {
                enrollments.extend(list?);
            }
            drop(lists);
            declared.enrollments += enrollments.len() as u64;
            sink.send(RosterEvent::Classrooms(classrooms)).await?;
            sink.send(RosterEvent::Enrollments(enrollments)).await?;
        }
    }
    Ok(())
}

impl Keyed for WireStaff {
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
        let (c, teacher) = classroom(&answer.sections.section.0[0]).expect("maps");
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
            &answer.section_enrollments.section_enrollment.0,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].person_source_id.as_str(), "5011");
        assert!(staff(&WireStaff {
            id: Text(String::new()),
            name: Expansion(None),
            emails: Expansion(None),
            school_affiliations: Expansion(None),
        })
        .is_err());
    }
}
