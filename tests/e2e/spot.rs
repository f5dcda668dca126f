//! SpotSync end to end against the simulator: seed 000's fields, the nightly policy for
//! links, refusals, no account ever created, consistency with a concurrent run, latency.

use std::time::{Duration, Instant};

use model::ids::{DistrictId, GuardianId, SourceId};
use model::roster::{AccountStatus, Address, Guardian};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::{Backend, Store, Synced};
use tonic::Code;

use crate::harness::{create_sim_district, follow_run, run_to_end, Server};

store::on_both_backends!(
    spot_sync_moves_exactly_seed_000s_fields_and_links,
    spot_sync_refuses_staff_unlinked_and_unknown_users,
    spot_sync_during_a_run_ends_consistent_and_answers_quickly,
    a_retried_spot_sync_gets_its_first_answer_and_writes_once,
    a_run_fifty_spot_syncs_and_a_connection_test_share_one_token,
);

const DISTRICT: &str = "sim";

fn district() -> DistrictId {
    DISTRICT.parse().expect("district")
}

async fn setup(backend: Backend) -> (Simulator, Server, crate::harness::Client, Store) {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    let run = sync(&mut client).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    let store = server.store().await;
    (sim, server, client, store)
}

async fn sync(client: &mut crate::harness::Client) -> pb::SyncRun {
    run_to_end(client, DISTRICT, false).await
}

