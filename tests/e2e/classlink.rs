//! A ClassLink district end to end over gRPC against the OneRoster simulator, on both
//! databases and in OneRoster 1.1 (OAuth 1.0a, found through discovery by tenant and
//! application id) and 1.2 (OAuth 2, a direct server): the roster, guardians linked
//! through `agents` both ways with tiers and rule ids, sms/phone mapping, staff with the
//! district's permissions, classes archived on `tobedeleted` and unarchived per setting,
//! a retried request signed afresh, TestConnection naming an unknown tenant, SpotSync,
//! and seed 002's settings each changing the outcome.

use std::collections::BTreeSet;

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::oneroster::{Fault, FaultKind, Match, OneRosterSimConfig, Role, Simulator, User};
use store::{Backend, Store};

use crate::harness::{connector, create_request, district, run_to_end, update_request, Server};

store::on_both_backends!(
    a_oneroster_1_1_district_syncs_through_discovery,
    a_oneroster_1_2_district_syncs_with_oauth2,
    classlink_classes_staff_and_guardians_follow_the_settings,
    a_retried_request_is_signed_afresh_and_accepted,
    classlink_test_connection_names_what_is_wrong,
    a_classlink_district_spot_syncs,
    classlink_contact_details_of_active_users_follow_the_setting,
    classlink_daily_sync_runs_nightly_only_when_enabled,
);

const DISTRICT: &str = "classlink-sim";
const V1P1: &str = "/ims/oneroster/v1p1";

fn district_id() -> DistrictId {
    DISTRICT.parse().expect("id")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// 1.1, OAuth 1.0a, the server found through `/applications` discovery.
    V1_1,
    /// 1.2, OAuth 2 client credentials, the server given directly.
    V1_2,
}

fn settings_for(sim: &Simulator, version: Version, tenant: &str) -> Vec<(String, String)> {
    let c = sim.config();
    let mut s = vec![
        ("tenant_id".to_owned(), tenant.to_owned()),
        ("application_id".to_owned(), c.application_id.to_string()),
        ("page_size".to_owned(), "25".to_owned()),
    ];
    match version {
        Version::V1_1 => s.push(("discovery_url".into(), sim.discovery_url())),
        Version::V1_2 => s.extend([
            ("oneroster_version".to_owned(), "1.2".to_owned()),
            ("auth".to_owned(), "oauth2".to_owned()),
            ("token_url".to_owned(), sim.token_url()),
            ("base_url".to_owned(), sim.base_url()),
            ("client_id".to_owned(), c.client_id.clone()),
        ]),
    }
    s
}

async fn setup_with(
    backend: Backend,
    version: Version,
    tenant: Option<&str>,
) -> (Simulator, Server, crate::harness::Client, Store) {
    setup_full(backend, version, tenant, &[], "America/New_York").await
}

