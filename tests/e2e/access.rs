//! Callers: once a key exists every call needs one; a key reaches only its districts and
//! does only what its abilities say, in every RPC; an admin grants nothing it does not
//! hold; revoked keys are refused; and each run, approval, cancel, district change and
//! spot sync records the key that did it.

use std::process::Command;

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;
use tonic::Code;

use crate::harness::{
    create_sim_district, district, follow_run, powerschool_connector, update_request, Client,
    Server, BIN, TEST_SEALING_KEY,
};

store::on_both_backends!(
    every_call_needs_a_key_that_reaches_its_district_and_holds_its_ability,
    runs_district_changes_and_spot_syncs_record_who_did_them,
);

/// `rostersync keys create` on the server's store, as an operator on its host would;
/// the token it printed.
pub fn cli_key(server: &Server, name: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["keys", "create", "--name", name])
        .args(args)
        .arg("--database-url")
        .arg(server.database_url())
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .env("ROSTERSYNC_SEALING_KEY", TEST_SEALING_KEY)
        .output()
        .expect("run rostersync keys create");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "keys create failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert!(token.starts_with("rsk_"), "{stdout}");
    token
}

/// Every ability, on every district.
pub const ALL: &[&str] = &[
    "--ability",
    "admin",
    "--ability",
    "configure",
    "--ability",
    "run",
    "--ability",
    "spot_sync",
    "--ability",
    "read",
];

async fn key(root: &mut Client, name: &str, districts: &[&str], abilities: &[&str]) -> String {
    root.create_api_key(pb::CreateApiKeyRequest {
        name: name.into(),
        district_ids: districts.iter().map(|d| (*d).to_owned()).collect(),
        abilities: abilities.iter().map(|a| (*a).to_owned()).collect(),
    })
    .await
    .expect("create a key")
    .into_inner()
    .token
}