async fn spot(
    client: &mut crate::harness::Client,
    user: User,
    dry_run: bool,
) -> Result<pb::SpotSyncResponse, tonic::Status> {
    client
        .spot_sync(pb::SpotSyncRequest {
            district_id: DISTRICT.into(),
            user: Some(user),
            dry_run,
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner())
}

use pb::spot_sync_request::User;

fn as_student(id: impl ToString) -> User {
    User::StudentId(id.to_string())
}

fn as_guardian(id: impl ToString) -> User {
    User::GuardianId(id.to_string())
}

fn fields(change: &pb::RunChange) -> Vec<(String, String, String)> {
    change
        .fields
        .iter()
        .map(|f| {
            (
                f.field.clone(),
                f.old_value.clone().unwrap_or_default(),
                f.new_value.clone().unwrap_or_default(),
            )
        })
        .collect()
}

async fn guardian_of(store: &Store, source: &str) -> Option<Guardian> {
    store
        .find_guardian_by_source(&district(), &SourceId::new(source))
        .await
        .ok()
}

async fn spot_sync_moves_exactly_seed_000s_fields_and_links(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let cases = sim.district(|d| d.cases().clone());
    let d = district();

    // A student whose grade, school and legal last name changed, and whose org e-mail
    // changed too (not a spot-sync field: it stays).
    let dcid: u64 = cases.shared_email_student.parse().expect("dcid");
    let student = store
        .find_student_by_source(&d, &SourceId::new(dcid.to_string()))
        .await
        .expect("student");
    let (school, number, grade) = sim.district(|dist| {
        let s = dist.student(dcid).expect("student");
        let other = dist
            .schools
            .iter()
            .find(|x| x.dcid != s.school_dcid)
            .expect("another school");
        (
            other.dcid,
            other.school_number,
            if s.grade_level >= 12 {
                11
            } else {
                s.grade_level + 1
            },
        )
    });
    sim.edit(|dist| {
        let s = dist.student_mut(dcid).expect("student");
        s.school_dcid = school;
        s.school_number = number;
        s.grade_level = grade;
        // The legal last name changes; the first name the student goes by changes too,
        // but the legal one stays (seed 000: names are the legal names).
        s.studentcorefields.pscore_legal_last_name = Some("Legal-Name".into());
        let legal_first = s.legal_first_name().to_owned();
        s.studentcorefields.pscore_legal_first_name = Some(legal_first);
        s.first_name = "Preferred".into();
        s.u_student.orgemail = Some("moved@district.example".into());
    });
    let dry = spot(&mut client, as_student(student.id), true)
        .await
        .expect("dry run");
    assert!(dry.dry_run);
    let out = spot(&mut client, as_student(student.id), false)
        .await
        .expect("spot sync");
    assert_eq!(out.user_kind, pb::Entity::Student as i32);
    assert_eq!(
        out.changes, dry.changes,
        "the dry run said what the sync then did"
    );
    let moved: Vec<_> = out
        .changes
        .iter()
        .filter(|c| c.entity == pb::Entity::Student as i32)
        .collect();
    assert_eq!(moved.len(), 1);
    let mut got: Vec<String> = fields(moved[0]).into_iter().map(|(f, _, _)| f).collect();
    got.sort();
    assert_eq!(
        got,
        ["grade", "legal_last_name", "school_source_id"],
        "{:#?}",
        moved[0]
    );
    let after = store.get_student(&d, student.id).await.expect("student");
    assert_eq!(
        (after.grade.clone(), after.school_source_id.clone()),
        (grade.to_string(), Some(SourceId::new(school.to_string())))
    );
    assert_eq!(after.legal_last_name, "Legal-Name");
    assert_eq!(after.org_email, student.org_email, "not a spot-sync field");
    let logged = store
        .list_changes(
            &d,
            model::change::ChangeSource::SpotSync(out.spot_sync_id.parse().expect("id")),
            None,
            100,
        )
        .await
        .expect("change log");
    assert_eq!(
        logged.len(),
        3,
        "three field changes, logged under the spot sync"
    );

    // A guardian whose mailing address disappeared falls back to the physical one.
    let gid: u64 = cases.mailing_address_guardian.parse().expect("id");
    let g = guardian_of(&store, &cases.mailing_address_guardian)
        .await
        .expect("guardian");
    assert!(g.address.street.starts_with("PO Box"), "{:?}", g.address);
    sim.edit(|dist| {
        let person = dist
            .guardian_person_assocs
            .iter()
            .find(|a| a.guardian_id == gid)
            .expect("person")
            .person_id;
        let mailing = dist.codeset_id("Address", "Mailing").expect("code");
        dist.person_address_assocs
            .retain(|a| !(a.person_id == person && a.address_type_codeset_id == mailing));
    });
    let out = spot(&mut client, as_guardian(g.id), false)
        .await
        .expect("spot sync");
    assert_eq!(out.user_kind, pb::Entity::Guardian as i32);
    let g2 = guardian_of(&store, &cases.mailing_address_guardian)
        .await
        .expect("guardian");
    assert!(
        !g2.address.street.starts_with("PO Box") && !g2.address.street.is_empty(),
        "{:?}",
        g2.address
    );
    assert_eq!(
        (g2.first_name.clone(), g2.email.clone()),
        (g.first_name.clone(), g.email.clone())
    );

    // The access account's e-mail moves away from the contact's: the guardian takes the
    // account's e-mail, and rule 3 drops the SIS links.
    let sibling: u64 = cases.sibling_guardian.parse().expect("id");
    let before = guardian_of(&store, &cases.sibling_guardian)
        .await
        .expect("guardian");
    sim.edit(|dist| {
        let token = dist
            .guardians
            .iter()
            .find(|x| x.id == sibling)
            .expect("guardian")
            .account_identifier
            .clone();
        let account = dist
            .pcas_accounts
            .iter()
            .find(|a| a.account_token == token)
            .expect("account")
            .id;
        for e in dist
            .pcas_email_contacts
            .iter_mut()
            .filter(|e| e.pcas_account_id == account)
        {
            e.email_address = "new.login@family.example".into();
        }
    });
    let out = spot(&mut client, as_guardian(before.id), false)
        .await
        .expect("spot sync");
    let after = guardian_of(&store, &cases.sibling_guardian)
        .await
        .expect("guardian");
    assert_eq!(after.email, "new.login@family.example");
    let dropped: Vec<_> = out
        .changes
        .iter()
        .filter(|c| {
            c.entity == pb::Entity::Link as i32 && c.operation == pb::Operation::Delete as i32
        })
        .collect();
    assert_eq!(
        dropped.len(),
        cases.sibling_students.len(),
        "{:#?}",
        out.changes
    );
    assert!(store
        .list_guardian_links(&d, before.id)
        .await
        .expect("links")
        .is_empty());

    // A parent without an active access account is not linked, and no account is made.
    let disabled = store
        .find_student_by_source(&d, &SourceId::new(cases.disabled_student.as_str()))
        .await
        .expect("student");
    spot(&mut client, as_student(disabled.id), false)
        .await
        .expect("spot sync");
    assert!(
        guardian_of(&store, &cases.disabled_guardian)
            .await
            .is_none(),
        "no account created"
    );
    // Nor for an account the rules ignore (a web access account).
    let web = store
        .find_student_by_source(&d, &SourceId::new(cases.web_access_student.as_str()))
        .await
        .expect("student");
    spot(&mut client, as_student(web.id), false)
        .await
        .expect("spot sync");
    assert!(guardian_of(&store, &cases.web_access_guardian)
        .await
        .is_none());
}

async fn spot_sync_refuses_staff_unlinked_and_unknown_users(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let d = district();
    // A teacher the nightly run brought in from PowerSchool.
    let teacher = sim.district(|d| d.expected_staff()[0].source_id.clone());
    let staff = store
        .staff_by_source(&d, std::slice::from_ref(&teacher))
        .await
        .expect("staff")
        .remove(&teacher)
        .expect("the run stored the teacher")
        .value;
    let refused = spot(&mut client, as_student(staff.id), false)
        .await
        .expect_err("staff refused");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .contains("does not support staff accounts"),
        "{}",
        refused.message()
    );

    let local = Guardian {
        id: GuardianId::new(),
        source_id: None,
        first_name: "Lee".into(),
        last_name: "Local".into(),
        email: "lee@family.example".into(),
        home_phone: String::new(),
        mobile_phone: String::new(),
        address: Address::default(),
        status: AccountStatus::Active,
        sis_connected: false,
        archived: false,
    };
    store
        .upsert_guardians(
            &d,
            &[Synced {
                value: local.clone(),
                source_hash: String::new(),
            }],
        )
        .await
        .expect("guardian");
    let refused = spot(&mut client, as_guardian(local.id), false)
        .await
        .expect_err("unlinked refused");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("not connected"),
        "{}",
        refused.message()
    );

    let unknown = spot(&mut client, as_guardian(GuardianId::new()), false)
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = spot(&mut client, as_student("not-an-id"), false)
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(malformed.message().contains("student_id"));
}

