//! A Clever district end to end over gRPC against the Clever simulator, on both
//! databases: the roster, contacts linked per relationship with tiers and rule ids, the
//! one phone type mapped to the phone or SMS field, staff and classrooms, the student id
//! choice, TestConnection and SpotSync.

use std::collections::BTreeSet;

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::clever::{CleverSimConfig, Role, Simulator};
use store::{Backend, Store};

use crate::harness::{connector, create_request, district, run_to_end, update_request, Server};

store::on_both_backends!(
    a_clever_district_syncs_its_roster_links_and_phones,
    a_clever_district_tests_ok_and_spot_syncs,
    clever_contact_types_and_relationships_filter_links,
    a_contact_recreated_under_a_new_id_is_rekeyed,
    clever_staff_get_the_districts_permissions_and_classrooms_follow_the_setting,
    a_429_storm_is_survived_within_clevers_budget,
    a_student_back_under_a_new_id_is_rekeyed,
    clever_guardians_and_archived_students_follow_the_settings,
);

const DISTRICT: &str = "clever-sim";

fn district_id() -> DistrictId {
    DISTRICT.parse().expect("id")
}

/// Settings with exactly one phone type, as Clever requires.
fn one_phone_type(kind: &str) -> pb::DistrictSettings {
    pb::DistrictSettings {
        phone_types: Some(pb::TypeSelection {
            all: false,
            values: vec![kind.into()],
        }),
        ..Default::default()
    }
}

