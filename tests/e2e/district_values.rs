//! What a caller sends about a district, on both databases: a secret stays with the
//! connection it was given for and is sealed at rest, and a bad value is named, quoted
//! and cut short in the answer.

use proto::v1 as pb;
use store::Backend;
use tonic::Code;

use crate::harness::{
    create_request, district, powerschool_request as powerschool, update_request, Server,
    TEST_SECRET,
};

store::on_both_backends!(
    a_new_connection_target_never_inherits_the_stored_secret,
    bad_values_are_quoted_cut_and_parsed_strictly,
    secrets_are_sealed_at_rest_and_rotate,
);

/// Whoever can change where a district's requests go must not be able to send its
/// secret there: a new server, tenant or host clears the stored secrets unless new ones
/// come in the same change.
async fn a_new_connection_target_never_inherits_the_stored_secret(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(crate::harness::powerschool_request("ps"))
        .await
        .expect("create");
    let moved = |base_url: &str, secret: Option<&str>| {
        let mut connector = pb::ConnectorConfig {
            kind: "powerschool".into(),
            settings: [("base_url".to_owned(), base_url.to_owned())].into(),
            ..Default::default()
        };
        let mut paths = vec!["connector.settings.base_url"];
        if let Some(secret) = secret {
            connector
                .secrets
                .insert("client_secret".into(), secret.into());
            paths.push("connector.secrets.client_secret");
        }
        update_request(
            pb::District {
                district_id: "ps".into(),
                connector: Some(connector),
                ..Default::default()
            },
            &paths,
        )
    };
    let refused = client
        .update_district(moved("https://listener.attacker.example", None))
        .await
        .expect_err("a new server without its secret is refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("connector.secrets.client_secret")
            && refused.message().contains("give it again"),
        "{}",
        refused.message()
    );
    let kept = client
        .get_district(pb::GetDistrictRequest {
            district_id: "ps".into(),
        })
        .await
        .expect("get")
        .into_inner();
    let settings = kept.connector.expect("connector");
    assert_eq!(
        settings.settings["base_url"], "https://ps.example.org",
        "nothing changed"
    );
    assert_eq!(settings.secrets_set, ["client_secret"]);

    // With its secret, the move is a move.
    client
        .update_district(moved("https://new-ps.example.org", Some("the-new-secret")))
        .await
        .expect("moved with its secret");

    // A setting that is not a target keeps the secret.
    client
        .update_district(update_request(
            pb::District {
                district_id: "ps".into(),
                connector: Some(pb::ConnectorConfig {
                    kind: "powerschool".into(),
                    settings: [("page_size".to_owned(), "50".to_owned())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["connector.settings.page_size"],
        ))
        .await
        .expect("a page size keeps the secret");

    // A Clever district moved to another district id, and a ClassLink district to another
    // tenant, likewise.
    client
        .create_district(create_request(district(
            "clever",
            "Clever",
            crate::harness::connector(
                "clever",
                &[("district_id", "66f0a1b2c3d4e5f6a7b80001")],
                &[("district_token", "clever-token-never-shown")],
            ),
            Some(pb::DistrictSettings {
                phone_types: Some(pb::TypeSelection {
                    all: false,
                    values: vec!["cell".into()],
                }),
                ..Default::default()
            }),
            "America/Chicago",
        )))
        .await
        .expect("create clever");
    let refused = client
        .update_district(update_request(
            pb::District {
                district_id: "clever".into(),
                connector: Some(pb::ConnectorConfig {
                    kind: "clever".into(),
                    settings: [(
                        "district_id".to_owned(),
                        "66f0a1b2c3d4e5f6a7b80002".to_owned(),
                    )]
                    .into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["connector.settings.district_id"],
        ))
        .await
        .expect_err("another district's id without its token");
    assert!(
        refused.message().contains("district_token") && refused.message().contains("give it again"),
        "{}",
        refused.message()
    );
}

/// A huge bad value is quoted cut, so the real error reaches a client whatever its
/// metadata limit; ids have one spelling; a URL with credentials is refused.
async fn bad_values_are_quoted_cut_and_parsed_strictly(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let huge = format!("https://{}.example.org", "a".repeat(3_000_000));
    let Err(refused) = client
        .create_district(create_request(district(
            "huge",
            "Huge",
            crate::harness::powerschool_connector(&huge, "id", TEST_SECRET, &[]),
            None,
            "America/Edmonton",
        )))
        .await
    else {
        panic!("a 3 MB base_url was accepted");
    };
    assert_eq!(
        refused.code(),
        Code::InvalidArgument,
        "{}",
        refused.message().len()
    );
    assert!(
        refused.message().contains("base_url"),
        "{}",
        &refused.message()[..200]
    );
    assert!(
        refused.message().len() <= 2100,
        "{}",
        refused.message().len()
    );

    let with_password = client
        .create_district(create_request(district(
            "creds",
            "Creds",
            crate::harness::powerschool_connector(
                "https://admin:hunter2@ps.example.org",
                "id",
                TEST_SECRET,
                &[],
            ),
            None,
            "America/Edmonton",
        )))
        .await
        .expect_err("credentials in a URL are refused");
    assert!(
        with_password.message().contains("user name or password")
            && !with_password.message().contains("hunter2"),
        "{}",
        with_password.message()
    );

    client
        .create_district(powerschool("strict"))
        .await
        .expect("create");
    for odd in [
        "{3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c}",
        "3f2a1c9e8b7d4e6fa5c42d1e0f9a8b7c",
    ] {
        let err = client
            .get_sync_run(pb::GetSyncRunRequest {
                district_id: "strict".into(),
                run_id: odd.into(),
            })
            .await
            .expect_err("one spelling of an id");
        assert_eq!(err.code(), Code::InvalidArgument, "{odd}");
    }
    for token in ["garbage", "+5", " "] {
        let err = client
            .list_sync_runs(pb::ListSyncRunsRequest {
                district_id: "strict".into(),
                page_size: 10,
                page_token: token.into(),
            })
            .await
            .expect_err("a token this server did not give");
        assert_eq!(err.code(), Code::InvalidArgument, "{token:?}");
    }
}

/// Secrets are sealed at rest with the configured key, the SQLite file is private, and
/// `rostersync secrets rotate` seals them with a new key the service then opens.
async fn secrets_are_sealed_at_rest_and_rotate(backend: Backend) {
    use std::os::unix::fs::PermissionsExt as _;
    let keys = tempfile::tempdir().expect("key dir");
    let key_file = keys.path().join("sealing.key");
    std::fs::write(&key_file, format!("{}\n", crate::harness::TEST_SEALING_KEY)).expect("key");
    let env = [
        ("ROSTERSYNC_SEALING_KEY", ""),
        (
            "ROSTERSYNC_SEALING_KEY_FILE",
            key_file.to_str().expect("utf-8"),
        ),
    ];
    let sim = sim::powerschool::Simulator::start(sim::powerschool::SimConfig::default())
        .await
        .expect("simulator");
    let mut server = Server::start_with(backend, &env).await;
    let mut client = server.client().await;
    crate::harness::create_sim_district(&mut client, "sealed", &sim, &[]).await;
    let store = server.store().await;
    let id = "sealed".parse().expect("id");
    let at_rest = store.stored_secrets(&id).await.expect("stored");
    assert!(at_rest.starts_with("sealed:v1:"), "{at_rest}");
    assert!(!at_rest.contains(sim.client_secret()));
    // Reading a SQLite file through another handle while this process holds connections
    // to it drops this process's SQLite locks on it (POSIX locks are per process), and
    // its later reads can miss what another process commits: close them first.
    store.close().await.expect("close the test's store");
    if backend == Backend::Sqlite {
        let db = server.database_file().expect("a SQLite file");
        let mode = std::fs::metadata(&db)
            .expect("db file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{db:?}");
        for f in std::fs::read_dir(db.parent().expect("dir"))
            .expect("dir")
            .flatten()
        {
            let bytes = std::fs::read(f.path()).unwrap_or_default();
            let needle = sim.client_secret().as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the secret in {:?}",
                f.path()
            );
        }
    }

    // Rotate: a new key first in the file, the district re-sealed with it.
    assert!(server.stop().success());
    let mut rotate = std::process::Command::new(crate::harness::BIN);
    rotate.args([
        "secrets",
        "rotate",
        "--database-url",
        &server.database_url(),
    ]);
    for (k, v) in env {
        rotate.env(k, v);
    }
    let out = rotate.output().expect("run rotate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 district(s) re-sealed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A fresh connection: what the rotation committed, not an older snapshot.
    let rotated = server
        .store()
        .await
        .stored_secrets(&id)
        .await
        .expect("stored");
    assert!(rotated.starts_with("sealed:v1:") && rotated != at_rest);
    let key_id = |s: &str| s.split(':').nth(2).unwrap_or_default().to_owned();
    assert_ne!(
        key_id(&rotated),
        key_id(&at_rest),
        "sealed with the new key"
    );
    server.restart();
    let mut client = server.client().await;
    let report = client
        .test_connection(pb::TestConnectionRequest {
            district_id: "sealed".into(),
        })
        .await
        .expect("test")
        .into_inner();
    assert!(report.ok, "the rotated secret opens: {report:#?}");
}
