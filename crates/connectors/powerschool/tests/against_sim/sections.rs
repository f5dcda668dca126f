//! Staff, sections and enrollments against the simulator: enrollments paged to their
//! count, one person per teacher however many schools list them, classroom names and
//! enrollments that have ended.

use model::roster::EnrollmentRole;

use super::*;

#[tokio::test]
async fn a_section_with_more_students_than_a_page_arrives_whole() {
    let sim = Simulator::start(SimConfig {
        max_page_size: 5,
        students: 120,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let (section, members) = sim.district(|d| {
        let section = d
            .sections
            .iter()
            .max_by_key(|s| {
                d.section_enrollments
                    .iter()
                    .filter(|e| e.section_dcid == s.dcid)
                    .count()
            })
            .expect("a section")
            .dcid;
        let members: BTreeSet<String> = d
            .expected_enrollments()
            .into_iter()
            .filter(|e| {
                e.classroom_source_id.as_str() == section.to_string()
                    && e.role == EnrollmentRole::Student
            })
            .map(|e| e.person_source_id.as_str().to_owned())
            .collect();
        (section, members)
    });
    assert!(members.len() > 5, "the section outgrows a page of 5");
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    let got: BTreeSet<String> = pulled
        .enrollments
        .iter()
        .filter(|e| {
            e.classroom_source_id.as_str() == section.to_string()
                && e.role == EnrollmentRole::Student
        })
        .map(|e| e.person_source_id.as_str().to_owned())
        .collect();
    assert_eq!(got, members, "every student of section {section}");
    assert_matches_truth(&sim, &pulled);
    let paged = sim.requests().iter().any(|r| {
        r.path == format!("/ws/v1/section/{section}/section_enrollment")
            && r.query.contains("page=2")
    });
    assert!(paged, "the section's enrollments were paged");
}