async fn setup(backend: Backend) -> (Simulator, Server, crate::harness::Client, Store) {
    // The district holds a relationship outside Clever's list, to prove it is kept.
    let sim = Simulator::start(CleverSimConfig {
        quirks: sim::clever::Quirks {
            unknown_values: true,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(create_request(district(
            DISTRICT,
            "Clever District",
            connector(
                "clever",
                &[
                    ("district_id", sim.district_id()),
                    ("api_base_url", &sim.base_url()),
                    ("page_size", "25"),
                ],
                &[("district_token", sim.token())],
            ),
            Some(one_phone_type("cell")),
            "America/Chicago",
        )))
        .await
        .expect("create the Clever district");
    let store = server.store().await;
    (sim, server, client, store)
}

fn ok(run: &pb::SyncRun) {
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
}

async fn a_clever_district_syncs_its_roster_links_and_phones(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let d = district_id();
    ok(&run_to_end(&mut client, DISTRICT, false).await);

    let (students, teachers_and_staff, sections) = sim.district(|x| {
        let shared = |role: Role| -> BTreeSet<String> {
            x.users_with_role(role)
                .filter(|u| x.is_shared(&u.id))
                .map(|u| u.id.clone())
                .collect()
        };
        let mut staff = shared(Role::Teacher);
        staff.extend(shared(Role::Staff));
        (
            shared(Role::Student).len() as u64,
            staff.len() as u64,
            x.sections.iter().filter(|s| x.is_shared(&s.id)).count() as u64,
        )
    });
    assert_eq!(
        store.count_students(&d, false).await.expect("count"),
        students
    );
    assert_eq!(
        store.count_staff(&d, false).await.expect("count"),
        teachers_and_staff
    );
    assert_eq!(
        store.count_classrooms(&d, false).await.expect("count"),
        sections
    );

    // Every listed contact of every type and relationship is linked Full (all types and
    // relationships sync by default), by Clever's rule.
    let cases = sim.district(|x| x.cases.clone());
    let student = &cases.two_students[0];
    let s = store
        .find_student_by_source(&d, &SourceId::new(student))
        .await
        .expect("student");
    let links = store.list_student_links(&d, s.id).await.expect("links");
    let g = store
        .find_guardian_by_source(&d, &SourceId::new(&cases.two_students_contact))
        .await
        .expect("the contact's account");
    let link = links
        .iter()
        .find(|l| l.guardian_id == g.id)
        .expect("linked");
    assert_eq!(link.tier.as_str(), "full");
    assert_eq!(link.decision.rule.to_string(), "clever.link.full");

    // The one phone type: Cell goes to the SMS field; a Home number is not taken.
    let cell = store
        .find_guardian_by_source(&d, &SourceId::new(&cases.phone_type_contacts["Cell"]))
        .await
        .expect("cell contact");
    assert!(!cell.mobile_phone.is_empty() && cell.home_phone.is_empty());
    let home = store
        .find_guardian_by_source(&d, &SourceId::new(&cases.phone_type_contacts["Home"]))
        .await
        .expect("home contact");
    assert!(home.mobile_phone.is_empty() && home.home_phone.is_empty());

    // The student id: Clever's sis_id when the district chooses STUDENT ID, the student
    // number otherwise.
    let (sis_id, number) = sim.district(|x| {
        let role = x
            .user(student)
            .and_then(|u| u.roles.student.clone())
            .expect("student role");
        (role.sis_id, role.student_number)
    });
    assert_eq!(
        s.student_number, number,
        "the default is the student number"
    );
    set(
        &mut client,
        pb::DistrictSettings {
            student_id_source: Some(pb::StudentIdSource::SourceId as i32),
            ..one_phone_type("home")
        },
        &["settings.student_id_source", "settings.phone_types"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let s = store
        .find_student_by_source(&d, &SourceId::new(student))
        .await
        .expect("student");
    assert_eq!(s.student_number, sis_id);
    let home = store
        .find_guardian_by_source(&d, &SourceId::new(&cases.phone_type_contacts["Home"]))
        .await
        .expect("home contact");
    assert!(
        !home.home_phone.is_empty() && home.mobile_phone.is_empty(),
        "Home goes to the phone field, never the SMS field: {home:?}"
    );
}

async fn a_clever_district_tests_ok_and_spot_syncs(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let report = client
        .test_connection(pb::TestConnectionRequest {
            district_id: DISTRICT.into(),
        })
        .await
        .expect("test")
        .into_inner();
    assert!(report.ok, "{report:#?}");
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let student = &cases.two_students[0];
    sim.edit(|x| {
        if let Some(u) = x.users.iter_mut().find(|u| &u.id == student) {
            u.name.last = Some("Renamed".into());
        }
    });
    let s = store
        .find_student_by_source(&district_id(), &SourceId::new(student))
        .await
        .expect("student");
    let out = client
        .spot_sync(pb::SpotSyncRequest {
            district_id: DISTRICT.into(),
            user: Some(pb::spot_sync_request::User::StudentId(s.id.to_string())),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("spot sync")
        .into_inner();
    assert!(
        out.changes.iter().any(|c| c
            .fields
            .iter()
            .any(|f| f.field == "legal_last_name" && f.new_value.as_deref() == Some("Renamed"))),
        "{out:#?}"
    );
}

/// A run to its end; one a threshold paused (a filter change removes many links at once)
/// is approved, as the district would after reviewing it.
async fn run_approving(client: &mut crate::harness::Client) {
    let run = run_to_end(client, DISTRICT, false).await;
    if run.state == pb::RunState::Paused as i32 {
        client
            .approve_sync_run(pb::ApproveSyncRunRequest {
                district_id: DISTRICT.into(),
                run_id: run.run_id.clone(),
                ..Default::default()
            })
            .await
            .expect("approve");
        ok(&crate::harness::follow_run(client, DISTRICT, &run.run_id).await);
    } else {
        ok(&run);
    }
}

/// The linked guardians of a student, by their Clever ids.
async fn linked(store: &Store, student: &str) -> BTreeSet<String> {
    let d = district_id();
    let s = store
        .find_student_by_source(&d, &SourceId::new(student))
        .await
        .expect("student");
    let mut out = BTreeSet::new();
    for l in store.list_student_links(&d, s.id).await.expect("links") {
        let g = store
            .get_guardian(&d, l.guardian_id)
            .await
            .expect("guardian");
        if let Some(source) = g.source_id {
            out.insert(source.as_str().to_owned());
        }
    }
    out
}

async fn clever_contact_types_and_relationships_filter_links(backend: Backend) {
    let (sim, server, mut client, store) = setup(backend).await;
    let cases = sim.district(|x| x.cases.clone());
    let run = run_to_end(&mut client, DISTRICT, false).await;
    ok(&run);
    // The unknown relationship is synced as other, with a warning naming it, readable
    // as CSV.
    assert!(
        run.warnings
            .iter()
            .any(|w| w.contains("Probation Officer") && w.contains("kept as other")),
        "{run:#?}"
    );
    let out = std::process::Command::new(crate::harness::BIN)
        .args([
            "sync",
            "warnings",
            "--district",
            DISTRICT,
            &run.run_id,
            "--csv",
        ])
        .args(["--server", &server.url()])
        .output()
        .expect("run the cli");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("run_id,n,warning"), "{text}");
    assert!(
        lines
            .any(|l| l.starts_with(&format!("{},", run.run_id)) && l.contains("Probation Officer")),
        "{text}"
    );
    assert!(linked(&store, &cases.unknown_relationship_student)
        .await
        .contains(&cases.unknown_relationship_contact));

    // Parent of the first student, Other/Emergency of the second.
    let (first, second) = (&cases.two_students[0], &cases.two_students[1]);
    let contact = &cases.two_students_contact;
    assert!(linked(&store, first).await.contains(contact));
    assert!(linked(&store, second).await.contains(contact));

    // Only Parent/Guardian contacts sync now: the Emergency link goes, the other stays.
    set(
        &mut client,
        pb::DistrictSettings {
            contact_types: Some(pb::TypeSelection {
                all: false,
                values: vec!["Parent/Guardian".into()],
            }),
            ..Default::default()
        },
        &["settings.contact_types"],
    )
    .await;
    run_approving(&mut client).await;
    assert!(linked(&store, first).await.contains(contact));
    assert!(
        !linked(&store, second).await.contains(contact),
        "an Emergency contact is not synced any more"
    );

    // Only Grandparents among relationships: the Parent link goes too.
    set(
        &mut client,
        pb::DistrictSettings {
            contact_types: Some(pb::TypeSelection {
                all: true,
                values: vec![],
            }),
            contact_relationships: Some(pb::TypeSelection {
                all: false,
                values: vec!["Grandparent".into()],
            }),
            ..Default::default()
        },
        &["settings.contact_types", "settings.contact_relationships"],
    )
    .await;
    run_approving(&mut client).await;
    assert!(!linked(&store, first).await.contains(contact));
    let grandparent = &cases.relationship_contacts["Grandparent"];
    let kept = store
        .find_guardian_by_source(&district_id(), &SourceId::new(grandparent))
        .await
        .expect("the grandparent's account");
    assert!(!kept.archived, "the grandparent stays linked and active");
}

async fn a_contact_recreated_under_a_new_id_is_rekeyed(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let d = district_id();
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let old = cases.no_sis_id_contact.clone();
    let before = store
        .find_guardian_by_source(&d, &SourceId::new(&old))
        .await
        .expect("the contact's account");
    let guardians = store.count_guardians(&d, false).await.expect("count");
    let archived = store.count_guardians(&d, true).await.expect("count");

    // Clever re-creates a contact without sis_id under a new id when it changes.
    let new = sim.recreate_contact(&old);
    assert_ne!(new, old);
    let run = run_to_end(&mut client, DISTRICT, false).await;
    ok(&run);
    let after = store
        .find_guardian_by_source(&d, &SourceId::new(&new))
        .await
        .expect("the account under its new id");
    assert_eq!(after.id, before.id, "the same account, re-keyed");
    assert!(!after.archived);
    assert_eq!(
        store.count_guardians(&d, false).await.expect("count"),
        guardians
    );
    assert_eq!(
        store.count_guardians(&d, true).await.expect("count"),
        archived,
        "nothing archived"
    );
    assert!(
        run.warnings
            .iter()
            .any(|w| w.contains("re-keyed") && w.contains(&old) && w.contains(&new)),
        "{run:#?}"
    );
    // Support reads the re-key in the run's plan: the account's source id, old → new.
    let changes = client
        .list_run_changes(pb::ListRunChangesRequest {
            district_id: DISTRICT.into(),
            run_id: run.run_id.clone(),
            entity: pb::Entity::Guardian as i32,
            operation: 0,
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("changes")
        .into_inner();
    assert!(
        changes
            .changes
            .iter()
            .any(|c| c.fields.iter().any(|f| f.field == "source_id"
                && f.old_value.as_deref() == Some(old.as_str())
                && f.new_value.as_deref() == Some(new.as_str()))),
        "{changes:#?}"
    );
    // Its links stayed.
    let students = sim.district(|x| {
        x.user(&new)
            .and_then(|u| u.roles.contact.clone())
            .map(|c| {
                c.student_relationships
                    .iter()
                    .map(|r| r.student.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    for student in &students {
        assert!(linked(&store, student).await.contains(&new), "{student}");
    }
}

async fn classroom(client: &mut crate::harness::Client, source: &str) -> pb::Classroom {
    client
        .get_classroom(pb::GetClassroomRequest {
            district_id: DISTRICT.into(),
            classroom: Some(pb::get_classroom_request::Classroom::SourceId(
                source.into(),
            )),
        })
        .await
        .expect("classroom")
        .into_inner()
}

async fn clever_staff_get_the_districts_permissions_and_classrooms_follow_the_setting(
    backend: Backend,
) {
    let (sim, _server, mut client, _store) = setup(backend).await;
    set(
        &mut client,
        pb::DistrictSettings {
            staff_permissions: Some(pb::StaffPermissions {
                values: vec![
                    pb::StaffPermission::FamilyAccess as i32,
                    pb::StaffPermission::UsersManager as i32,
                ],
            }),
            unarchive_classrooms: Some(false),
            ..Default::default()
        },
        &[
            "settings.staff_permissions",
            "settings.unarchive_classrooms",
        ],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let teacher = client
        .get_staff(pb::GetStaffRequest {
            district_id: DISTRICT.into(),
            staff: Some(pb::get_staff_request::Staff::SourceId(
                cases.teacher_and_staff.clone(),
            )),
        })
        .await
        .expect("staff")
        .into_inner();
    assert_eq!(teacher.permissions, ["users_manager", "family_access"]);

    // A section the district stops sharing is archived; when it comes back it stays
    // archived unless the district unarchives classrooms that reappear.
    let section = cases.two_teacher_section.clone();
    let enrolled = classroom(&mut client, &section).await.enrollments.len();
    assert!(enrolled >= 2, "its teachers and students");
    sim.unshare(&section);
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(classroom(&mut client, &section).await.archived);
    sim.reshare(&section);
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(
        classroom(&mut client, &section).await.archived,
        "unarchive_classrooms is off"
    );
    set(
        &mut client,
        pb::DistrictSettings {
            unarchive_classrooms: Some(true),
            ..Default::default()
        },
        &["settings.unarchive_classrooms"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(!classroom(&mut client, &section).await.archived);
}

async fn a_429_storm_is_survived_within_clevers_budget(backend: Backend) {
    use sim::clever::{Fault, FaultKind, Match};
    let (sim, _server, mut client, store) = setup(backend).await;
    for path in ["/v3.0/schools", "/v3.0/users", "/v3.0/sections"] {
        sim.inject(
            Fault::new(
                Match::path(path),
                FaultKind::TooManyRequests {
                    retry_after_secs: 0,
                },
            )
            .times(3),
        );
    }
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert_eq!(sim.faults_fired(), 9, "the storm happened");
    assert!(
        store
            .count_students(&district_id(), false)
            .await
            .expect("count")
            > 0
    );
    let mut arrivals: Vec<std::time::Instant> = sim.requests().iter().map(|r| r.arrived).collect();
    arrivals.sort();
    let minute = std::time::Duration::from_secs(60);
    let busiest = (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|a| a.duration_since(arrivals[i]) < minute)
                .count()
        })
        .max()
        .unwrap_or_default();
    assert!(busiest <= 1200, "{busiest} requests in a minute");
}

async fn a_student_back_under_a_new_id_is_rekeyed(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let d = district_id();
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let old = cases.two_students[0].clone();
    let before = store
        .find_student_by_source(&d, &SourceId::new(&old))
        .await
        .expect("student");
    let links_before = linked(&store, &old).await;
    let active = store.count_students(&d, false).await.expect("count");

    // Its sis_id changes in the SIS: Clever lists it under a new id.
    let new = sim.change_sis_id(&old, "S-CHANGED-1");
    assert_ne!(new, old);
    let run = run_to_end(&mut client, DISTRICT, false).await;
    ok(&run);
    let after = store
        .find_student_by_source(&d, &SourceId::new(&new))
        .await
        .expect("the student under its new id");
    assert_eq!(after.id, before.id, "the same student, re-keyed");
    assert!(!after.archived);
    assert_eq!(
        store.count_students(&d, false).await.expect("count"),
        active,
        "nothing archived, nothing created"
    );
    assert_eq!(store.count_students(&d, true).await.expect("count"), 0);
    assert_eq!(linked(&store, &new).await, links_before, "its links stayed");
    assert!(
        run.warnings
            .iter()
            .any(|w| w.contains("re-keyed") && w.contains(&new)),
        "{run:#?}"
    );
}

async fn set(client: &mut crate::harness::Client, settings: pb::DistrictSettings, paths: &[&str]) {
    client
        .update_district(update_request(
            pb::District {
                district_id: DISTRICT.into(),
                settings: Some(settings),
                ..Default::default()
            },
            paths,
        ))
        .await
        .expect("settings");
}

async fn clever_guardians_and_archived_students_follow_the_settings(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let d = district_id();
    // Guardians come from elsewhere (guardians.csv): the sync makes none.
    set(
        &mut client,
        pb::DistrictSettings {
            manage_guardians: Some(false),
            archived_students: Some(pb::ArchivedStudents::Keep as i32),
            ..Default::default()
        },
        &["settings.manage_guardians", "settings.archived_students"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(store.count_students(&d, false).await.expect("count") > 0);
    assert_eq!(
        store.count_guardians(&d, false).await.expect("count"),
        0,
        "no guardian when the sync does not manage them"
    );

    // A student the district stops sharing is kept as it is…
    let cases = sim.district(|x| x.cases.clone());
    let leaving = cases.contactless_student.clone();
    sim.unshare(&leaving);
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let kept = store
        .find_student_by_source(&d, &SourceId::new(&leaving))
        .await
        .expect("student");
    assert!(!kept.archived, "archived_students = keep");

    // …or archived, as the district chooses; and guardians come once managed.
    set(
        &mut client,
        pb::DistrictSettings {
            manage_guardians: Some(true),
            archived_students: Some(pb::ArchivedStudents::Archive as i32),
            ..Default::default()
        },
        &["settings.manage_guardians", "settings.archived_students"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let gone = store
        .find_student_by_source(&d, &SourceId::new(&leaving))
        .await
        .expect("student");
    assert!(gone.archived, "archived_students = archive");
    assert!(store.count_guardians(&d, false).await.expect("count") > 0);
}
