//! District configuration over gRPC, on both databases.

use proto::v1 as pb;
use store::Backend;
use tonic::Code;

use crate::harness::{
    connector, create_request, district, powerschool_request as powerschool, update_request,
    Server, TEST_SECRET,
};

store::on_both_backends!(
    a_district_is_created_listed_and_updated_without_losing_its_secret,
    every_invalid_field_is_named_at_once,
    connectors_describe_their_settings,
    updates_name_their_fields_and_a_stale_etag_is_aborted,
    a_retried_create_gets_its_district_and_deletes_need_force,
);

async fn a_district_is_created_listed_and_updated_without_losing_its_secret(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    for id in ["cbe", "edmonton", "red-deer"] {
        let created = client
            .create_district(powerschool(id))
            .await
            .expect("create")
            .into_inner();
        assert!(!format!("{created:?}").contains(TEST_SECRET));
    }
    let duplicate = client
        .create_district(powerschool("cbe"))
        .await
        .expect_err("must be refused");
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    assert!(duplicate.message().contains("cbe"));

    let page = client
        .list_districts(pb::ListDistrictsRequest {
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .expect("list")
        .into_inner();
    let ids: Vec<&str> = page
        .districts
        .iter()
        .map(|d| d.district_id.as_str())
        .collect();
    assert_eq!(ids, ["cbe", "edmonton"]);
    let rest = client
        .list_districts(pb::ListDistrictsRequest {
            page_size: 2,
            page_token: page.next_page_token.clone(),
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(rest.districts.len(), 1);
    assert!(rest.next_page_token.is_empty());
    assert!(!format!("{page:?}{rest:?}").contains(TEST_SECRET));

    // Change one setting, the client id and the name; leave the secret out.
    let updated = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                name: "Calgary Board of Education".into(),
                connector: Some(connector(
                    "powerschool",
                    &[("client_id", "new-client")],
                    &[],
                )),
                settings: Some(pb::DistrictSettings {
                    daily_sync_enabled: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &[
                "name",
                "connector.settings.client_id",
                "settings.daily_sync_enabled",
            ],
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.name, "Calgary Board of Education");
    let connector = updated.connector.expect("connector");
    assert_eq!(connector.settings["client_id"], "new-client");
    assert_eq!(connector.settings["base_url"], "https://ps.example.org");
    assert_eq!(connector.secrets_set, ["client_secret"]);
    let settings = updated.settings.expect("settings");
    assert_eq!(settings.daily_sync_enabled, Some(true));
    assert_eq!(
        settings.manage_guardians,
        Some(true),
        "untouched settings keep their value"
    );

    let stored = server
        .store()
        .await
        .get_district(&"cbe".parse().expect("id"))
        .await
        .expect("stored");
    assert_eq!(
        stored.connector.secrets["client_secret"].expose(),
        TEST_SECRET,
        "an update without the secret keeps it"
    );

    let unknown = client
        .update_district(update_request(
            pb::District {
                district_id: "atlantis".into(),
                name: "x".into(),
                ..Default::default()
            },
            &["name"],
        ))
        .await
        .expect_err("must be refused");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("atlantis"));
}

async fn every_invalid_field_is_named_at_once(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;

    let mut request = powerschool("Not A Slug");
    let bad = request.district.as_mut().expect("district");
    bad.time_zone = "Mars/Olympus".into();
    bad.name = String::new();
    if let Some(c) = bad.connector.as_mut() {
        c.settings.remove("base_url");
        c.settings.insert("colour".into(), "blue".into());
    }
    bad.settings = Some(pb::DistrictSettings {
        thresholds: Some(pb::Thresholds {
            students_archived: Some(pb::Limit {
                max_percent: Some(250.0),
                max_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let err = client
        .create_district(request)
        .await
        .expect_err("must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields = [
        "district.district_id",
        "district.name",
        "district.time_zone",
        "district.connector.settings.base_url",
        "district.connector.settings.colour",
        "district.settings.thresholds.students_archived.max_percent",
    ];
    for field in fields {
        assert!(
            err.message().contains(field),
            "{field} missing from: {}",
            err.message()
        );
    }
    assert!(!err.message().contains(TEST_SECRET));
    // The same problems as google.rpc.BadRequest field violations, one per field.
    let details = tonic_types::StatusExt::get_error_details(&err);
    let violations: Vec<&str> = details
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    for field in fields {
        assert!(
            violations.iter().any(|v| v.starts_with(field)),
            "{field} missing from {violations:?}"
        );
    }
    assert!(violations.len() >= fields.len(), "{violations:?}");

    let mut sftp = powerschool("sftp");
    if let Some(c) = sftp.district.as_mut().and_then(|d| d.connector.as_mut()) {
        c.kind = "sftp".into();
    }
    let err = client
        .create_district(sftp)
        .await
        .expect_err("must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("connector.kind"),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("powerschool, clever, classlink"),
        "{}",
        err.message()
    );

    // Seed 004: Clever syncs exactly one phone type.
    let mut clever = district(
        "clever-district",
        "Clever District",
        connector(
            "clever",
            &[("district_id", "5f3c1e2d4b6a7c8d9e0f1a2b")],
            &[("district_token", TEST_SECRET)],
        ),
        None,
        "America/Chicago",
    );
    let err = client
        .create_district(create_request(clever.clone()))
        .await
        .expect_err("must be refused");
    assert!(
        err.message().contains("settings.phone_types"),
        "{}",
        err.message()
    );
    clever.settings = Some(pb::DistrictSettings {
        phone_types: Some(pb::TypeSelection {
            all: false,
            values: vec!["Cell".into()],
        }),
        ..Default::default()
    });
    let created = client
        .create_district(create_request(clever))
        .await
        .expect("one phone type is accepted")
        .into_inner();
    let phones = created
        .settings
        .and_then(|s| s.phone_types)
        .expect("phone types");
    assert_eq!(phones.values, ["cell"]);

    let nothing_stored = client
        .get_district(pb::GetDistrictRequest {
            district_id: "sftp".into(),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(
        nothing_stored.code(),
        Code::NotFound,
        "a refused district is not stored"
    );
}

async fn connectors_describe_their_settings(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let list = client
        .list_connectors(pb::ListConnectorsRequest {})
        .await
        .expect("list")
        .into_inner();
    let kinds: Vec<&str> = list.connectors.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["powerschool", "clever", "classlink"]);
    let secret_of = |kind: &str| -> Vec<String> {
        list.connectors
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| {
                c.settings
                    .iter()
                    .filter(|s| s.secret)
                    .map(|s| s.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(secret_of("powerschool"), ["client_secret"]);
    assert_eq!(secret_of("clever"), ["district_token"]);
    assert_eq!(secret_of("classlink"), ["partner_token", "client_secret"]);
    let classlink = list
        .connectors
        .iter()
        .find(|c| c.kind == "classlink")
        .expect("classlink");
    let version = classlink
        .settings
        .iter()
        .find(|s| s.name == "oneroster_version")
        .expect("version setting");
    assert_eq!(version.choices, ["1.1", "1.2"]);
    assert_eq!(version.default_value, "1.1");
}

fn error_reason(status: &tonic::Status) -> String {
    tonic_types::StatusExt::get_error_details(status)
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

async fn updates_name_their_fields_and_a_stale_etag_is_aborted(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let created = client
        .create_district(powerschool("cbe"))
        .await
        .expect("create")
        .into_inner();
    assert!(!created.etag.is_empty());

    // Two support people read the district; the first saves, the second is refused.
    let first = update_request(
        pb::District {
            district_id: "cbe".into(),
            name: "Calgary Board of Education".into(),
            etag: created.etag.clone(),
            ..Default::default()
        },
        &["name"],
    );
    let second = update_request(
        pb::District {
            district_id: "cbe".into(),
            time_zone: "America/Regina".into(),
            etag: created.etag.clone(),
            ..Default::default()
        },
        &["time_zone"],
    );
    let saved = client
        .update_district(first)
        .await
        .expect("first update")
        .into_inner();
    assert_ne!(saved.etag, created.etag, "an update changes the etag");
    let stale = client
        .update_district(second)
        .await
        .expect_err("the second update must be refused");
    assert_eq!(stale.code(), Code::Aborted, "{}", stale.message());
    assert_eq!(error_reason(&stale), "ETAG_MISMATCH");
    let now = client
        .get_district(pb::GetDistrictRequest {
            district_id: "cbe".into(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(now.name, "Calgary Board of Education");
    assert_eq!(
        now.time_zone, "America/Edmonton",
        "the stale write wrote nothing"
    );
    assert_eq!(now.etag, saved.etag);

    // Only the masked fields change; a masked setting the message leaves out takes its
    // default; the rest keep their value.
    let masked = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                name: "ignored: not in the mask".into(),
                settings: Some(pb::DistrictSettings {
                    daily_sync_enabled: Some(true),
                    manage_guardians: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &[
                "settings.daily_sync_enabled",
                "settings.thresholds.links_removed",
            ],
        ))
        .await
        .expect("masked update")
        .into_inner();
    assert_eq!(masked.name, "Calgary Board of Education");
    let settings = masked.settings.expect("settings");
    assert_eq!(settings.daily_sync_enabled, Some(true));
    assert_eq!(settings.manage_guardians, Some(true), "not in the mask");

    // A secret is set apart from plain settings, and never where it would be returned.
    let secret_as_setting = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                connector: Some(connector(
                    "powerschool",
                    &[("client_secret", "in-the-open")],
                    &[],
                )),
                ..Default::default()
            },
            &["connector.settings.client_secret"],
        ))
        .await
        .expect_err("a secret under settings is refused");
    assert_eq!(secret_as_setting.code(), Code::InvalidArgument);
    assert!(
        secret_as_setting
            .message()
            .contains("district.connector.settings.client_secret"),
        "{}",
        secret_as_setting.message()
    );
    assert!(!secret_as_setting.message().contains("in-the-open"));
    let rotated = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                connector: Some(connector(
                    "powerschool",
                    &[],
                    &[("client_secret", "rotated-secret")],
                )),
                ..Default::default()
            },
            &["connector.secrets.client_secret"],
        ))
        .await
        .expect("rotate the secret")
        .into_inner();
    assert!(!format!("{rotated:?}").contains("rotated-secret"));
    let stored = server
        .store()
        .await
        .get_district(&"cbe".parse().expect("id"))
        .await
        .expect("stored");
    assert_eq!(
        stored.connector.secrets["client_secret"].expose(),
        "rotated-secret"
    );
    assert_eq!(stored.connector.settings["client_id"], "plugin-client");

    // Every bad path is named; an empty mask is refused rather than guessed.
    let bad = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                ..Default::default()
            },
            &["colour", "etag", "settings.nope"],
        ))
        .await
        .expect_err("unknown paths are refused");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let violations: Vec<String> = tonic_types::StatusExt::get_error_details(&bad)
        .bad_request()
        .expect("field violations")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(
        violations,
        [
            "update_mask.paths[0]",
            "update_mask.paths[1]",
            "update_mask.paths[2]"
        ]
    );
    let empty = client
        .update_district(update_request(
            pb::District {
                district_id: "cbe".into(),
                ..Default::default()
            },
            &[],
        ))
        .await
        .expect_err("an empty mask is refused");
    assert!(
        empty.message().contains("update_mask"),
        "{}",
        empty.message()
    );
}

async fn a_retried_create_gets_its_district_and_deletes_need_force(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let mut request = powerschool("cbe");
    request.request_id = "5b0c3f7e-create-once".into();
    let first = client
        .create_district(request.clone())
        .await
        .expect("create")
        .into_inner();
    let again = client
        .create_district(request.clone())
        .await
        .expect("a retry gets its district back")
        .into_inner();
    assert_eq!(again, first);
    request.request_id = "someone-else".into();
    let other = client
        .create_district(request)
        .await
        .expect_err("another request for the same id is refused");
    assert_eq!(other.code(), Code::AlreadyExists);

    // A district with a run is not deleted without force, nor with a stale etag.
    let store = server.store().await;
    let id: model::ids::DistrictId = "cbe".parse().expect("id");
    let run = model::run::SyncRun {
        id: model::ids::RunId::new(),
        district_id: id.clone(),
        mode: model::run::RunMode::DryRun,
        trigger: model::run::RunTrigger::Manual,
        state: model::run::RunState::Running,
        phase: model::run::RunPhase::Pulling,
        error: None,
        counts: Default::default(),
        trips: Vec::new(),
        warnings: Vec::new(),
        created_at: chrono::Utc::now(),
        started_at: None,
        finished_at: None,
        approved_at: None,
        request_id: None,
        phases: Vec::new(),
        by: Default::default(),
        exclusions: Vec::new(),
        revert: None,
    };
    store.create_run(&run).await.expect("a run");
    let held = client
        .delete_district(pb::DeleteDistrictRequest {
            district_id: "cbe".into(),
            etag: first.etag.clone(),
            force: false,
        })
        .await
        .expect_err("a district holding records needs force");
    assert_eq!(held.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&held), "DISTRICT_NOT_EMPTY");
    let open = client
        .delete_district(pb::DeleteDistrictRequest {
            district_id: "cbe".into(),
            etag: String::new(),
            force: true,
        })
        .await
        .expect_err("a district with an open run is not deleted");
    assert_eq!(open.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&open), "RUN_ALREADY_OPEN");

    let mut finished = run.clone();
    finished.state = model::run::RunState::Failed;
    finished.phase = model::run::RunPhase::Done;
    store
        .update_run(&finished, &[model::run::RunState::Running])
        .await
        .expect("end the run");
    let stale = client
        .delete_district(pb::DeleteDistrictRequest {
            district_id: "cbe".into(),
            etag: "999".into(),
            force: true,
        })
        .await
        .expect_err("a stale etag is refused");
    assert_eq!(stale.code(), Code::Aborted);
    client
        .delete_district(pb::DeleteDistrictRequest {
            district_id: "cbe".into(),
            etag: first.etag.clone(),
            force: true,
        })
        .await
        .expect("delete");
    let gone = client
        .get_district(pb::GetDistrictRequest {
            district_id: "cbe".into(),
        })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    assert!(
        store.get_run(&id, run.id).await.is_err(),
        "the district's runs went with it"
    );
    // The id can be used again.
    client
        .create_district(powerschool("cbe"))
        .await
        .expect("create again");
}

#[tokio::test]
async fn malformed_protobuf_is_an_invalid_argument_naming_no_type() {
    let server = Server::start(Backend::Sqlite).await;
    let channel = tonic::transport::Channel::from_shared(server.url())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    // Field 1 sent as a number where CreateDistrict expects a message.
    let wrong = pb::ListDistrictsRequest {
        page_size: 5,
        page_token: String::new(),
    };
    let err = grpc
        .unary(
            tonic::Request::new(wrong),
            tonic::codegen::http::uri::PathAndQuery::from_static(
                "/rostersync.v1.SyncService/CreateDistrict",
            ),
            tonic_prost::ProstCodec::<pb::ListDistrictsRequest, pb::District>::default(),
        )
        .await
        .expect_err("must be refused");
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(
        !err.message().contains("CreateDistrictRequest") && !err.message().contains("District."),
        "{}",
        err.message()
    );
}
