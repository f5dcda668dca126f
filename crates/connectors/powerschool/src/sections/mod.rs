//! Staff, sections and section enrollments from PowerSchool's documented `/ws/v1`
//! resources (public clients and the Swagger text [SW] show these shapes):
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
//!   "dropped"}]}}`, counted by `…/section_enrollment/count` and paged like the others
//!   (the Swagger text [SW] documents the count and `section_enrollment_max_page_size`).
//!
//! **Optional kinds** (SPEC §2c): seed 001's nightly sync reads students, independent
//! students and `student_guardian_detail` only, so a district may keep staff and sections
//! from the plugin. A 403 or 404 on the staff list (or its count) of any school is one
//! [`RosterEvent::Unavailable`] for staff, and no school's staff is sent; on the section
//! list, one for classrooms and one for enrollments (enrollments are read through the
//! sections); on a section's enrollments, one for enrollments, and no more enrollments
//! are read. Any other error still fails the pull. What was sent of a kind before it was
//! refused is ignored by the engine with the rest of that kind.
//!
//! A classroom is named after its course: `GET /ws/v1/course/{id}` is read once per
//! distinct course a pull meets ([`courses`]); a refused course (403, 404) is one warning
//! and its classrooms are named by course id (see [`wire::classroom`]).
//!
//! Staff are read for every school before any is sent. Staff have no enrollment status
//! in `/ws/v1`; an affiliation whose `status` is not 1 does not count. A student's
//! enrollment is sent only while it is current: dropped ones and ones whose exit date is
//! the pull's day (UTC) or earlier are left out, and neither sent nor declared
//! ([`wire::students`]). Sections become classrooms, their `staff_id` a teacher enrollment.

mod courses;
mod staff;
mod wire;

use futures::StreamExt;

use chrono::NaiveDate;
use connector::{
    page_keys, ConnectorError, PageWalk, PullCounts, PullStop, RecordKind, RosterEvent, RosterSink,
    Unavailable,
};
use model::ids::SourceId;

use crate::client::{Limits, PsClient};

use courses::Courses;
use staff::People;
pub use wire::STAFF_EXPANSIONS;
use wire::{EnrollmentsAnswer, Members, SectionsAnswer};

/// Staff records a batch holds.
const STAFF_BATCH: usize = 500;

