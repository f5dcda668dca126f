//! Classroom names against the simulator: a classroom is named after its course, read
//! from `/ws/v1/course/{id}` once per course a pull meets; a refused or unknown course
//! leaves its classrooms named by course id with one warning a pull; any other failure of
//! a course read fails the pull.

use sim::powerschool::{Refusal, Refusals};

use super::*;

/// How many times each course was asked for, by course id.
fn course_reads(sim: &Simulator) -> BTreeMap<String, usize> {
    let mut reads = BTreeMap::new();
    for r in sim.requests() {
        if let Some(id) = r.path.strip_prefix("/ws/v1/course/") {
            *reads.entry(id.to_owned()).or_default() += 1;
        }
    }
    reads
}

/// The warnings of a pull about course reads.
fn course_warnings(pulled: &Roster) -> Vec<&connector::PullWarning> {
    pulled
        .warnings
        .iter()
        .filter(|w| w.endpoint.starts_with("GET /ws/v1/course/"))
        .collect()
}

#[tokio::test]
async fn a_classroom_is_named_after_its_course_read_once_per_course() {
    let sim = simulator().await;
    // Sections at two schools share a course.
    sim.edit(|d| {
        let last = d.sections.len() - 1;
        d.sections[last].course_id = d.sections[0].course_id;
    });
    let (named, courses) = sim.district(|d| {
        let s = &d.sections[0];
        let course = d.course(s.course_id).expect("in the catalogue");
        let courses: BTreeSet<String> =
            d.sections.iter().map(|s| s.course_id.to_string()).collect();
        (
            (
                s.dcid.to_string(),
                format!(
                    "{} - section {} ({})",
                    course.course_name, s.section_number, s.expression
                ),
            ),
            courses,
        )
    });
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    let classroom = pulled
        .classrooms
        .iter()
        .find(|c| c.source_id.as_str() == named.0)
        .expect("the section's classroom");
    assert_eq!(classroom.name, named.1);
    assert_matches_truth(&sim, &pulled);
    let reads = course_reads(&sim);
    assert_eq!(
        reads.keys().cloned().collect::<BTreeSet<_>>(),
        courses,
        "every course of a section is read"
    );
    assert!(reads.values().all(|n| *n == 1), "each once: {reads:?}");
    assert!(course_warnings(&pulled).is_empty());
}

#[tokio::test]
async fn a_refused_course_read_names_classrooms_by_course_id_with_one_warning() {
    for (refusal, status) in [(Refusal::Forbidden, "403"), (Refusal::NotFound, "404")] {
        let sim = Simulator::start(SimConfig {
            students: 200,
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        sim.set_plugin(PluginState {
            refused: Refusals {
                courses: Some(refusal),
                ..Refusals::default()
            },
            ..PluginState::default()
        });
        let pulled = pull(connector(&sim).as_ref())
            .await
            .expect("a refused course read does not fail the pull");
        let want: BTreeMap<String, String> = sim.district(|d| {
            d.sections
                .iter()
                .map(|s| (s.dcid.to_string(), s.classroom_name(None)))
                .collect()
        });
        let got: BTreeMap<String, String> = pulled
            .classrooms
            .iter()
            .map(|c| (c.source_id.as_str().to_owned(), c.name.clone()))
            .collect();
        assert_eq!(got, want, "{refusal:?}");
        assert!(got.values().all(|n| n.starts_with("course ")));
        let warnings = course_warnings(&pulled);
        assert_eq!(warnings.len(), 1, "one warning a pull: {warnings:#?}");
        assert!(
            warnings[0].message.starts_with("course names not read")
                && warnings[0].message.contains(status),
            "{:?}",
            warnings[0]
        );
        assert!(course_reads(&sim).values().all(|n| *n == 1));
        assert_people_match(&sim, &pulled);
        assert_staff_match(&sim, &pulled);
        assert_enrollments_match(&sim, &pulled);
    }
}

#[tokio::test]
async fn a_course_missing_from_the_catalogue_keeps_its_classrooms_id_name() {
    let sim = simulator().await;
    let gone = sim.edit(|d| {
        let gone = d.sections[0].course_id;
        d.courses.retain(|c| c.id != gone);
        gone
    });
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    // The ground truth names a section whose course is gone by its course id.
    assert_matches_truth(&sim, &pulled);
    let warnings = course_warnings(&pulled);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].endpoint, format!("GET /ws/v1/course/{gone}"));
    assert!(
        pulled
            .classrooms
            .iter()
            .any(|c| !c.name.starts_with("course ")),
        "the other courses are named"
    );
}

#[tokio::test]
async fn a_course_read_failing_otherwise_fails_the_pull() {
    let sim = simulator().await;
    sim.inject(Fault::new(Match::get("/ws/v1/course/"), FaultKind::Status500).times(1000));
    let err = pull(connector(&sim).as_ref()).await.expect_err("fails");
    assert!(
        matches!(&err, ConnectorError::Http { status: 500, endpoint, .. } if endpoint.starts_with("GET /ws/v1/course/")),
        "{err}"
    );
}
