//! TestConnection against the PowerSchool simulator, over gRPC, the CLI and grpcurl.

use std::process::Command;

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;
use tonic::Code;

use crate::harness::{
    connector, create_request, district, powerschool_connector, stdout, update_request, Server, BIN,
};

store::on_both_backends!(
    a_district_against_the_simulator_tests_ok_and_names_what_breaks,
    connection_tests_refuse_unknown_districts_and_name_unreachable_servers,
);

fn powerschool(base_url: &str, client_id: &str, secret: &str) -> pb::ConnectorConfig {
    powerschool_connector(base_url, client_id, secret, &[])
}

fn step<'a>(r: &'a pb::TestConnectionResponse, name: &str) -> &'a pb::ConnectionCheckStep {
    r.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("step {name} in {r:#?}"))
}

async fn a_district_against_the_simulator_tests_ok_and_names_what_breaks(backend: Backend) {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    client
        .create_district(create_request(district(
            "sim",
            "Simulated district",
            powerschool(&sim.base_url(), sim.client_id(), sim.client_secret()),
            None,
            "America/Edmonton",
        )))
        .await
        .expect("create");
    let test = |id: &str| pb::TestConnectionRequest {
        district_id: id.into(),
    };

    let ok = client
        .test_connection(test("sim"))
        .await
        .expect("test")
        .into_inner();
    assert!(ok.ok, "{ok:#?}");
    let (schools, students) = sim.district(|d| {
        (
            d.expected_schools().len() as u64,
            d.expected_students().len() as u64,
        )
    });
    assert_eq!((ok.schools, ok.students), (Some(schools), Some(students)));
    assert!(
        ok.summary.contains(&format!("{schools} schools")),
        "{}",
        ok.summary
    );
    assert!(ok
        .steps
        .iter()
        .all(|s| s.outcome == pb::CheckOutcome::Passed as i32));

    // The CLI prints the same steps and succeeds.
    let cli = Command::new(BIN)
        .args(["district", "test", "sim", "--server", &server.url()])
        .output()
        .expect("run the cli");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let text = stdout(&cli);
    assert!(
        text.contains("ok   authenticate") && text.contains("OK: connected to PowerSchool"),
        "{text}"
    );

    // grpcurl, as support would call it.
    let out = server.grpcurl(
        &["-d", r#"{"district_id":"sim"}"#],
        &["rostersync.v1.SyncService/TestConnection"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("\"ok\": true"), "{}", stdout(&out));

    // Bad credentials: named for the administrator, the secret never shown.
    client
        .update_district(update_request(
            pb::District {
                district_id: "sim".into(),
                connector: Some(powerschool(
                    &sim.base_url(),
                    sim.client_id(),
                    "not-the-secret",
                )),
                ..Default::default()
            },
            &["connector"],
        ))
        .await
        .expect("update");
    let bad = client
        .test_connection(test("sim"))
        .await
        .expect("test")
        .into_inner();
    assert!(!bad.ok);
    let auth = step(&bad, "authenticate");
    assert_eq!(auth.outcome, pb::CheckOutcome::Failed as i32);
    assert!(
        auth.detail.contains("refused the client id and secret"),
        "{}",
        auth.detail
    );
    assert!(
        auth.cause.contains("POST /oauth/access_token"),
        "{}",
        auth.cause
    );
    assert!(bad.summary.starts_with("authenticate:"), "{}", bad.summary);
    assert!(!format!("{bad:?}").contains("not-the-secret"));
    let cli = Command::new(BIN)
        .args(["district", "test", "sim", "--server", &server.url()])
        .output()
        .expect("run the cli");
    assert!(!cli.status.success(), "a failed test exits non-zero");
    assert!(
        stdout(&cli).contains("FAIL authenticate"),
        "{}",
        stdout(&cli)
    );

    // An unreachable URL.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    client
        .update_district(update_request(
            pb::District {
                district_id: "sim".into(),
                connector: Some(powerschool(
                    &format!("http://127.0.0.1:{closed}"),
                    sim.client_id(),
                    sim.client_secret(),
                )),
                ..Default::default()
            },
            &["connector"],
        ))
        .await
        .expect("update");
    let started = std::time::Instant::now();
    let gone = client
        .test_connection(test("sim"))
        .await
        .expect("test")
        .into_inner();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answers quickly"
    );
    assert!(
        step(&gone, "authenticate").detail.contains("cannot reach"),
        "{gone:#?}"
    );
    assert!(
        !server.log().contains(sim.client_secret()),
        "no secret in the server log"
    );
}

async fn connection_tests_refuse_unknown_districts_and_name_unreachable_servers(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let missing = client
        .test_connection(pb::TestConnectionRequest {
            district_id: "nowhere".into(),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("nowhere"));
    let malformed = client
        .test_connection(pb::TestConnectionRequest {
            district_id: "Not A Slug".into(),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(malformed.code(), Code::InvalidArgument);

    client
        .create_district(create_request(district(
            "classlink-one",
            "ClassLink district",
            connector(
                "classlink",
                &[
                    ("tenant_id", "2"),
                    ("application_id", "57"),
                    ("base_url", "https://example-vn-v2.oneroster.com"),
                    ("client_id", "key"),
                ],
                &[("client_secret", "classlink-secret-never-shown")],
            ),
            None,
            "America/Chicago",
        )))
        .await
        .expect("create");
    // A ClassLink server that cannot be reached is named as such, in words an
    // administrator can act on; the secret appears nowhere in the answer.
    let report = client
        .test_connection(pb::TestConnectionRequest {
            district_id: "classlink-one".into(),
        })
        .await
        .expect("a report")
        .into_inner();
    assert!(!report.ok);
    assert!(
        report.summary.contains("cannot reach the Roster Server"),
        "{report:#?}"
    );
    assert!(!format!("{report:?}").contains("classlink-secret-never-shown"));
}

/// README's run command: the demo district answers TestConnection OK, through grpcurl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_district_tests_ok() {
    let mut server = Server::demo().await;
    let out = server.grpcurl(
        &["-d", r#"{"district_id":"demo"}"#],
        &["rostersync.v1.SyncService/TestConnection"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("\"ok\": true"), "{text}");
    assert!(text.contains("\"students\": \""), "{text}");
    let mut client = server.client().await;
    let demo = client
        .get_district(pb::GetDistrictRequest {
            district_id: "demo".into(),
        })
        .await
        .expect("the demo district exists")
        .into_inner();
    assert_eq!(
        demo.connector.map(|c| c.kind),
        Some("powerschool".to_owned())
    );
    assert!(server.stop().success());
}

/// `rostersync demo --source clever`: the demo district reads a Clever simulator, tests OK
/// and syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clever_demo_district_tests_ok_and_syncs() {
    demo_of_source("clever").await;
}

/// `rostersync demo --source classlink`: the demo district finds a ClassLink Roster Server
/// by tenant and application id, tests OK and syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_classlink_demo_district_tests_ok_and_syncs() {
    demo_of_source("classlink").await;
}

async fn demo_of_source(kind: &str) {
    let mut server = Server::demo_with(&["--source", kind]).await;
    let out = server.grpcurl(
        &["-d", r#"{"district_id":"demo"}"#],
        &["rostersync.v1.SyncService/TestConnection"],
    );
    let text = stdout(&out);
    assert!(text.contains("\"ok\": true"), "{text}");
    let mut client = server.client().await;
    let demo = client
        .get_district(pb::GetDistrictRequest {
            district_id: "demo".into(),
        })
        .await
        .expect("the demo district exists")
        .into_inner();
    assert_eq!(demo.connector.map(|c| c.kind), Some(kind.to_owned()));
    let run = crate::harness::run_to_end(&mut client, "demo", false).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    for fetched in ["students", "guardian_accounts", "staff", "classrooms"] {
        assert!(
            run.fetched.get(fetched).copied().unwrap_or_default() > 0,
            "{fetched}: {run:#?}"
        );
    }
    assert!(server.stop().success());
}

/// A service facing real districts (connector_targets = public, the default) sends no
/// request to the loopback, a private range or a cloud metadata address — whether the
/// URL names the address or a name resolving to it — and never posts the secret there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_reach_only_public_addresses_by_default() {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start_with(
        Backend::Sqlite,
        &[("ROSTERSYNC_CONNECTOR_TARGETS", "public")],
    )
    .await;
    let mut client = server.client().await;
    let port = sim
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    for (id, url, why) in [
        ("loopback", sim.base_url(), "a loopback address"),
        (
            "by-name",
            format!("http://localhost:{port}"),
            "localhost resolves to a loopback address",
        ),
        (
            "metadata",
            "https://169.254.169.254".to_owned(),
            "a link-local or cloud metadata address",
        ),
        (
            "private",
            "https://10.0.0.7".to_owned(),
            "a private address",
        ),
    ] {
        client
            .create_district(create_request(district(
                id,
                "Aimed inward",
                powerschool(&url, sim.client_id(), sim.client_secret()),
                None,
                "America/Edmonton",
            )))
            .await
            .expect("create");
        let report = client
            .test_connection(pb::TestConnectionRequest {
                district_id: id.into(),
            })
            .await
            .expect("test")
            .into_inner();
        assert!(!report.ok, "{id}: {report:#?}");
        assert!(
            report
                .summary
                .contains("may not send requests to this base URL"),
            "{id}: {}",
            report.summary
        );
        let text = format!("{report:?}");
        assert!(
            text.contains(why) && text.contains("may not reach"),
            "{id}: {text}"
        );
    }
    assert!(
        sim.requests().is_empty(),
        "no request reached the simulator: {:?}",
        sim.requests()
    );
}

/// A `--strict` mode and the kinds it keeps out of a run.
type StrictRun<'a> = (&'a str, &'a [&'a str]);

