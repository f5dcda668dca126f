//! Optional kinds (SPEC §2c): a district whose plugin may not read staff, sections or
//! section enrollments (403), or whose PowerSchool lacks them (404), still syncs its
//! students and guardians whole; the pull names each kind it did not get, once, with the
//! endpoint and status, and the check says so without failing.

use connector::{RecordKind, Unavailable};
use sim::powerschool::{Refusal, Refusals};

use super::access::step;
use super::*;

async fn refusing(refused: Refusals) -> Simulator {
    let sim = simulator().await;
    sim.set_plugin(PluginState {
        refused,
        ..PluginState::default()
    });
    sim
}

fn first_school(sim: &Simulator) -> u64 {
    sim.district(|d| d.schools.iter().map(|s| s.dcid).min())
        .expect("a school")
}

fn status(refusal: Refusal) -> u16 {
    match refusal {
        Refusal::Forbidden => 403,
        Refusal::NotFound => 404,
    }
}

/// The kinds, endpoints and statuses of the pull's unavailable events, in order.
fn unavailable(pulled: &Roster) -> Vec<(RecordKind, String, Option<u16>)> {
    pulled
        .unavailable
        .iter()
        .map(
            |Unavailable {
                 kind,
                 endpoint,
                 reason,
             }| (*kind, endpoint.clone(), status_in(reason)),
        )
        .collect()
}

/// The status a reason names (`… (HTTP 403)`).
fn status_in(reason: &str) -> Option<u16> {
    let (_, after) = reason.split_once("(HTTP ")?;
    after.get(..3)?.parse().ok()
}

#[tokio::test]
async fn refused_staff_makes_staff_and_enrollments_unavailable_and_the_rest_is_whole() {
    for refusal in [Refusal::Forbidden, Refusal::NotFound] {
        let sim = refusing(Refusals {
            staff: Some(refusal),
            ..Refusals::default()
        })
        .await;
        let pulled = pull(connector(&sim).as_ref())
            .await
            .expect("a refused optional kind does not fail the pull");
        let endpoint = format!("GET /ws/v1/school/{}/staff/count", first_school(&sim));
        let code = Some(status(refusal));
        // Sections name their teachers by the schools' staff records: without the staff
        // lists, enrollments cannot be read whole either.
        assert_eq!(
            unavailable(&pulled),
            vec![
                (RecordKind::Staff, endpoint.clone(), code),
                (RecordKind::Enrollment, endpoint, code)
            ]
        );
        assert!(pulled.staff.is_empty(), "no school's staff is sent");
        assert!(pulled.enrollments.is_empty());
        assert_people_match(&sim, &pulled);
        assert_classrooms_match(&sim, &pulled);
    }
}

#[tokio::test]
async fn refused_sections_make_classrooms_and_enrollments_unavailable() {
    for refusal in [Refusal::Forbidden, Refusal::NotFound] {
        let sim = refusing(Refusals {
            sections: Some(refusal),
            ..Refusals::default()
        })
        .await;
        let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
        let endpoint = format!("GET /ws/v1/school/{}/section/count", first_school(&sim));
        let code = Some(status(refusal));
        assert_eq!(
            unavailable(&pulled),
            vec![
                (RecordKind::Classroom, endpoint.clone(), code),
                (RecordKind::Enrollment, endpoint, code)
            ]
        );
        assert!(pulled.classrooms.is_empty() && pulled.enrollments.is_empty());
        assert_people_match(&sim, &pulled);
        assert_staff_match(&sim, &pulled);
    }
}

#[tokio::test]
async fn refused_section_enrollments_make_enrollments_unavailable() {
    for refusal in [Refusal::Forbidden, Refusal::NotFound] {
        let sim = refusing(Refusals {
            section_enrollments: Some(refusal),
            ..Refusals::default()
        })
        .await;
        let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
        let got = unavailable(&pulled);
        assert_eq!(got.len(), 1, "{got:?}");
        let (kind, endpoint, code) = &got[0];
        assert_eq!(
            (*kind, *code),
            (RecordKind::Enrollment, Some(status(refusal)))
        );
        assert!(
            endpoint.starts_with("GET /ws/v1/section/") && endpoint.contains("/section_enrollment"),
            "{endpoint}"
        );
        assert_people_match(&sim, &pulled);
        assert_staff_match(&sim, &pulled);
        assert_classrooms_match(&sim, &pulled);
    }
}

#[tokio::test]
async fn a_required_kind_refused_or_an_optional_kind_failing_otherwise_fails_the_pull() {
    // A server error on staff, after every retry, is not a refusal.
    let sim = simulator().await;
    let school = first_school(&sim);
    sim.inject(
        Fault::new(
            Match::get(format!("/ws/v1/school/{school}/staff")),
            FaultKind::Status500,
        )
        .times(1000),
    );
    let err = pull(connector(&sim).as_ref()).await.expect_err("fails");
    assert!(
        matches!(&err, ConnectorError::Http { status: 500, endpoint, .. } if endpoint.contains("/staff")),
        "{err}"
    );
    // The student_guardian_detail PowerQuery refused (403) fails the pull, as any
    // required kind refused does.
    let sim = simulator().await;
    let mut fewer = fields::access_request();
    fewer.remove(&("pcas_account".to_owned(), "username".to_owned()));
    sim.set_plugin(PluginState {
        granted: Some(fewer.iter().map(|(t, f)| format!("{t}.{f}")).collect()),
        ..PluginState::default()
    });
    let err = pull(connector(&sim).as_ref()).await.expect_err("refused");
    assert!(
        matches!(&err, ConnectorError::Forbidden { endpoint, .. } if endpoint.contains("student_guardian_detail")),
        "{err}"
    );
}

#[tokio::test]
async fn check_says_which_kinds_the_district_will_not_get() {
    let sim = refusing(Refusals {
        staff: Some(Refusal::Forbidden),
        sections: Some(Refusal::NotFound),
        ..Refusals::default()
    })
    .await;
    let report = connector(&sim).check().await;
    assert!(
        report.ok(),
        "a refused optional kind fails no check: {report:#?}"
    );
    for (name, kinds, status) in [
        ("staff", "staff (and so", "HTTP 403"),
        ("sections", "classrooms and their enrollments", "HTTP 404"),
    ] {
        let (problem, cause) = match step(&report, name) {
            CheckOutcome::Limited { problem, cause } => (problem, cause),
            other => panic!("{name}: {other:?}"),
        };
        assert!(
            problem.starts_with(kinds)
                && problem.contains("will not be synced")
                && problem.contains(status),
            "{problem}"
        );
        assert!(cause.contains("/ws/v1/school/"), "{cause}");
    }
    let healthy = simulator().await;
    let report = connector(&healthy).check().await;
    for name in ["staff", "sections"] {
        assert!(
            matches!(step(&report, name), CheckOutcome::Passed { detail } if detail.ends_with("visible at the first school")),
            "{report:#?}"
        );
    }
}