async fn spot_sync_during_a_run_ends_consistent_and_answers_quickly(backend: Backend) {
    let (sim, server, mut client, store) = setup(backend).await;
    let d = district();
    let cases = sim.district(|d| d.cases().clone());
    let dcid: u64 = cases.pre_registered_student.parse().expect("dcid");
    let student = store
        .find_student_by_source(&d, &SourceId::new(dcid.to_string()))
        .await
        .expect("student");
    sim.edit(|dist| {
        let s = dist.student_mut(dcid).expect("student");
        s.grade_level = if s.grade_level >= 12 {
            11
        } else {
            s.grade_level + 1
        };
    });
    let want = sim.district(|dist| dist.student(dcid).expect("student").grade_level.to_string());

    // A run and spot syncs of the same student at once.
    let run = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    for _ in 0..5 {
        spot(&mut client, as_student(student.id), false)
            .await
            .expect("spot sync during a run");
    }
    let last = follow_run(&mut client, DISTRICT, &run.run_id).await;
    assert_eq!(last.state, pb::RunState::Succeeded as i32);
    assert_eq!(
        store
            .get_student(&d, student.id)
            .await
            .expect("student")
            .grade,
        want
    );
    let again = sync(&mut client).await;
    assert_eq!(
        again.plan_items, 0,
        "the store equals the source: {again:#?}"
    );

    // 16 callers at once, 8 spot syncs each: p50 and p99.
    let ids: Vec<String> = sim.district(|dist| {
        dist.expected_students()
            .iter()
            .map(|s| s.source_id.to_string())
            .collect()
    });
    let mut ours = Vec::new();
    for s in ids.iter().take(16) {
        ours.push(
            store
                .find_student_by_source(&d, &SourceId::new(s.as_str()))
                .await
                .expect("student")
                .id
                .to_string(),
        );
    }
    let mut tasks = Vec::new();
    for user in ours {
        let mut c = server.client().await;
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            for _ in 0..8 {
                let t = Instant::now();
                spot(&mut c, as_student(&user), false)
                    .await
                    .expect("spot sync");
                took.push(t.elapsed());
            }
            took
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("caller"));
    }
    all.sort();
    let p = |q: f64| all[((all.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "spot sync latency, 16 concurrent callers, {} calls: p50 {:?}, p99 {:?}",
        all.len(),
        p(0.5),
        p(0.99)
    );
    assert!(p(0.99) < Duration::from_secs(5), "p99 {:?}", p(0.99));
}

async fn a_retried_spot_sync_gets_its_first_answer_and_writes_once(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let cases = sim.district(|d| d.cases().clone());
    let d = district();
    let dcid: u64 = cases.shared_email_student.parse().expect("dcid");
    let student = store
        .find_student_by_source(&d, &SourceId::new(dcid.to_string()))
        .await
        .expect("student");
    sim.edit(|dist| {
        dist.student_mut(dcid)
            .expect("student")
            .studentcorefields
            .pscore_legal_last_name = Some("First-Retry".into());
    });
    let request = |user: User| pb::SpotSyncRequest {
        district_id: DISTRICT.into(),
        user: Some(user),
        dry_run: false,
        request_id: "7d1c2a90-spot-once".into(),
    };
    let first = client
        .spot_sync(request(as_student(student.id)))
        .await
        .expect("spot sync")
        .into_inner();
    assert!(
        !first.changes.is_empty(),
        "the edit is a change: {first:#?}"
    );

    // The SIS moves on; a retry of the same request still gets the first answer and
    // writes nothing.
    sim.edit(|dist| {
        dist.student_mut(dcid)
            .expect("student")
            .studentcorefields
            .pscore_legal_last_name = Some("Second-Edit".into());
    });
    let changes_before = store.count_changes(&d).await.expect("count");
    let retry = client
        .spot_sync(request(as_student(student.id)))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retry, first);
    assert_eq!(
        store.count_changes(&d).await.expect("count"),
        changes_before
    );
    let now = store.get_student(&d, student.id).await.expect("student");
    assert_eq!(now.legal_last_name, "First-Retry");

    // The same request id for another user is refused, by name.
    let guardian = store
        .links_of_students(&d, &[student.id])
        .await
        .expect("links")
        .first()
        .map(|l| l.guardian_id);
    if let Some(guardian) = guardian {
        let err = client
            .spot_sync(request(as_guardian(guardian)))
            .await
            .expect_err("another user");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("request_id"), "{}", err.message());
    } else {
        panic!("the shared-email student has a guardian in the simulator");
    }
}