fn code<T: std::fmt::Debug>(answer: Result<tonic::Response<T>, tonic::Status>) -> Code {
    match answer {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// Each call names `d` and asks for `$call`; the answer's code is `$want`.
macro_rules! expect_code {
    ($want:expr, $($name:literal => $call:expr),+ $(,)?) => {
        $(
            let got = code($call.await);
            assert_eq!(got, $want, "{}: expected {:?}, got {got:?}", $name, $want);
        )+
    };
}

/// Every call that names a district, with `d` for it: what each ability guards.
async fn reads_of(c: &mut Client, d: &str, want: Code) {
    let run = "00000000-0000-4000-8000-000000000001".to_owned();
    let user = "00000000-0000-4000-8000-000000000002".to_owned();
    expect_code!(want,
        "GetDistrict" => c.get_district(pb::GetDistrictRequest { district_id: d.into() }),
        "ListSyncRuns" => c.list_sync_runs(pb::ListSyncRunsRequest { district_id: d.into(), ..Default::default() }),
        "GetSyncRun" => c.get_sync_run(pb::GetSyncRunRequest { district_id: d.into(), run_id: run.clone() }),
        "ListRunChanges" => c.list_run_changes(pb::ListRunChangesRequest { district_id: d.into(), run_id: run.clone(), ..Default::default() }),
        "WatchSyncRun" => c.watch_sync_run(pb::WatchSyncRunRequest { district_id: d.into(), run_id: run.clone() }),
        "ListChanges" => c.list_changes(pb::ListChangesRequest { district_id: d.into(), ..Default::default() }),
        "WatchChanges" => c.watch_changes(pb::WatchChangesRequest { district_id: d.into(), ..Default::default() }),
        "SearchRoster" => c.search_roster(pb::SearchRosterRequest { district_id: d.into(), query: "doe".into(), ..Default::default() }),
        "GetStudent" => c.get_student(pb::GetStudentRequest { district_id: d.into(), student: Some(pb::get_student_request::Student::StudentId(user.clone())) }),
        "GetGuardian" => c.get_guardian(pb::GetGuardianRequest { district_id: d.into(), guardian: Some(pb::get_guardian_request::Guardian::GuardianId(user.clone())) }),
        "ListStudentLinks" => c.list_student_links(pb::ListStudentLinksRequest { district_id: d.into(), student_id: user.clone(), ..Default::default() }),
        "GetStaff" => c.get_staff(pb::GetStaffRequest { district_id: d.into(), staff: Some(pb::get_staff_request::Staff::SourceId("1".into())) }),
        "GetClassroom" => c.get_classroom(pb::GetClassroomRequest { district_id: d.into(), classroom: Some(pb::get_classroom_request::Classroom::SourceId("1".into())) }),
        "ListStudentClassrooms" => c.list_student_classrooms(pb::ListStudentClassroomsRequest { district_id: d.into(), student: Some(pb::list_student_classrooms_request::Student::StudentId(user.clone())), ..Default::default() }),
        "GetSourceRecords" => c.get_source_records(pb::GetSourceRecordsRequest { district_id: d.into(), student: Some(pb::get_source_records_request::Student::SourceId("1".into())) }),
        "ListAuditEvents" => c.list_audit_events(pb::ListAuditEventsRequest { district_id: d.into(), ..Default::default() }),
    );
}

/// The calls that change something in `d`, each answering `want`.
async fn writes_of(c: &mut Client, d: &str, want: Code) {
    let run = "00000000-0000-4000-8000-000000000001".to_owned();
    let user = "00000000-0000-4000-8000-000000000002".to_owned();
    let import = tokio_stream::iter(vec![pb::ImportGuardiansRequest {
        district_id: d.into(),
        data: b"student_id,first_name,last_name,email,sms_phone,home_phone,relationship,contact_type\n".to_vec(),
        ..Default::default()
    }]);
    let renamed = pb::District {
        district_id: d.into(),
        name: "Renamed".into(),
        ..Default::default()
    };
    expect_code!(want,
        "StartSync" => c.start_sync(pb::StartSyncRequest { district_id: d.into(), dry_run: true, request_id: String::new() }),
        "ApproveSyncRun" => c.approve_sync_run(pb::ApproveSyncRunRequest { district_id: d.into(), run_id: run.clone(), ..Default::default() }),
        "CancelSyncRun" => c.cancel_sync_run(pb::CancelSyncRunRequest { district_id: d.into(), run_id: run.clone() }),
        "RevertSyncRun" => c.revert_sync_run(pb::RevertSyncRunRequest { district_id: d.into(), run_id: run.clone(), dry_run: true, force: false }),
        "ImportGuardians" => c.import_guardians(import),
        "SpotSync" => c.spot_sync(pb::SpotSyncRequest { district_id: d.into(), user: Some(pb::spot_sync_request::User::StudentId(user.clone())), dry_run: true, request_id: String::new() }),
        "UpdateDistrict" => c.update_district(update_request(renamed, &["name"])),
        "TestConnection" => c.test_connection(pb::TestConnectionRequest { district_id: d.into() }),
        "DeleteDistrict" => c.delete_district(pb::DeleteDistrictRequest { district_id: d.into(), ..Default::default() }),
        "CreateDistrict" => c.create_district(crate::harness::create_request(district(
            d,
            "Another",
            powerschool_connector("https://x.powerschool.example", "id", "secret", &[]),
            None,
            "America/Edmonton",
        ))),
    );
}

async fn every_call_needs_a_key_that_reaches_its_district_and_holds_its_ability(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 30,
        schools: 2,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let mut server = Server::start(backend).await;
    // A store without keys serves the loopback anonymously.
    let mut anonymous = server.client().await;
    create_sim_district(&mut anonymous, "alpha", &sim, &[]).await;
    create_sim_district(&mut anonymous, "beta", &sim, &[]).await;

    let root_token = cli_key(&server, "root", ALL);
    let mut root = server.client_with(Some(&root_token)).await;

    // Without a key, with a key nobody issued, with another scheme: UNAUTHENTICATED.
    let none = anonymous
        .list_districts(pb::ListDistrictsRequest::default())
        .await
        .expect_err("a key is needed now");
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    assert!(none.message().contains("requires an API key"), "{none:?}");
    let forged = format!("{}x", &root_token[..root_token.len() - 1]);
    for bad in [
        forged.as_str(),
        "rsk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage",
    ] {
        let answer = server
            .client_with(Some(bad))
            .await
            .get_district(pb::GetDistrictRequest {
                district_id: "alpha".into(),
            })
            .await
            .expect_err("an unknown key");
        assert_eq!(answer.code(), Code::Unauthenticated, "{bad}: {answer:?}");
    }
    let basic = crate::harness::grpcurl(
        &["-H", "authorization: Basic cm9vdDpyb290"],
        &server.addr,
        &["rostersync.v1.SyncService/ListDistricts"],
    );
    assert!(
        crate::harness::stderr(&basic).contains("Unauthenticated"),
        "{}",
        crate::harness::stderr(&basic)
    );
    // Health and reflection stay open.
    let health = crate::harness::grpcurl(&[], &server.addr, &["grpc.health.v1.Health/Check"]);
    assert!(
        health.status.success(),
        "{}",
        crate::harness::stderr(&health)
    );
    let list = crate::harness::grpcurl(&[], &server.addr, &["list"]);
    assert!(crate::harness::stdout(&list).contains("rostersync.v1.SyncService"));

    let reader_token = key(&mut root, "alpha-reader", &["alpha"], &["read"]).await;
    let operator_token = key(
        &mut root,
        "alpha-operator",
        &["alpha"],
        &["read", "run", "spot_sync"],
    )
    .await;
    let admin_token = key(&mut root, "alpha-admin", &["alpha"], &["admin", "read"]).await;
    let mut reader = server.client_with(Some(&reader_token)).await;
    let mut operator = server.client_with(Some(&operator_token)).await;
    let mut admin = server.client_with(Some(&admin_token)).await;

    // District beta is beyond the alpha keys in every call; alpha is readable but not
    // writable by the reader.
    reads_of(&mut reader, "beta", Code::PermissionDenied).await;
    writes_of(&mut reader, "beta", Code::PermissionDenied).await;
    writes_of(&mut reader, "alpha", Code::PermissionDenied).await;
    let runs = reader
        .list_sync_runs(pb::ListSyncRunsRequest {
            district_id: "alpha".into(),
            ..Default::default()
        })
        .await
        .expect("the reader lists alpha's runs");
    assert!(runs.into_inner().runs.is_empty());
    let listed = reader
        .list_districts(pb::ListDistrictsRequest::default())
        .await
        .expect("list")
        .into_inner();
    let ids: Vec<_> = listed
        .districts
        .iter()
        .map(|d| d.district_id.as_str())
        .collect();
    assert_eq!(ids, ["alpha"], "a key lists only what it reaches");
    let everything = root
        .list_districts(pb::ListDistrictsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(everything.districts.len(), 2);
    // The operator runs alpha but cannot configure it, nor touch beta.
    let denied = operator
        .update_district(update_request(
            pb::District {
                district_id: "alpha".into(),
                name: "Renamed".into(),
                ..Default::default()
            },
            &["name"],
        ))
        .await
        .expect_err("no configure");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("configure"), "{denied:?}");
    writes_of(&mut operator, "beta", Code::PermissionDenied).await;
    // Keys are the admin's; not the reader's nor the operator's.
    for c in [&mut reader, &mut operator] {
        assert_eq!(
            code(c.list_api_keys(pb::ListApiKeysRequest::default()).await),
            Code::PermissionDenied
        );
    }

    // An admin of alpha grants nothing it does not hold.
    let wider = admin
        .create_api_key(pb::CreateApiKeyRequest {
            name: "sneaky".into(),
            district_ids: vec!["beta".into()],
            abilities: vec!["read".into()],
        })
        .await
        .expect_err("beta is not alpha-admin's");
    assert_eq!(wider.code(), Code::PermissionDenied, "{wider:?}");
    let stronger = admin
        .create_api_key(pb::CreateApiKeyRequest {
            name: "sneaky".into(),
            district_ids: vec!["alpha".into()],
            abilities: vec!["read".into(), "run".into()],
        })
        .await
        .expect_err("run is not alpha-admin's");
    assert_eq!(stronger.code(), Code::PermissionDenied, "{stronger:?}");
    let everywhere = admin
        .create_api_key(pb::CreateApiKeyRequest {
            name: "sneaky".into(),
            district_ids: vec![],
            abilities: vec!["read".into()],
        })
        .await
        .expect_err("every district is not alpha-admin's");
    assert_eq!(everywhere.code(), Code::PermissionDenied);
    let bad = admin
        .create_api_key(pb::CreateApiKeyRequest {
            name: "two words".into(),
            district_ids: vec!["alpha".into()],
            abilities: vec!["write".into()],
        })
        .await
        .expect_err("a bad name and ability");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("name") && bad.message().contains("abilities[0]"),
        "{bad:?}"
    );
    let help_desk = key(&mut admin, "alpha-help-desk", &["alpha"], &["read"]).await;
    let seen: Vec<String> = admin
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .expect("list keys")
        .into_inner()
        .keys
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(
        seen,
        [
            "alpha-admin",
            "alpha-help-desk",
            "alpha-operator",
            "alpha-reader"
        ],
        "an admin of alpha sees the keys of alpha, not root"
    );
    let hidden = admin
        .revoke_api_key(pb::RevokeApiKeyRequest {
            name: "root".into(),
        })
        .await
        .expect_err("root is beyond alpha-admin");
    assert_eq!(hidden.code(), Code::NotFound);
    let wider = admin
        .revoke_api_key(pb::RevokeApiKeyRequest {
            name: "alpha-operator".into(),
        })
        .await
        .expect_err("alpha-operator holds run and spot_sync, which alpha-admin does not");
    assert_eq!(wider.code(), Code::PermissionDenied, "{wider:?}");
    assert!(
        wider.message().contains("spot_sync") && wider.message().contains(" run,"),
        "{wider:?}"
    );

    // Revoked: refused at its next call, by name.
    let revoked = admin
        .revoke_api_key(pb::RevokeApiKeyRequest {
            name: "alpha-reader".into(),
        })
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.revoke_time.is_some());
    let refused = reader
        .get_district(pb::GetDistrictRequest {
            district_id: "alpha".into(),
        })
        .await
        .expect_err("revoked");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(refused.message().contains("revoked"), "{refused:?}");
    // Reissued on the host: a new token, the same scope; the old one stays refused.
    let out = Command::new(BIN)
        .args(["keys", "reissue", "alpha-reader", "--database-url"])
        .arg(server.database_url())
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .env("ROSTERSYNC_SEALING_KEY", TEST_SEALING_KEY)
        .output()
        .expect("reissue");
    assert!(out.status.success());
    let renewed = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut reader_again = server.client_with(Some(&renewed)).await;
    reads_of(&mut reader_again, "beta", Code::PermissionDenied).await;
    assert_eq!(
        code(
            reader
                .get_district(pb::GetDistrictRequest {
                    district_id: "alpha".into()
                })
                .await
        ),
        Code::Unauthenticated
    );

    // A key stays working across a restart, and no token is in the log or the database.
    server.stop();
    server.restart();
    let mut help = server.client_with(Some(&help_desk)).await;
    help.get_district(pb::GetDistrictRequest {
        district_id: "alpha".into(),
    })
    .await
    .expect("the help desk key after a restart");
    let log = server.log();
    for token in [
        &root_token,
        &reader_token,
        &operator_token,
        &admin_token,
        &help_desk,
        &renewed,
    ] {
        // `rsk_<id>_<secret>`: the secret is base64url and may itself hold `_`.
        let secret = token.splitn(3, '_').nth(2).expect("a secret part");
        assert_eq!(secret.len(), 43, "{token}");
        assert!(!log.contains(secret), "a token is in the log");
        if let Some(file) = server.database_file() {
            let bytes = std::fs::read(&file).expect("database file");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token is in the database file"
            );
        }
    }
}

