//! What a caller sends is bounded (README "Limits"): every text has a limit, an error
//! quotes a caller's text cut, and a create and an update of a district, and a key made
//! over gRPC or by the CLI, are held to the same checks. The security review's findings
//! on inputs, each as a caller would meet it.

use proto::v1 as pb;
use store::Backend;
use tonic::{Code, Status};

use crate::harness::{create_request, powerschool_request, update_request, Client, Server};

store::on_both_backends!(
    a_callers_text_is_bounded_and_quoted_cut,
    create_and_update_refuse_the_same_loose_values,
    api_keys_name_districts_that_exist_and_each_ability_once,
);

/// The first characters of a message, for an assertion's report.
fn head(status: &Status) -> String {
    status.message().chars().take(300).collect()
}

/// INVALID_ARGUMENT whose message starts with `start` and stays short, details included.
fn refused_short<T: std::fmt::Debug>(what: &str, answer: Result<T, Status>, start: &str) {
    let status = answer.expect_err(what);
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{what}: {}",
        head(&status)
    );
    assert!(
        status.message().starts_with(start),
        "{what}: {:?} does not start with {start:?}",
        head(&status)
    );
    assert!(
        status.message().len() < 300 && status.details().len() < 1_000,
        "{what}: {} bytes of message, {} of details",
        status.message().len(),
        status.details().len()
    );
}

/// Every lookup by the source's id, of `id` in district `d`.
async fn source_lookups(c: &mut Client, d: &str, id: &str) -> Vec<(&'static str, Status)> {
    use pb::*;
    let (d, id) = (d.to_owned(), id.to_owned());
    let answers = [
        (
            "GetStudent",
            c.get_student(GetStudentRequest {
                district_id: d.clone(),
                student: Some(get_student_request::Student::SourceId(id.clone())),
            })
            .await
            .err(),
        ),
        (
            "GetGuardian",
            c.get_guardian(GetGuardianRequest {
                district_id: d.clone(),
                guardian: Some(get_guardian_request::Guardian::SourceId(id.clone())),
            })
            .await
            .err(),
        ),
        (
            "GetStaff",
            c.get_staff(GetStaffRequest {
                district_id: d.clone(),
                staff: Some(get_staff_request::Staff::SourceId(id.clone())),
            })
            .await
            .err(),
        ),
        (
            "GetClassroom",
            c.get_classroom(GetClassroomRequest {
                district_id: d.clone(),
                classroom: Some(get_classroom_request::Classroom::SourceId(id.clone())),
            })
            .await
            .err(),
        ),
        (
            "ListStudentClassrooms",
            c.list_student_classrooms(ListStudentClassroomsRequest {
                district_id: d.clone(),
                student: Some(list_student_classrooms_request::Student::SourceId(
                    id.clone(),
                )),
                ..Default::default()
            })
            .await
            .err(),
        ),
        (
            "GetSourceRecords",
            c.get_source_records(GetSourceRecordsRequest {
                district_id: d.clone(),
                student: Some(get_source_records_request::Student::SourceId(id.clone())),
            })
            .await
            .err(),
        ),
    ];
    answers
        .into_iter()
        .map(|(rpc, answer)| (rpc, answer.unwrap_or_else(|| panic!("{rpc} found {id:?}"))))
        .collect()
}