async fn setup_full(
    backend: Backend,
    version: Version,
    tenant: Option<&str>,
    env: &[(&str, &str)],
    time_zone: &str,
) -> (Simulator, Server, crate::harness::Client, Store) {
    let sim = Simulator::start(OneRosterSimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start_with(backend, env).await;
    let mut client = server.client().await;
    let tenant = tenant.map_or_else(|| sim.config().tenant_id.to_string(), str::to_owned);
    let settings = settings_for(&sim, version, &tenant);
    let pairs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let secrets: Vec<(&str, &str)> = match version {
        Version::V1_1 => vec![("partner_token", sim.config().partner_token.as_str())],
        Version::V1_2 => vec![("client_secret", sim.config().client_secret.as_str())],
    };
    client
        .create_district(create_request(district(
            DISTRICT,
            "ClassLink District",
            connector("classlink", &pairs, &secrets),
            None,
            time_zone,
        )))
        .await
        .expect("create the ClassLink district");
    let store = server.store().await;
    (sim, server, client, store)
}

async fn setup(
    backend: Backend,
    version: Version,
) -> (Simulator, Server, crate::harness::Client, Store) {
    setup_with(backend, version, None).await
}

/// Changes a user at the source.
fn edit_user(sim: &Simulator, id: &str, change: impl FnOnce(&mut User)) {
    sim.edit(|x| {
        let user = x
            .users
            .iter_mut()
            .find(|u| u.sourced_id == id)
            .unwrap_or_else(|| panic!("no user {id}"));
        change(user);
    });
}

fn ok(run: &pb::SyncRun) {
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
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

/// Every guardian–student link we hold, by source ids, with its tier and rule.
async fn all_links(store: &Store, students: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    let d = district_id();
    let mut out = BTreeSet::new();
    for student in students {
        let Ok(s) = store
            .find_student_by_source(&d, &SourceId::new(student))
            .await
        else {
            continue;
        };
        for l in store.list_student_links(&d, s.id).await.expect("links") {
            assert_eq!(l.tier.as_str(), "full", "{l:?}");
            assert_eq!(l.decision.rule.to_string(), "oneroster.link.full");
            let g = store
                .get_guardian(&d, l.guardian_id)
                .await
                .expect("guardian");
            out.insert((
                g.source_id.expect("a synced guardian").as_str().to_owned(),
                student.clone(),
            ));
        }
    }
    out
}

async fn roster_links_and_phones(backend: Backend, version: Version) {
    let (sim, _server, mut client, store) = setup(backend, version).await;
    let d = district_id();
    ok(&run_to_end(&mut client, DISTRICT, false).await);

    let (students, staff, classes, expected, all_students, cases) = sim.district(|x| {
        (
            x.active_students().len() as u64,
            x.active_staff().len() as u64,
            x.active_classes().len() as u64,
            x.expected_guardian_links()
                .into_iter()
                .map(|(g, s, _role)| (g, s))
                .collect::<BTreeSet<_>>(),
            x.users()
                .iter()
                .filter(|u| u.role == Role::Student)
                .map(|u| u.sourced_id.clone())
                .collect::<BTreeSet<_>>(),
            x.cases.clone(),
        )
    });
    assert_eq!(
        store.count_students(&d, false).await.expect("count"),
        students
    );
    assert_eq!(store.count_staff(&d, false).await.expect("count"), staff);
    assert_eq!(
        store.count_classrooms(&d, false).await.expect("count"),
        classes
    );

    // Every agents tie, in either direction, of live users: linked Full by OneRoster's rule.
    let links = all_links(&store, &all_students).await;
    assert_eq!(links, expected);
    for (g, s) in [
        (
            &cases.agent_student_side_guardian,
            &cases.agent_student_side_student,
        ),
        (
            &cases.agent_guardian_side_guardian,
            &cases.agent_guardian_side_student,
        ),
    ] {
        assert!(links.contains(&(g.clone(), s.clone())), "{g} ↔ {s}");
    }
    for role in ["guardian", "parent", "relative"] {
        let g = &cases.role_guardians[role];
        assert!(links.iter().any(|(x, _)| x == g), "the {role} is linked");
    }
    // Gone is gone: a `tobedeleted` student and guardian are not brought in.
    for gone in [&cases.tobedeleted_student, &cases.inactive_student] {
        assert!(store
            .find_student_by_source(&d, &SourceId::new(gone))
            .await
            .is_err());
    }
    assert!(store
        .find_guardian_by_source(&d, &SourceId::new(&cases.tobedeleted_guardian))
        .await
        .is_err());
    // enabledUser "false" removes nothing.
    assert!(links.iter().any(|(g, _)| g == &cases.disabled_guardian));

    // sms → the SMS (mobile) field, phone → the phone (home) field.
    let guardian = |id: String| {
        let store = store.clone();
        let d = d.clone();
        async move {
            store
                .find_guardian_by_source(&d, &SourceId::new(&id))
                .await
                .expect("guardian")
        }
    };
    let sms = guardian(cases.sms_only_guardian.clone()).await;
    assert!(
        !sms.mobile_phone.is_empty() && sms.home_phone.is_empty(),
        "{sms:?}"
    );
    let phone = guardian(cases.phone_only_guardian.clone()).await;
    assert!(
        phone.mobile_phone.is_empty() && !phone.home_phone.is_empty(),
        "{phone:?}"
    );
    let both = guardian(cases.sms_and_phone_guardian.clone()).await;
    let (want_sms, want_phone) = sim.district(|x| {
        let u = x.user(&cases.sms_and_phone_guardian).expect("user");
        (u.sms.clone(), u.phone.clone())
    });
    assert_eq!((both.mobile_phone, both.home_phone), (want_sms, want_phone));

    // A no-change resync writes nothing.
    let again = run_to_end(&mut client, DISTRICT, false).await;
    ok(&again);
    assert_eq!(
        again.plan_items, 0,
        "a resync with no change plans nothing: {:?}",
        again.planned
    );
}

async fn a_oneroster_1_1_district_syncs_through_discovery(backend: Backend) {
    roster_links_and_phones(backend, Version::V1_1).await;
}

async fn a_oneroster_1_2_district_syncs_with_oauth2(backend: Backend) {
    roster_links_and_phones(backend, Version::V1_2).await;
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

async fn classlink_classes_staff_and_guardians_follow_the_settings(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend, Version::V1_1).await;
    let d = district_id();
    // Guardians from guardians.csv: the sync makes none. Staff get two permissions.
    set(
        &mut client,
        pb::DistrictSettings {
            manage_guardians: Some(false),
            unarchive_classrooms: Some(false),
            staff_permissions: Some(pb::StaffPermissions {
                values: vec![
                    pb::StaffPermission::RosteringAdministrator as i32,
                    pb::StaffPermission::EngagementVisibility as i32,
                ],
            }),
            ..Default::default()
        },
        &[
            "settings.manage_guardians",
            "settings.unarchive_classrooms",
            "settings.staff_permissions",
        ],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(store.count_students(&d, false).await.expect("count") > 0);
    assert_eq!(
        store.count_guardians(&d, false).await.expect("count"),
        0,
        "no guardian when the sync does not manage them"
    );
    let cases = sim.district(|x| x.cases.clone());
    for who in [&cases.two_school_teacher, &cases.district_admin] {
        let staff = client
            .get_staff(pb::GetStaffRequest {
                district_id: DISTRICT.into(),
                staff: Some(pb::get_staff_request::Staff::SourceId(who.clone())),
            })
            .await
            .expect("staff")
            .into_inner();
        assert_eq!(
            staff.permissions,
            ["rostering_administrator", "engagement_visibility"],
            "{who}"
        );
    }

    // A class marked tobedeleted is archived; back active, it stays archived while the
    // district does not unarchive classrooms that reappear, and comes back when it does.
    let class = cases.second_teacher_class.clone();
    let enrolled = classroom(&mut client, &class).await.enrollments.len();
    assert!(enrolled >= 3, "two teachers and students: {enrolled}");
    sim.set_status(&class, "tobedeleted");
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(classroom(&mut client, &class).await.archived);
    sim.set_status(&class, "active");
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(
        classroom(&mut client, &class).await.archived,
        "unarchive_classrooms is off"
    );
    set(
        &mut client,
        pb::DistrictSettings {
            unarchive_classrooms: Some(true),
            manage_guardians: Some(true),
            ..Default::default()
        },
        &["settings.unarchive_classrooms", "settings.manage_guardians"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert!(!classroom(&mut client, &class).await.archived);
    assert!(
        store.count_guardians(&d, false).await.expect("count") > 0,
        "guardians come once the sync manages them"
    );
}

async fn a_retried_request_is_signed_afresh_and_accepted(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend, Version::V1_1).await;
    let students = format!("{V1P1}/students");
    sim.inject(Fault::new(Match::get(&students), FaultKind::Status500));
    sim.inject(
        Fault::new(
            Match::get(format!("{V1P1}/users")),
            FaultKind::TooManyRequests {
                retry_after_secs: 0,
            },
        )
        .times(2),
    );
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    assert_eq!(sim.faults_fired(), 3, "the faults happened");
    assert!(
        store
            .count_students(&district_id(), false)
            .await
            .expect("count")
            > 0
    );
    let first_page: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == students && r.query.contains("offset=0&"))
        .collect();
    assert_eq!(first_page.len(), 2, "{first_page:#?}");
    assert_eq!(first_page[0].status, 500);
    assert_eq!(
        first_page[1].status, 200,
        "{:?}",
        first_page[1].auth_refusal
    );
    let nonces: BTreeSet<_> = first_page.iter().map(|r| r.oauth_nonce.clone()).collect();
    assert_eq!(
        nonces.len(),
        2,
        "each attempt has its own nonce: {nonces:?}"
    );
    assert!(
        sim.requests().iter().all(|r| r.auth_refusal.is_none()),
        "no request was refused its signature"
    );
}

async fn test_connection(client: &mut crate::harness::Client) -> pb::TestConnectionResponse {
    client
        .test_connection(pb::TestConnectionRequest {
            district_id: DISTRICT.into(),
        })
        .await
        .expect("test")
        .into_inner()
}

fn problems(report: &pb::TestConnectionResponse) -> String {
    format!("{report:?}")
}

async fn classlink_test_connection_names_what_is_wrong(backend: Backend) {
    let (sim, _server, mut client, _store) = setup_with(backend, Version::V1_1, Some("999")).await;
    let report = test_connection(&mut client).await;
    assert!(!report.ok);
    let text = problems(&report);
    assert!(text.contains("no tenant 999"), "{text}");

    let tenant = sim.config().tenant_id.to_string();
    set_tenant(&mut client, &tenant, &sim.config().partner_token).await;
    let report = test_connection(&mut client).await;
    assert!(report.ok, "{report:#?}");

    sim.set_application_enabled(false);
    let report = test_connection(&mut client).await;
    assert!(!report.ok);
    assert!(problems(&report).contains("disabled"), "{report:#?}");
    sim.set_application_enabled(true);

    sim.share_nothing();
    let report = test_connection(&mut client).await;
    assert!(!report.ok);
    assert!(
        problems(&report).contains("shares no schools"),
        "{report:#?}"
    );
}

/// Points the district at another tenant: its partner key must come with the change (a
/// new target never inherits a stored secret).
async fn set_tenant(client: &mut crate::harness::Client, tenant: &str, partner_token: &str) {
    let change = |secret: bool| {
        let mut paths = vec!["connector.settings.tenant_id"];
        let mut connector = pb::ConnectorConfig {
            kind: "classlink".into(),
            settings: [("tenant_id".to_owned(), tenant.to_owned())].into(),
            ..Default::default()
        };
        if secret {
            connector
                .secrets
                .insert("partner_token".into(), partner_token.into());
            paths.push("connector.secrets.partner_token");
        }
        update_request(
            pb::District {
                district_id: DISTRICT.into(),
                connector: Some(connector),
                ..Default::default()
            },
            &paths,
        )
    };
    let refused = client
        .update_district(change(false))
        .await
        .expect_err("another tenant without the partner key");
    assert!(
        refused.message().contains("partner_token"),
        "{}",
        refused.message()
    );
    client.update_district(change(true)).await.expect("tenant");
}

async fn a_classlink_district_spot_syncs(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend, Version::V1_2).await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let student = cases.two_students[0].clone();
    edit_user(&sim, &student, |u| u.family_name = "Renamed".into());
    let s = store
        .find_student_by_source(&district_id(), &SourceId::new(&student))
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
    let after = store
        .find_student_by_source(&district_id(), &SourceId::new(&student))
        .await
        .expect("student");
    assert_eq!(after.legal_last_name, "Renamed");
}

async fn classlink_contact_details_of_active_users_follow_the_setting(backend: Backend) {
    use model::roster::AccountStatus;
    let (sim, _server, mut client, store) = setup(backend, Version::V1_1).await;
    let d = district_id();
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let cases = sim.district(|x| x.cases.clone());
    let id = cases.sms_and_phone_guardian.clone();
    // The guardian starts using the product.
    let mut g = store
        .find_guardian_by_source(&d, &SourceId::new(&id))
        .await
        .expect("guardian");
    g.status = AccountStatus::Active;
    store
        .upsert_guardians(
            &d,
            &[store::Synced {
                value: g.clone(),
                source_hash: String::new(),
            }],
        )
        .await
        .expect("active");
    edit_user(&sim, &id, |u| u.sms = "+15550009999".into());
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let kept = store
        .find_guardian_by_source(&d, &SourceId::new(&id))
        .await
        .expect("guardian");
    assert_eq!(
        kept.mobile_phone, g.mobile_phone,
        "an active user's contact details are theirs while the setting is off"
    );
    set(
        &mut client,
        pb::DistrictSettings {
            update_active_contact_details: Some(true),
            ..Default::default()
        },
        &["settings.update_active_contact_details"],
    )
    .await;
    ok(&run_to_end(&mut client, DISTRICT, false).await);
    let updated = store
        .find_guardian_by_source(&d, &SourceId::new(&id))
        .await
        .expect("guardian");
    assert_eq!(updated.mobile_phone, "+15550009999");
}

async fn scheduled_runs(client: &mut crate::harness::Client) -> Vec<pb::SyncRun> {
    client
        .list_sync_runs(pb::ListSyncRunsRequest {
            district_id: DISTRICT.into(),
            page_size: 50,
            page_token: String::new(),
        })
        .await
        .expect("runs")
        .into_inner()
        .runs
        .into_iter()
        .filter(|r| r.trigger == pb::RunTrigger::Schedule as i32)
        .collect()
}

async fn classlink_daily_sync_runs_nightly_only_when_enabled(backend: Backend) {
    let zone = crate::harness::zone_just_past_midnight();
    let (_sim, _server, mut client, store) = setup_full(
        backend,
        Version::V1_1,
        None,
        &[("ROSTERSYNC_RUN_LEASE_SECONDS", "5")],
        &zone,
    )
    .await;
    // Daily sync is off for a new district: its midnight passes with no run (the
    // background loop looks every 1.7 s here).
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(scheduled_runs(&mut client).await.is_empty(), "{zone}");
    assert_eq!(
        store
            .count_students(&district_id(), false)
            .await
            .expect("count"),
        0
    );

    set(
        &mut client,
        pb::DistrictSettings {
            daily_sync_enabled: Some(true),
            ..Default::default()
        },
        &["settings.daily_sync_enabled"],
    )
    .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let run = loop {
        if let Some(run) = scheduled_runs(&mut client).await.pop() {
            break run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no nightly run in {zone}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    ok(&crate::harness::follow_run(&mut client, DISTRICT, &run.run_id).await);
    assert!(
        store
            .count_students(&district_id(), false)
            .await
            .expect("count")
            > 0
    );
    assert_eq!(
        scheduled_runs(&mut client).await.len(),
        1,
        "one run a night"
    );
}