async fn a_run_fifty_spot_syncs_and_a_connection_test_share_one_token(backend: Backend) {
    let (sim, _server, mut client, store) = setup(backend).await;
    let tokens = |sim: &Simulator| {
        sim.requests()
            .iter()
            .filter(|r| r.path == "/oauth/access_token")
            .count()
    };
    assert_eq!(
        tokens(&sim),
        1,
        "the first run asked for the district's token"
    );
    let d = district();
    let students: Vec<_> = sim.district(|dist| {
        dist.expected_students()
            .into_iter()
            .map(|s| s.source_id)
            .collect()
    });
    let mut ids = Vec::new();
    for source in students.iter().take(50) {
        ids.push(
            store
                .find_student_by_source(&d, source)
                .await
                .expect("student")
                .id,
        );
    }
    let mut took = Vec::new();
    for id in ids.iter().cycle().take(50) {
        let started = std::time::Instant::now();
        spot(&mut client, as_student(id), false)
            .await
            .expect("spot sync");
        took.push(started.elapsed());
    }
    let report = client
        .test_connection(pb::TestConnectionRequest {
            district_id: DISTRICT.into(),
        })
        .await
        .expect("test")
        .into_inner();
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        tokens(&sim),
        1,
        "a run, 50 spot syncs and a connection test asked for one token"
    );
    took.sort();
    println!(
        "spot sync over gRPC, {} calls: p50 {:?}, p99 {:?}",
        took.len(),
        took[took.len() / 2],
        took[took.len() * 99 / 100]
    );
}