/// A 3 MB id is refused by every lookup in a few dozen bytes (it was echoed whole, an
/// error no client accepts); an unknown id within its limit is NOT_FOUND, quoted cut; and
/// every other text of a request has a limit of its own, named when passed.
async fn a_callers_text_is_bounded_and_quoted_cut(backend: Backend) {
    const D: &str = "bounded";
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(powerschool_request(D))
        .await
        .expect("create");
    let huge = "9".repeat(3 << 20);
    for (rpc, status) in source_lookups(&mut client, D, &huge).await {
        refused_short(
            rpc,
            Err::<(), _>(status),
            "source_id: is 3145728 characters long; at most 255 are accepted",
        );
    }
    for (rpc, status) in source_lookups(&mut client, D, &"7".repeat(255)).await {
        assert_eq!(status.code(), Code::NotFound, "{rpc}: {}", head(&status));
        assert!(status.message().len() < 200, "{rpc}: {}", head(&status));
        if rpc != "GetSourceRecords" {
            // (Which answers that the district has no pull yet.)
            assert!(
                status.message().contains("source id \"7777777777777777777777777777777777777777…\" (255 characters) not found"),
                "{rpc}: {}",
                head(&status)
            );
        }
    }
    let control = client
        .get_student(pb::GetStudentRequest {
            district_id: D.into(),
            student: Some(pb::get_student_request::Student::SourceId("41\n01".into())),
        })
        .await;
    refused_short(
        "a source id with a line break",
        control,
        "source_id: \"41\\n01\" holds the control character",
    );

    let mut district = powerschool_request(D).district.expect("district");
    refused_short(
        "GetDistrict",
        client
            .get_district(pb::GetDistrictRequest {
                district_id: huge.clone(),
            })
            .await,
        "district_id: \"9999",
    );
    refused_short(
        "GetStudent by our id",
        client
            .get_student(pb::GetStudentRequest {
                district_id: D.into(),
                student: Some(pb::get_student_request::Student::StudentId(huge.clone())),
            })
            .await,
        "student_id: \"9999",
    );
    refused_short(
        "ListSyncRuns",
        client
            .list_sync_runs(pb::ListSyncRunsRequest {
                district_id: D.into(),
                page_size: 0,
                page_token: huge.clone(),
            })
            .await,
        "page_token: is 3145728 characters long; at most 512 are accepted",
    );
    refused_short(
        "ListChanges",
        client
            .list_changes(pb::ListChangesRequest {
                district_id: D.into(),
                after: huge.clone(),
                page_size: 0,
            })
            .await,
        "after: is 3145728 characters long; at most 512 are accepted",
    );
    for (request_id, start) in [
        (
            huge.as_str(),
            "request_id: is 3145728 characters long; at most 128 are accepted",
        ),
        (
            "retry\r\n1",
            "request_id: \"retry\\r\\n1\" holds the control character",
        ),
    ] {
        refused_short(
            "StartSync",
            client
                .start_sync(pb::StartSyncRequest {
                    district_id: D.into(),
                    dry_run: true,
                    request_id: request_id.into(),
                })
                .await,
            start,
        );
    }
    refused_short(
        "RevokeApiKey",
        client
            .revoke_api_key(pb::RevokeApiKeyRequest { name: huge.clone() })
            .await,
        "name: \"9999",
    );
    district.time_zone = huge.clone();
    refused_short(
        "CreateDistrict's time zone",
        client
            .create_district(create_request(district.clone()))
            .await,
        "district.time_zone: is 3145728 characters long; at most 64 are accepted",
    );
    district.time_zone = "America/Edmonton".into();
    if let Some(c) = district.connector.as_mut() {
        c.kind = huge.clone();
    }
    refused_short(
        "CreateDistrict's connector kind",
        client
            .create_district(create_request(district.clone()))
            .await,
        "district.connector.kind: is 3145728 characters long; at most 64 are accepted",
    );
    if let Some(c) = district.connector.as_mut() {
        c.kind = "powerschool".into();
    }
    refused_short(
        "UpdateDistrict's mask",
        client
            .update_district(update_request(district.clone(), &[huge.as_str()]))
            .await,
        "update_mask.paths[0]: is 3145728 characters long; at most 128 are accepted",
    );
    let many: Vec<&str> = vec!["name"; 65];
    refused_short(
        "UpdateDistrict's mask",
        client
            .update_district(update_request(district, &many))
            .await,
        "update_mask.paths: holds 65 entries; at most 64 are accepted",
    );
}

/// A PowerSchool district `id` as the harness makes it, changed by `change`.
fn changed(id: &str, change: impl FnOnce(&mut pb::District)) -> pb::District {
    let mut d = powerschool_request(id).district.expect("district");
    change(&mut d);
    d
}

fn settings(change: impl FnOnce(&mut pb::DistrictSettings)) -> Option<pb::DistrictSettings> {
    let mut s = pb::DistrictSettings::default();
    change(&mut s);
    Some(s)
}

fn set(d: &mut pb::District, under: &str, name: &str, value: &str) {
    if let Some(c) = d.connector.as_mut() {
        let map = if under == "secrets" {
            &mut c.secrets
        } else {
            &mut c.settings
        };
        map.insert(name.into(), value.into());
    }
}