/// Every school's staff, then each school's sections with their enrollments; adds what
/// it declared to `declared`. A refusal (403, 404) of an optional kind is sent as
/// [`RosterEvent::Unavailable`] and the rest goes on; any other error ends the pull.
pub async fn pull(
    client: &PsClient,
    sink: &RosterSink,
    schools: &[String],
    declared: &mut PullCounts,
) -> Result<(), PullStop> {
    let limits = client.limits().await?.clone();
    let mut progress = Progress::default();
    let people = match staff::read(client, &limits, schools).await {
        Ok(people) => {
            declared.staff += people.declared();
            for r in &people.rejected {
                sink.send(r.clone()).await?;
            }
            let all: Vec<_> = people.staff().cloned().collect();
            for batch in all.chunks(STAFF_BATCH) {
                sink.send(RosterEvent::Staff(batch.to_vec())).await?;
            }
            people
        }
        Err(e) => {
            let Some(refused) = Unavailable::from_refusal(RecordKind::Staff, &e) else {
                return Err(e.into());
            };
            // A section names its teacher by the school's staff record; without the
            // staff lists no teacher can be named, so enrollments are not read either.
            let teachers = Unavailable {
                kind: RecordKind::Enrollment,
                reason: format!(
                    "{}; a section's teacher is named through the staff list",
                    refused.reason
                ),
                ..refused.clone()
            };
            for u in [refused, teachers] {
                tracing::warn!(kind = u.kind.as_str(), endpoint = %u.endpoint, "{}", u.reason);
                sink.send(RosterEvent::Unavailable(u)).await?;
            }
            progress.enrollments_refused = true;
            People::default()
        }
    };

    // Membership is judged on one day for the whole pull.
    let today = chrono::Utc::now().date_naive();
    for school in schools {
        let read = Sections {
            client,
            sink,
            limits: &limits,
            people: &people,
            today,
        };
        match read.school(school, declared, &mut progress).await {
            Ok(()) => {}
            Err(Stop::Pull(stop)) => return Err(stop),
            Err(Stop::Sections(e)) => {
                let kinds: &[RecordKind] = if progress.enrollments_refused {
                    &[RecordKind::Classroom]
                } else {
                    &[RecordKind::Classroom, RecordKind::Enrollment]
                };
                sink.optional(Err(e.into()), kinds).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Why a school's sections stopped.
enum Stop {
    /// The section list failed (a refusal makes classrooms unavailable).
    Sections(ConnectorError),
    /// The pull stopped (a failure elsewhere, or the consumer left).
    Pull(PullStop),
}

impl From<PullStop> for Stop {
    fn from(stop: PullStop) -> Self {
        Stop::Pull(stop)
    }
}

/// What reading a school's sections needs.
struct Sections<'a> {
    client: &'a PsClient,
    sink: &'a RosterSink,
    limits: &'a Limits,
    people: &'a People,
    /// The pull's day (UTC): an enrollment that exits on or before it has ended.
    today: NaiveDate,
}

/// What a pull learns as it reads school after school.
#[derive(Debug, Default)]
struct Progress {
    /// The course names read so far.
    courses: Courses,
    /// Enrollments were refused: sections go on without them.
    enrollments_refused: bool,
    /// The pull has warned of an exit date it could not read (once a pull).
    dates_warned: bool,
}

impl Sections<'_> {
    /// One school's sections, page by page, each page with its sections' course names
    /// (read once a pull, see [`courses`]) and current enrollments. Once enrollments are
    /// refused, sections go on without them.
    async fn school(
        &self,
        school: &str,
        declared: &mut PullCounts,
        progress: &mut Progress,
    ) -> Result<(), Stop> {
        let Sections {
            client,
            sink,
            limits,
            people,
            today,
        } = *self;
        let concurrency = client.http().config().concurrency.max(1);
        let path = format!("/ws/v1/school/{school}/section");
        let endpoint = format!("GET {path}");
        let count = client.v1_count(&path, &[]).await.map_err(Stop::Sections)?;
        declared.classrooms += count;
        let mut walk = PageWalk::new(endpoint.clone(), limits.section_page, Some(count));
        while let Some(page) = walk.next_page() {
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let answer: SectionsAnswer = client
                .get(&path, &[("pagesize", &size), ("page", &page)])
                .await
                .map_err(Stop::Sections)?;
            let rows = answer.sections.section.0;
            walk.record(rows.len(), page_keys(&rows))
                .map_err(|e| Stop::Pull(e.into()))?;
            let ids = rows.iter().map(|w| w.course_id.as_str());
            let warning = progress
                .courses
                .learn(client, concurrency, ids)
                .await
                .map_err(|e| Stop::Pull(e.into()))?;
            if let Some(warning) = warning {
                sink.send(RosterEvent::Warning(warning)).await?;
            }
            let mut classrooms = Vec::with_capacity(rows.len());
            let mut enrollments = Vec::new();
            for w in &rows {
                match wire::classroom(w, progress.courses.name(w.course_id.as_str())) {
                    Ok((c, teacher)) => {
                        classrooms.push(c);
                        enrollments.extend(teacher.map(|mut t| {
                            t.person_source_id = people.teacher(&t.person_source_id);
                            t
                        }));
                    }
                    Err(why) => {
                        sink.send(wire::rejected(
                            RecordKind::Classroom,
                            &endpoint,
                            w.id.as_str(),
                            why,
                        ))
                        .await?
                    }
                }
            }
            let ids: Vec<SourceId> = classrooms.iter().map(|c| c.source_id.clone()).collect();
            sink.send(RosterEvent::Classrooms(classrooms)).await?;
            if progress.enrollments_refused {
                continue;
            }
            // Each section's students, several sections in flight at once.
            let mut lists = futures::stream::iter(ids)
                .map(|section| section_students(client, limits, section, today))
                .buffered(concurrency);
            let mut unreadable = None;
            while let Some(list) = lists.next().await {
                match list {
                    Ok(members) => {
                        enrollments.extend(members.kept);
                        unreadable = unreadable.or(members.unreadable);
                    }
                    Err(e) => {
                        drop(lists);
                        sink.optional(Err(e.into()), &[RecordKind::Enrollment])
                            .await?;
                        progress.enrollments_refused = true;
                        break;
                    }
                }
            }
            if progress.enrollments_refused {
                continue;
            }
            if let Some(warning) = unreadable.filter(|_| !progress.dates_warned) {
                progress.dates_warned = true;
                tracing::warn!(endpoint = %warning.endpoint, record = %warning.record, "{}", warning.message);
                sink.send(RosterEvent::Warning(warning)).await?;
            }
            // Only current members were kept: what is sent is what is declared.
            declared.enrollments += enrollments.len() as u64;
            sink.send(RosterEvent::Enrollments(enrollments)).await?;
        }
        Ok(())
    }
}

/// The students of one section who are its members on `today` ([`wire::students`]): the
/// list counted (`…/section_enrollment/count`) and paged to its count in pages of
/// `section_enrollment_max_page_size`. The count is of every enrollment, ended ones
/// included, so the whole list is read before any is left out.
async fn section_students(
    client: &PsClient,
    limits: &Limits,
    section: SourceId,
    today: NaiveDate,
) -> Result<Members, ConnectorError> {
    let path = format!("/ws/v1/section/{section}/section_enrollment");
    let endpoint = format!("GET {path}");
    let first_size = limits.section_enrollment_page.to_string();
    // The count and the first page at once: most sections fit one page, so a section
    // costs one round trip.
    let first_query = [("pagesize", first_size.as_str()), ("page", "1")];
    let (count, first) = tokio::join!(
        client.v1_count(&path, &[]),
        client.get::<EnrollmentsAnswer>(&path, &first_query)
    );
    let mut first = Some(first);
    let mut walk = PageWalk::new(
        endpoint.clone(),
        limits.section_enrollment_page,
        Some(count?),
    );
    let mut members = Members::default();
    while let Some(page) = walk.next_page() {
        let answer = match first.take() {
            Some(answer) => answer?,
            None => {
                let (size, page) = (walk.page_size().to_string(), page.to_string());
                client
                    .get::<EnrollmentsAnswer>(&path, &[("pagesize", &size), ("page", &page)])
                    .await?
            }
        };
        let rows = answer.section_enrollments.section_enrollment.0;
        walk.record(rows.len(), page_keys(&rows))?;
        let page = wire::students(&section, &endpoint, &rows, today);
        members.kept.extend(page.kept);
        members.unreadable = members.unreadable.or(page.unreadable);
    }
    Ok(members)
}