/// `rostersync demo --strict …`: each demo source syncs with its simulator in every
/// strict mode it can show — each alone, then all at once — succeeding with a warning
/// naming each kind a refusal kept out, and a TestConnection that passes and names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_source_syncs_in_every_strict_mode() {
    let sources: [(&str, &[StrictRun]); 3] = [
        (
            "powerschool",
            &[
                ("page-cap", &[]),
                ("staff-refused", &["staff", "enrollments"]),
                ("sections-refused", &["classrooms", "enrollments"]),
                ("enrollments-refused", &["enrollments"]),
            ],
        ),
        (
            "clever",
            &[
                ("page-cap", &[]),
                ("sections-refused", &["classrooms", "enrollments"]),
            ],
        ),
        (
            "classlink",
            &[
                ("page-cap", &[]),
                ("no-totals", &[]),
                ("revision-moves", &[]),
                ("staff-refused", &["staff"]),
                ("sections-refused", &["classrooms", "enrollments"]),
                ("enrollments-refused", &["enrollments"]),
            ],
        ),
    ];
    for (source, modes) in sources {
        let all: Vec<&str> = modes.iter().map(|(m, _)| *m).collect();
        let all = all.join(",");
        let mut every_kind: Vec<&str> = modes.iter().flat_map(|(_, k)| k.iter().copied()).collect();
        every_kind.sort_unstable();
        every_kind.dedup();
        let mut runs: Vec<StrictRun> = modes.to_vec();
        runs.push((&all, &every_kind));
        for (strict, kinds) in runs {
            let mut server = Server::demo_with(&["--source", source, "--strict", strict]).await;
            let mut client = server.client().await;
            let run = crate::harness::run_to_end(&mut client, "demo", false).await;
            assert_eq!(
                run.state,
                pb::RunState::Succeeded as i32,
                "{source} --strict {strict}: {run:#?}"
            );
            assert!(
                run.fetched.get("students").copied().unwrap_or_default() > 0,
                "{source} --strict {strict}: {run:#?}"
            );
            for kind in kinds {
                let said = format!("{kind} not synced this run");
                assert!(
                    run.warnings.iter().any(|w| w.contains(&said)),
                    "{source} --strict {strict}: no warning says {said:?}: {:#?}",
                    run.warnings
                );
            }
            let checked = client
                .test_connection(pb::TestConnectionRequest {
                    district_id: "demo".into(),
                })
                .await
                .expect("test connection")
                .into_inner();
            let limited = checked
                .steps
                .iter()
                .any(|s| s.outcome == pb::CheckOutcome::Limited as i32);
            assert!(
                checked.ok && limited != kinds.is_empty(),
                "{source} --strict {strict}: {checked:#?}"
            );
            assert!(server.stop().success());
        }
    }
}
