//! The whole roster of a PowerSchool district end to end: staff (with the district's
//! staff permissions), sections as classrooms, and their enrollments are stored, archived
//! when the SIS drops them, and a returning classroom is unarchived only when the district
//! says so.

use std::collections::BTreeSet;

use model::district::{Limit, StaffPermission};
use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::{Backend, Store};

use crate::harness::{create_sim_district, run_to_end, Server};

store::on_both_backends!(staff_classrooms_and_enrollments_follow_the_sis,);

const DISTRICT: &str = "roster";

fn district() -> DistrictId {
    DISTRICT.parse().expect("district id")
}

async fn run(client: &mut crate::harness::Client) -> pb::SyncRun {
    let run = run_to_end(client, DISTRICT, false).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    run
}

/// The district's settings changed in the store, as an UpdateDistrict would.
async fn settings(store: &Store, f: impl FnOnce(&mut model::district::DistrictSettings)) {
    let mut d = store.get_district(&district()).await.expect("district");
    f(&mut d.settings);
    store.update_district(&d).await.expect("update");
}

async fn classroom(store: &Store, source: &str) -> model::roster::Classroom {
    store
        .classrooms_by_source(&district(), &[SourceId::new(source)])
        .await
        .expect("classrooms")
        .remove(&SourceId::new(source))
        .expect("the classroom is held")
        .value
}