async fn runs_district_changes_and_spot_syncs_record_who_did_them(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 30,
        schools: 2,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let server = Server::start(backend).await;
    let root_token = cli_key(&server, "root", ALL);
    let mut root = server.client_with(Some(&root_token)).await;
    create_sim_district(&mut root, "alpha", &sim, &[]).await;
    let runner = key(&mut root, "night-ops", &["alpha"], &["read", "run"]).await;
    let support = key(
        &mut root,
        "support-desk",
        &["alpha"],
        &["read", "spot_sync"],
    )
    .await;
    let mut runner = server.client_with(Some(&runner)).await;
    let mut support = server.client_with(Some(&support)).await;

    let created = root
        .get_district(pb::GetDistrictRequest {
            district_id: "alpha".into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        (created.created_by.as_str(), created.updated_by.as_str()),
        ("root", "root")
    );

    // A first run by night-ops.
    let started = runner
        .start_sync(pb::StartSyncRequest {
            district_id: "alpha".into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    assert_eq!(started.started_by, "night-ops");
    let first = follow_run(&mut runner, "alpha", &started.run_id).await;
    assert_eq!(first.state, pb::RunState::Succeeded as i32, "{first:#?}");
    assert_eq!(first.started_by, "night-ops", "kept to the end");

    // Half the students leave: the run pauses; root approves it.
    let leaving = crate::harness::half_the_students_leave(&sim);
    let paused = crate::harness::run_to_end(&mut runner, "alpha", false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");
    let cancelled = runner
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: "alpha".into(),
            run_id: paused.run_id.clone(),
        })
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(cancelled.cancelled_by, "night-ops");
    let paused = crate::harness::run_to_end(&mut runner, "alpha", false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32);
    root.approve_sync_run(pb::ApproveSyncRunRequest {
        district_id: "alpha".into(),
        run_id: paused.run_id.clone(),
        ..Default::default()
    })
    .await
    .expect("approve");
    let applied = follow_run(&mut root, "alpha", &paused.run_id).await;
    assert_eq!(
        applied.state,
        pb::RunState::Succeeded as i32,
        "{applied:#?}"
    );
    assert_eq!(
        (applied.started_by.as_str(), applied.approved_by.as_str()),
        ("night-ops", "root")
    );

    // The support desk spot-syncs a student; root changes the district's secret.
    let d: DistrictId = "alpha".parse().expect("id");
    let store = server.store().await;
    let kept = sim.district(|x| {
        x.expected_students()
            .iter()
            .find(|s| !leaving.contains(&s.source_id.as_str().parse::<u64>().unwrap_or(0)))
            .map(|s| s.source_id.clone())
            .expect("a student who stayed")
    });
    let student = store
        .find_student_by_source(&d, &SourceId::new(kept.as_str()))
        .await
        .expect("student");
    support
        .spot_sync(pb::SpotSyncRequest {
            district_id: "alpha".into(),
            user: Some(pb::spot_sync_request::User::StudentId(
                student.id.to_string(),
            )),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("spot sync");
    let updated = root
        .update_district(update_request(
            pb::District {
                district_id: "alpha".into(),
                name: "Alpha Schools".into(),
                connector: Some(pb::ConnectorConfig {
                    secrets: [("client_secret".to_owned(), "rotated-secret".to_owned())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["name", "connector.secrets.client_secret"],
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(
        (updated.created_by.as_str(), updated.updated_by.as_str()),
        ("root", "root")
    );

    // Support reads who did what, in order.
    let events = support
        .list_audit_events(pb::ListAuditEventsRequest {
            district_id: "alpha".into(),
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_inner()
        .events;
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.action.clone(), e.actor.clone()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("district.create", "root"),
        ("run.start", "night-ops"),
        ("run.start", "night-ops"),
        ("run.cancel", "night-ops"),
        ("run.start", "night-ops"),
        ("run.approve", "root"),
        ("spot_sync", "support-desk"),
        ("district.update", "root"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(seen, expected, "{events:#?}");
    let update = events.last().expect("the update");
    assert_eq!(update.detail, "name, connector.secrets.client_secret");
    assert!(!format!("{events:?}").contains(sim.client_secret()));
    let spot = &events[6];
    assert_eq!(spot.target, format!("student:{}", student.id));
    // Pages of the trail continue where they stopped.
    let first_page = support
        .list_audit_events(pb::ListAuditEventsRequest {
            district_id: "alpha".into(),
            page_size: 5,
            page_token: String::new(),
        })
        .await
        .expect("page 1")
        .into_inner();
    let second_page = support
        .list_audit_events(pb::ListAuditEventsRequest {
            district_id: "alpha".into(),
            page_size: 5,
            page_token: first_page.next_page_token.clone(),
        })
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(first_page.events.len() + second_page.events.len(), 8);
    assert!(second_page.next_page_token.is_empty());
}
