//! The plugin's access request and the connection check: the plugin asks for exactly
//! what the pull reads, and the check names bad credentials, an unreachable server and
//! each missing field.

use super::*;

fn granted(fields: &BTreeSet<(String, String)>) -> PluginState {
    PluginState {
        granted: Some(fields.iter().map(|(t, f)| format!("{t}.{f}")).collect()),
        ..PluginState::default()
    }
}

#[tokio::test]
async fn the_plugin_access_request_is_exactly_what_the_pull_reads() {
    let sim = simulator().await;
    let access = fields::access_request();
    let xml = powerschool::plugin::plugin_xml(&powerschool::plugin::PluginOptions::default())
        .expect("xml");
    assert_eq!(powerschool::plugin::requested_fields(&xml), access);
    // Granted exactly the access request, the whole pull works.
    sim.set_plugin(granted(&access));
    let pulled = pull(connector(&sim).as_ref())
        .await
        .expect("the requested fields suffice");
    assert_matches_truth(&sim, &pulled);
    // Every table column the pull projected or filtered on is in the access request, and
    // every field of the access request for a table read was projected.
    let mut read: BTreeSet<(String, String)> = BTreeSet::new();
    for r in sim.requests() {
        let Some(table) = r.path.strip_prefix("/ws/schema/table/") else {
            continue;
        };
        let table = table.trim_end_matches("/count").to_owned();
        for (k, v) in url::form_urlencoded::parse(r.query.as_bytes()) {
            match k.as_ref() {
                "projection" => read.extend(v.split(',').map(|c| (table.clone(), c.to_owned()))),
                "q" => read.extend(
                    v.split(';')
                        .filter_map(|c| c.split_once("=="))
                        .map(|(c, _)| (table.clone(), c.to_owned())),
                ),
                _ => {}
            }
        }
    }
    let table_fields: BTreeSet<(String, String)> = access
        .iter()
        .filter(|(t, _)| fields::TABLE_READS.iter().any(|r| r.table == t))
        .cloned()
        .collect();
    assert_eq!(read, table_fields);
    // One field fewer, and the pull stops with a 403 naming the table.
    let mut fewer = access.clone();
    fewer.remove(&(
        "u_studentcontactdetail".to_owned(),
        "isdecisionmaking".to_owned(),
    ));
    sim.set_plugin(granted(&fewer));
    let err = pull(connector(&sim).as_ref()).await.expect_err("refused");
    assert!(
        matches!(&err, ConnectorError::Forbidden { endpoint, .. } if endpoint.contains("u_studentcontactdetail")),
        "{err}"
    );
}

pub(crate) fn step<'a>(report: &'a CheckReport, name: &str) -> &'a CheckOutcome {
    &report
        .steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("step {name} in {report:#?}"))
        .outcome
}

fn problem(outcome: &CheckOutcome) -> &str {
    match outcome {
        CheckOutcome::Failed { problem, .. } => problem,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn check_passes_for_a_healthy_district() {
    let sim = simulator().await;
    let report = connector(&sim).check().await;
    assert!(report.ok(), "{report:#?}");
    let (schools, students) = sim.district(|d| {
        (
            d.expected_schools().len() as u64,
            d.expected_students().len() as u64,
        )
    });
    assert_eq!(report.schools, Some(schools));
    assert_eq!(report.students, Some(students));
    assert!(report
        .source_version
        .as_deref()
        .is_some_and(|v| v.starts_with("PowerSchool ")));
}

#[tokio::test]
async fn check_names_bad_credentials_an_unreachable_server_and_missing_access() {
    let sim = simulator().await;
    let bad = PowerSchoolFactory
        .build(
            &config(&sim.base_url(), sim.client_id(), "wrong-secret"),
            &fast_http(),
        )
        .expect("builds");
    let report = bad.check().await;
    assert!(!report.ok());
    assert!(problem(step(&report, "authenticate")).contains("refused the client id and secret"));
    assert!(matches!(
        step(&report, "read the district"),
        CheckOutcome::Skipped { .. }
    ));
    let text = format!("{report:?}");
    assert!(
        !text.contains("wrong-secret") && !text.contains(sim.client_secret()),
        "no secret in a report"
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let gone = PowerSchoolFactory
        .build(
            &config(&format!("http://127.0.0.1:{closed}"), "id", "secret"),
            &fast_http(),
        )
        .expect("builds");
    let report = gone.check().await;
    assert!(
        problem(step(&report, "authenticate")).contains("cannot reach"),
        "{report:#?}"
    );

    sim.set_plugin(PluginState {
        v1_access: false,
        ..PluginState::default()
    });
    let report = connector(&sim).check().await;
    assert!(
        problem(step(&report, "schools")).contains("accessLevelV1Api"),
        "{report:#?}"
    );

    let mut fewer = fields::access_request();
    fewer.remove(&(
        "u_studentcontactdetail".to_owned(),
        "isdecisionmaking".to_owned(),
    ));
    sim.set_plugin(granted(&fewer));
    let report = connector(&sim).check().await;
    assert!(!report.ok());
    assert!(
        problem(step(&report, "read u_studentcontactdetail")).contains("may not read"),
        "{report:#?}"
    );
    assert!(matches!(
        step(&report, "read person"),
        CheckOutcome::Passed { .. }
    ));

    sim.set_plugin(PluginState {
        enabled: false,
        ..PluginState::default()
    });
    let report = connector(&sim).check().await;
    assert!(problem(step(&report, "authenticate")).contains("plugin is enabled"));
}
