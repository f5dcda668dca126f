//! District configuration over gRPC, on both databases.

use std::collections::HashMap;

use proto::v1 as pb;
use store::Backend;
use tonic::Code;

use crate::harness::{powerschool_request as powerschool, Server, TEST_SECRET};
use crate::on_both_backends;

on_both_backends!(
    a_district_is_created_listed_and_updated_without_losing_its_secret,
    every_invalid_field_is_named_at_once,
    connectors_describe_their_settings,
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
        .update_district(pb::UpdateDistrictRequest {
            district_id: "cbe".into(),
            name: Some("Calgary Board of Education".into()),
            connector: Some(pb::ConnectorConfig {
                kind: "powerschool".into(),
                settings: HashMap::from([("client_id".to_owned(), "new-client".to_owned())])
                    .into_iter()
                    .collect(),
                secrets_set: vec![],
            }),
            settings: Some(pb::DistrictSettings {
                daily_sync_enabled: Some(true),
                ..Default::default()
            }),
            time_zone: None,
        })
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
        .update_district(pb::UpdateDistrictRequest {
            district_id: "atlantis".into(),
            name: Some("x".into()),
            ..Default::default()
        })
        .await
        .expect_err("must be refused");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("atlantis"));
}

async fn every_invalid_field_is_named_at_once(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;

    let mut bad = powerschool("Not A Slug");
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
        .create_district(bad)
        .await
        .expect_err("must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields = [
        "district_id",
        "name",
        "time_zone",
        "connector.settings.base_url",
        "connector.settings.colour",
        "settings.thresholds.students_archived.max_percent",
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
    if let Some(c) = sftp.connector.as_mut() {
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
    let mut clever = pb::CreateDistrictRequest {
        district_id: "clever-district".into(),
        name: "Clever District".into(),
        connector: Some(pb::ConnectorConfig {
            kind: "clever".into(),
            settings: [
                (
                    "district_id".to_owned(),
                    "5f3c1e2d4b6a7c8d9e0f1a2b".to_owned(),
                ),
                ("district_token".to_owned(), TEST_SECRET.to_owned()),
            ]
            .into_iter()
            .collect(),
            secrets_set: vec![],
        }),
        settings: None,
        time_zone: "America/Chicago".into(),
    };
    let err = client
        .create_district(clever.clone())
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
        .create_district(clever)
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
    assert_eq!(secret_of("classlink"), ["client_secret"]);
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