/// Names with NUL, an ANSI escape or CRLF, a base URL holding CRLF, a repeated access
/// cell, a repeated or runaway selection and an oversized secret are refused by
/// CreateDistrict and by UpdateDistrict alike, naming the same field; an update_mask
/// naming a setting no connector has is refused as CreateDistrict refuses it; a flood of
/// unknown settings is one short refusal. Nothing refused is stored.
async fn create_and_update_refuse_the_same_loose_values(backend: Backend) {
    const D: &str = "loose";
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(powerschool_request(D))
        .await
        .expect("create");
    let cell = |scope: pb::Scope| pb::AccessOverride {
        row: pb::AccessRow::ReadOnly as i32,
        capability: pb::Capability::ViewForms as i32,
        scope: scope as i32,
    };
    let types = |values: Vec<String>| pb::TypeSelection { all: false, values };
    let megabyte = "s".repeat(1 << 20);
    // What is wrong, the district with it, the mask of an update bringing it, the field.
    let cases: Vec<(&str, pb::District, &str, &str)> = vec![
        (
            "a NUL in the name",
            changed(D, |d| d.name = "Loose\0District".into()),
            "name",
            "name",
        ),
        (
            "an ANSI escape in the name",
            changed(D, |d| d.name = "\u{1b}[31mRed\u{1b}[0m".into()),
            "name",
            "name",
        ),
        (
            "CRLF in the name",
            changed(D, |d| d.name = "Loose\r\nX-Injected: 1".into()),
            "name",
            "name",
        ),
        (
            "CRLF in the base URL",
            changed(D, |d| {
                set(
                    d,
                    "settings",
                    "base_url",
                    "https://ps.example.org\r\nX-Evil: 1",
                )
            }),
            "connector.settings.base_url",
            "connector.settings.base_url",
        ),
        (
            "a repeated access cell",
            changed(D, |d| {
                d.settings = settings(|s| {
                    s.access_overrides = Some(pb::AccessOverrides {
                        values: vec![cell(pb::Scope::All), cell(pb::Scope::Nothing)],
                    })
                })
            }),
            "settings.access_overrides",
            "settings.access_overrides.values[1]",
        ),
        (
            "a repeated contact type",
            changed(D, |d| {
                d.settings = settings(|s| {
                    s.contact_types = Some(types(vec!["Parent".into(), " parent".into()]))
                })
            }),
            "settings.contact_types",
            "settings.contact_types.values[1]",
        ),
        (
            "100,000 contact types",
            changed(D, |d| {
                d.settings = settings(|s| {
                    s.contact_types = Some(types((0..100_000).map(|i| format!("t{i}")).collect()))
                })
            }),
            "settings.contact_types",
            "settings.contact_types.values: holds 100000 entries; at most 50",
        ),
        (
            "a repeated staff permission",
            changed(D, |d| {
                d.settings = settings(|s| {
                    s.staff_permissions = Some(pb::StaffPermissions { values: vec![5, 5] })
                })
            }),
            "settings.staff_permissions",
            "settings.staff_permissions.values[1]",
        ),
        (
            "a 1 MB secret",
            changed(D, |d| set(d, "secrets", "client_secret", &megabyte)),
            "connector.secrets.client_secret",
            "connector.secrets.client_secret: is 1048576 characters long; at most 4096",
        ),
    ];
    for (i, (what, district, mask, field)) in cases.into_iter().enumerate() {
        let mut new = district.clone();
        new.district_id = format!("{D}-{i}");
        let created = client.create_district(create_request(new)).await;
        refused_short(
            &format!("create with {what}"),
            created,
            &format!("district.{field}"),
        );
        let updated = client
            .update_district(update_request(district, &[mask]))
            .await;
        refused_short(
            &format!("update with {what}"),
            updated,
            &format!("district.{field}"),
        );
    }

    // A setting no connector has: refused by create and by update alike, by name.
    let nope = changed(D, |d| set(d, "settings", "nope", ""));
    let created = client
        .create_district(create_request(changed("loose-nope", |d| {
            set(d, "settings", "nope", "")
        })))
        .await;
    refused_short(
        "create with a setting named nope",
        created,
        "district.connector.settings.nope: is not a setting of this connector",
    );
    let updated = client
        .update_district(update_request(nope.clone(), &["connector.settings.nope"]))
        .await;
    refused_short(
        "an update of connector.settings.nope",
        updated,
        "district.connector.settings.nope: is not a setting of this connector",
    );
    let updated = client
        .update_district(update_request(nope, &["settings.nope"]))
        .await;
    refused_short(
        "an update of settings.nope",
        updated,
        "update_mask.paths[0]: \"settings.nope\" is not a field of District",
    );

    // Many unknown settings: the first 20 named, the rest counted; past 32, one line.
    let unknown = |n: usize| {
        changed("loose-many", |d| {
            for i in 0..n {
                set(d, "settings", &format!("stray{i:05}"), "x");
            }
        })
    };
    let status = client
        .create_district(create_request(unknown(30)))
        .await
        .expect_err("30 unknown settings");
    assert_eq!(status.code(), Code::InvalidArgument);
    // As many named as fit in the message, the rest of the 30 counted.
    let rest = status
        .message()
        .rsplit_once("; and ")
        .and_then(|(named, more)| {
            let more: usize = more.strip_suffix(" more")?.parse().ok()?;
            Some((named.matches("stray").count(), more))
        });
    assert!(
        matches!(rest, Some((named, more)) if named + more == 30 && named >= 3),
        "{}",
        head(&status)
    );
    assert!(status.message().len() <= 2_000);
    let details = tonic_types::StatusExt::get_error_details(&status);
    let violations = details
        .bad_request()
        .map_or(0, |b| b.field_violations.len());
    assert_eq!(violations, 20);
    refused_short(
        "10,000 unknown settings",
        client
            .create_district(create_request(unknown(10_000)))
            .await,
        "district.connector.settings: holds 10002 entries; at most 32 are accepted",
    );

    // Nothing refused was stored.
    let stored = client
        .get_district(pb::GetDistrictRequest {
            district_id: D.into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(stored.name, format!("District {D}"));
    assert_eq!(stored.etag, "1", "no update was stored");
    let listed = client
        .list_districts(pb::ListDistrictsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.districts.len(), 1, "no refused district was stored");
}

/// CreateApiKey names each ability and district once, at most 100 districts, and only
/// districts that exist (the first few missing are named); `rostersync keys create`
/// refuses the same, in the same words.
async fn api_keys_name_districts_that_exist_and_each_ability_once(backend: Backend) {
    const D: &str = "keyed";
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(powerschool_request(D))
        .await
        .expect("create");
    let ask = |name: &str, districts: Vec<String>, abilities: &[&str]| pb::CreateApiKeyRequest {
        name: name.into(),
        district_ids: districts,
        abilities: abilities.iter().map(|a| (*a).to_owned()).collect(),
    };
    refused_short(
        "a repeated ability",
        client
            .create_api_key(ask("twice", vec![D.into()], &["read", "run", "read"]))
            .await,
        "abilities[2]: \"read\" repeats abilities[0]",
    );
    refused_short(
        "a repeated district",
        client
            .create_api_key(ask("twice", vec![D.into(), D.into()], &["read"]))
            .await,
        "district_ids[1]: \"keyed\" repeats district_ids[0]",
    );
    let many: Vec<String> = (0..10_000).map(|i| format!("d{i}")).collect();
    refused_short(
        "10,000 districts",
        client.create_api_key(ask("many", many, &["read"])).await,
        "district_ids: holds 10000 entries; at most 100 are accepted",
    );
    let ghosts: Vec<String> = (0..50)
        .map(|i| format!("ghost-{i:02}"))
        .chain([D.into()])
        .collect();
    refused_short(
        "districts that do not exist",
        client
            .create_api_key(ask("ghostly", ghosts, &["read"]))
            .await,
        "district_ids: no district ghost-00, ghost-01, ghost-02, ghost-03, ghost-04 and 45 more",
    );
    client
        .create_api_key(ask("reader", vec![D.into()], &["read"]))
        .await
        .expect("a key of a district that exists");

    let out = std::process::Command::new(crate::harness::BIN)
        .args([
            "keys",
            "create",
            "--name",
            "cli-ghost",
            "--district",
            "ghost",
        ])
        .args(["--ability", "read", "--ability", "read"])
        .arg("--database-url")
        .arg(server.database_url())
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .env("ROSTERSYNC_SEALING_KEY", crate::harness::TEST_SEALING_KEY)
        .output()
        .expect("run rostersync keys create");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("abilities[1]: \"read\" repeats abilities[0]"),
        "{said}"
    );
    let out = std::process::Command::new(crate::harness::BIN)
        .args([
            "keys",
            "create",
            "--name",
            "cli-ghost",
            "--district",
            "ghost",
            "--ability",
            "read",
        ])
        .arg("--database-url")
        .arg(server.database_url())
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .env("ROSTERSYNC_SEALING_KEY", crate::harness::TEST_SEALING_KEY)
        .output()
        .expect("run rostersync keys create");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("district_ids: no district ghost: a key names districts that exist"),
        "{said}"
    );

    // Only the one good key was made (the server has keys now: the reader cannot list).
    let keys = server.store().await.list_api_keys().await.expect("keys");
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["reader"]);
}
