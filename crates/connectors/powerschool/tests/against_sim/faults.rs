//! Faults the simulator injects: each is survived (retried, waited out, renewed) with
//! the same roster, or ends in a typed error naming the endpoint — never a shorter roster.

use super::*;

/// Pulls through `fault` and checks the pull is whole and the fault fired every time it
/// was set to.
async fn survives(fault: Fault) -> Simulator {
    let sim = simulator().await;
    let times = fault.times as usize;
    sim.inject(fault);
    let pulled = pull(connector(&sim).as_ref())
        .await
        .expect("the fault is survived");
    assert_matches_truth(&sim, &pulled);
    assert_eq!(sim.faults_fired(), times, "the fault fired");
    sim
}

#[tokio::test]
async fn server_errors_are_retried() {
    survives(Fault::new(Match::get("/ws/v1/school/"), FaultKind::Status500).times(2)).await;
    survives(Fault::new(
        Match::post("/ws/schema/query/"),
        FaultKind::Status500,
    ))
    .await;
}

#[tokio::test]
async fn throttling_waits_as_long_as_retry_after_says() {
    let started = Instant::now();
    survives(Fault::new(
        Match::path("/ws/schema/table/person"),
        FaultKind::TooManyRequests {
            retry_after_secs: 1,
        },
    ))
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let sim = survives(Fault::new(
        Match::path("/ws/v1/district/school"),
        FaultKind::Unauthorized,
    ))
    .await;
    let tokens = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/oauth/access_token"))
        .count();
    assert_eq!(tokens, 2, "one token, then one renewal after the 401");
}

#[tokio::test]
async fn a_revoked_token_mid_pull_is_renewed() {
    let sim = simulator().await;
    let c = connector(&sim);
    let mut stream = c.roster();
    let mut events = 0;
    while let Some(item) = stream.next().await {
        item.expect("pull continues");
        events += 1;
        if events == 3 {
            sim.revoke_tokens();
        }
    }
    assert!(events > 3);
    let refused = sim.requests().iter().filter(|r| r.status == 401).count();
    assert!(refused >= 1, "the revoked token was refused at least once");
    let tokens = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/oauth/access_token"))
        .count();
    assert_eq!(tokens, 2, "the revocation was met by one renewal");
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let sim = simulator().await;
    sim.inject(Fault::new(
        Match::path("/ws/schema/table/emailaddress"),
        FaultKind::Delay(Duration::from_millis(1500)),
    ));
    let http = HttpConfig {
        request_timeout: Duration::from_millis(500),
        ..fast_http()
    };
    let pulled = pull(connector_with(&sim, http).as_ref())
        .await
        .expect("retried after the timeout");
    assert_matches_truth(&sim, &pulled);
    assert_eq!(sim.faults_fired(), 1, "the slow answer happened");
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_retried() {
    survives(Fault::new(Match::get("/ws/v1/school/"), FaultKind::DropMidBody).skip(1)).await;
}

#[tokio::test]
async fn malformed_json_is_retried() {
    survives(Fault::new(
        Match::path("/ws/schema/table/studentcontactassoc"),
        FaultKind::MalformedJson,
    ))
    .await;
}

#[tokio::test]
async fn a_short_page_fails_the_pull_naming_the_endpoint() {
    let sim = simulator().await;
    // The count, page 1, then a page after the first loses a row. (A short first page
    // is the server's page size, SPEC §2c: the walk reads on in that size and loses
    // nothing.)
    sim.inject(Fault::new(Match::get("/ws/v1/school/"), FaultKind::ShortPage).skip(2));
    let err = pull(connector(&sim).as_ref())
        .await
        .expect_err("must not pass as whole");
    match err {
        ConnectorError::Incomplete {
            endpoint,
            declared,
            received,
        } => {
            assert!(endpoint.starts_with("GET /ws/v1/school/"), "{endpoint}");
            assert!(received < declared);
        }
        other => panic!("expected Incomplete, got {other}"),
    }
    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::get("/ws/schema/table/studentcontactassoc"),
            FaultKind::ShortPage,
        )
        .times(1_000),
    );
    let err = pull(connector(&sim).as_ref())
        .await
        .expect_err("must not pass as whole");
    assert!(
        matches!(&err, ConnectorError::Incomplete { endpoint, .. } if endpoint == "GET /ws/schema/table/studentcontactassoc"),
        "{err}"
    );
}

#[tokio::test]
async fn lasting_faults_end_in_typed_errors_naming_the_endpoint() {
    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::path("/ws/schema/table/phonenumber"),
            FaultKind::Status500,
        )
        .times(100),
    );
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Http { status: 500, endpoint, .. } if endpoint.starts_with("GET /ws/schema/table/phonenumber")),
        "{err}"
    );

    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::path("/ws/v1/district/school"),
            FaultKind::Unauthorized,
        )
        .times(100),
    );
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Unauthorized { endpoint, .. } if endpoint.contains("/ws/v1/district/school")),
        "{err}"
    );

    let sim = simulator().await;
    sim.inject(Fault::new(Match::path("/ws/schema/query/"), FaultKind::MalformedJson).times(100));
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Malformed { endpoint, .. } if endpoint.starts_with("POST /ws/schema/query/")),
        "{err}"
    );
    assert!(!err.to_string().contains(sim.client_secret()));
}