async fn staff_classrooms_and_enrollments_follow_the_sis(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 120,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[("page_size", "7")]).await;
    let store = server.store().await;
    let granted = BTreeSet::from([
        StaffPermission::FamilyAccess,
        StaffPermission::SchoolWideCommunications,
    ]);
    settings(&store, |s| {
        s.staff_permissions = granted.clone();
        // This test drops a large share of a small district's staff and classrooms.
        s.thresholds.staff_archived = Limit::percent(100.0);
        s.thresholds.classrooms_archived = Limit::percent(100.0);
        s.unarchive_classrooms = false;
    })
    .await;

    // The first run stores every staff member, section and enrollment the SIS lists.
    let first = run(&mut client).await;
    let (staff, classrooms, enrollments) = sim.district(|d| {
        (
            d.expected_staff(),
            d.expected_classrooms(),
            d.expected_enrollments(),
        )
    });
    let ids: Vec<SourceId> = staff.iter().map(|s| s.source_id.clone()).collect();
    let held = store
        .staff_by_source(&district(), &ids)
        .await
        .expect("staff");
    assert_eq!(held.len(), staff.len(), "every staff member stored");
    for want in &staff {
        let got = &held[&want.source_id].value;
        assert_eq!(
            (&got.first_name, &got.email, &got.school_source_ids),
            (&want.first_name, &want.email, &want.school_source_ids)
        );
        assert_eq!(got.permissions, granted, "the district's staff permissions");
    }
    assert_eq!(
        store
            .count_classrooms(&district(), false)
            .await
            .expect("count"),
        classrooms.len() as u64
    );
    let sources: Vec<SourceId> = classrooms.iter().map(|c| c.source_id.clone()).collect();
    assert_eq!(
        store
            .enrollments_of_classrooms(&district(), &sources)
            .await
            .expect("enrollments")
            .len(),
        enrollments.len()
    );
    let planned = |run: &pb::SyncRun, key: &str| run.planned.get(key).copied().unwrap_or(0);
    assert_eq!(planned(&first, "staff.create"), staff.len() as u64);
    assert_eq!(planned(&first, "classroom.create"), classrooms.len() as u64);
    assert_eq!(
        planned(&first, "enrollment.create"),
        enrollments.len() as u64
    );

    // Support reads them back by the source's ids.
    let one = &staff[0];
    let read = client
        .get_staff(pb::GetStaffRequest {
            district_id: DISTRICT.into(),
            staff: Some(pb::get_staff_request::Staff::SourceId(
                one.source_id.to_string(),
            )),
        })
        .await
        .expect("staff")
        .into_inner();
    assert_eq!(read.first_name, one.first_name);
    assert_eq!(
        read.permissions,
        ["school_wide_communications", "family_access"]
    );
    let section = &classrooms[0];
    let read = client
        .get_classroom(pb::GetClassroomRequest {
            district_id: DISTRICT.into(),
            classroom: Some(pb::get_classroom_request::Classroom::SourceId(
                section.source_id.to_string(),
            )),
        })
        .await
        .expect("classroom")
        .into_inner();
    let want = enrollments
        .iter()
        .filter(|e| e.classroom_source_id == section.source_id)
        .count();
    assert_eq!(read.enrollments.len(), want);
    assert_eq!(
        read.enrollments
            .iter()
            .filter(|e| e.role == "teacher")
            .count(),
        1
    );
    let pupil = read
        .enrollments
        .iter()
        .find(|e| e.role == "student")
        .expect("a student in the section")
        .person_source_id
        .clone();
    let theirs = client
        .list_student_classrooms(pb::ListStudentClassroomsRequest {
            district_id: DISTRICT.into(),
            student: Some(pb::list_student_classrooms_request::Student::SourceId(
                pupil.clone(),
            )),
            ..Default::default()
        })
        .await
        .expect("classrooms")
        .into_inner();
    assert!(theirs
        .classrooms
        .iter()
        .any(|c| c.source_id == section.source_id.as_str()));
    assert!(theirs
        .schools
        .iter()
        .any(|s| s.source_id == section.school_source_id.as_str()));
    assert!(theirs.next_page_token.is_empty(), "one page holds them all");
    // A page at a time: the same classrooms, in the same order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_student_classrooms(pb::ListStudentClassroomsRequest {
                district_id: DISTRICT.into(),
                student: Some(pb::list_student_classrooms_request::Student::SourceId(
                    pupil.clone(),
                )),
                page_size: 1,
                page_token: token,
            })
            .await
            .expect("a page of classrooms")
            .into_inner();
        assert!(page.classrooms.len() <= 1);
        paged.extend(page.classrooms);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged, theirs.classrooms);
    // What the SIS sent for that student in the latest pull.
    let sent = client
        .get_source_records(pb::GetSourceRecordsRequest {
            district_id: DISTRICT.into(),
            student: Some(pb::get_source_records_request::Student::SourceId(
                pupil.clone(),
            )),
        })
        .await
        .expect("source records")
        .into_inner();
    assert_eq!(sent.run_id, first.run_id);
    let student = sent
        .records
        .iter()
        .find(|r| r.kind == "student")
        .expect("the student record");
    assert!(student.json.contains(&format!("\"source_id\":\"{pupil}\"")));
    assert!(
        !student.json.contains("web_id"),
        "login names are withheld: {}",
        student.json
    );
    let contacts = sim.district(|d| {
        d.expected_contacts()
            .iter()
            .filter(|c| c.student_source_id.as_str() == pupil)
            .count()
    });
    assert_eq!(
        sent.records.iter().filter(|r| r.kind == "contact").count(),
        contacts
    );
    let unknown = client
        .get_source_records(pb::GetSourceRecordsRequest {
            district_id: DISTRICT.into(),
            student: Some(pb::get_source_records_request::Student::SourceId(
                "no-such-student".into(),
            )),
        })
        .await
        .expect_err("not in the pull");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    // Nothing changed at the source: nothing is planned.
    let again = run(&mut client).await;
    assert_eq!(again.plan_items, 0, "{:?}", again.planned);

    // A section closes, a teacher leaves, a student drops a class (one that is still a
    // member: an enrollment that has already ended is not synced to begin with).
    let today = sim::powerschool::sections::today();
    let (gone_section, gone_staff, dropped) = sim.edit(|d| {
        let section = d.sections.remove(0);
        let leaver = d
            .staff
            .iter()
            .position(|s| !d.sections.iter().any(|x| x.staff_dcid == s.dcid))
            .expect("a staff member teaching no remaining section");
        let leaver = d.staff.remove(leaver);
        let e = d
            .section_enrollments
            .iter_mut()
            .find(|e| e.is_member(today) && e.section_dcid != section.dcid)
            .expect("an enrollment");
        e.dropped = true;
        (section, leaver, (e.section_dcid, e.student_dcid))
    });
    let third = run(&mut client).await;
    assert_eq!(
        planned(&third, "classroom.archive"),
        1,
        "{:?}",
        third.planned
    );
    assert_eq!(planned(&third, "staff.archive"), 1, "{:?}", third.planned);
    assert_eq!(
        planned(&third, "enrollment.delete"),
        1,
        "{:?}",
        third.planned
    );
    assert!(
        classroom(&store, &gone_section.dcid.to_string())
            .await
            .archived
    );
    let leaver = SourceId::new(gone_staff.dcid.to_string());
    assert!(
        store
            .staff_by_source(&district(), std::slice::from_ref(&leaver))
            .await
            .expect("staff")[&leaver]
            .value
            .archived
    );
    let of_student = store
        .enrollments_of_person(&district(), &SourceId::new(dropped.1.to_string()))
        .await
        .expect("enrollments");
    assert!(of_student
        .iter()
        .all(|e| e.classroom_source_id.as_str() != dropped.0.to_string()));

    // The section comes back: it stays archived while the district keeps them archived…
    sim.edit(|d| d.sections.push(gone_section.clone()));
    let fourth = run(&mut client).await;
    assert_eq!(
        planned(&fourth, "classroom.unarchive"),
        0,
        "{:?}",
        fourth.planned
    );
    assert!(
        classroom(&store, &gone_section.dcid.to_string())
            .await
            .archived
    );
    // … and comes back once it does.
    settings(&store, |s| s.unarchive_classrooms = true).await;
    let fifth = run(&mut client).await;
    assert_eq!(
        planned(&fifth, "classroom.unarchive"),
        1,
        "{:?}",
        fifth.planned
    );
    assert!(
        !classroom(&store, &gone_section.dcid.to_string())
            .await
            .archived
    );
}
