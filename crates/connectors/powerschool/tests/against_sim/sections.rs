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

#[tokio::test]
async fn a_teacher_at_two_schools_is_one_person_named_by_both_schools_sections() {
    let sim = simulator().await;
    let (person, schools, sections) = sim.district(|d| {
        let shared = d
            .staff
            .iter()
            .find(|s| s.affiliations.iter().filter(|(_, active)| *active).count() > 1)
            .expect("a teacher at two schools");
        let ids: BTreeSet<u64> = shared.school_staff_ids.iter().map(|(_, id)| *id).collect();
        assert_eq!(
            ids.len(),
            2,
            "one staff record per school, each with its own id"
        );
        assert!(!ids.contains(&shared.dcid));
        let schools: Vec<String> = {
            let mut s: Vec<u64> = shared.affiliations.iter().map(|(s, _)| *s).collect();
            s.sort();
            s.iter().map(u64::to_string).collect()
        };
        let sections: Vec<(String, String)> = d
            .sections
            .iter()
            .filter(|s| s.staff_dcid == shared.dcid)
            .map(|s| (s.dcid.to_string(), s.school_dcid.to_string()))
            .collect();
        (shared.dcid.to_string(), schools, sections)
    });
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    let records: Vec<_> = pulled
        .staff
        .iter()
        .filter(|s| s.source_id.as_str() == person)
        .collect();
    assert_eq!(records.len(), 1, "the person once");
    let got: Vec<&str> = records[0]
        .school_source_ids
        .iter()
        .map(SourceId::as_str)
        .collect();
    assert_eq!(got, schools, "with both schools");
    let taught: BTreeSet<&str> = sections.iter().map(|(_, school)| school.as_str()).collect();
    assert_eq!(taught.len(), 2, "the person teaches at both schools");
    for (section, _) in &sections {
        let teacher = pulled
            .enrollments
            .iter()
            .find(|e| {
                e.classroom_source_id.as_str() == section && e.role == EnrollmentRole::Teacher
            })
            .expect("the section's teacher");
        assert_eq!(
            teacher.person_source_id.as_str(),
            person,
            "section {section}"
        );
    }
    assert_matches_truth(&sim, &pulled);
}

#[tokio::test]
async fn an_enrollment_whose_exit_date_has_come_is_not_a_member() {
    let sim = simulator().await;
    let today = sim::powerschool::sections::today();
    let pair = |e: &sim::powerschool::SectionEnrollment| {
        (e.section_dcid.to_string(), e.student_dcid.to_string())
    };
    let (ended, leaving_today, current) = sim.district(|d| {
        let ended: BTreeSet<(String, String)> = d
            .section_enrollments
            .iter()
            .filter(|e| !e.dropped && e.exit_date <= today)
            .map(pair)
            .collect();
        let leaving_today = d
            .section_enrollments
            .iter()
            .find(|e| !e.dropped && e.exit_date == today)
            .map(pair);
        let current = d
            .section_enrollments
            .iter()
            .filter(|e| e.is_member(today))
            .count();
        (ended, leaving_today, current)
    });
    assert!(ended.len() >= 2, "the district holds ended enrollments");
    let leaving_today = leaving_today.expect("an enrollment whose exit date is today");
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    let got: BTreeSet<(String, String)> = pulled
        .enrollments
        .iter()
        .filter(|e| e.role == EnrollmentRole::Student)
        .map(|e| {
            (
                e.classroom_source_id.as_str().to_owned(),
                e.person_source_id.as_str().to_owned(),
            )
        })
        .collect();
    assert!(
        !got.contains(&leaving_today),
        "the exit date is exclusive: leaving today is gone today"
    );
    let kept: Vec<_> = ended.intersection(&got).collect();
    assert!(kept.is_empty(), "ended enrollments sent: {kept:?}");
    assert_eq!(got.len(), current, "every current student enrollment");
    // What was left out is neither sent nor declared: the counts balance.
    assert_eq!(pulled.declared.enrollments, pulled.enrollments.len() as u64);
    assert_matches_truth(&sim, &pulled);
}
