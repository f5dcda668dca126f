//! Fault injection over real HTTP: each kind fires `times` times after `skip`, and
//! reaches tables and PowerQueries too.

mod common;

use std::time::{Duration, Instant};

use common::{as_list, default_sim};
use rostersync_sim::powerschool::{Fault, FaultKind, Match};
use serde_json::Value;

/// Makes four matching requests to a fault that skips one and hits two.
async fn four_requests(kind: FaultKind) -> Vec<common::HttpResponse> {
    let (sim, client) = default_sim().await;
    sim.inject(Fault {
        when: Match::get("/ws/v1/district/school"),
        kind,
        times: 2,
        skip: 1,
    });
    assert_eq!(
        client.get("/ws/v1/metadata").await.status,
        200,
        "other paths pass"
    );
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(client.get("/ws/v1/district/school").await);
    }
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/ws/v1/district/school")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses.len(), 4);
    sim.shutdown().await;
    out
}

/// A normal answer: 200 with a whole, valid JSON body.
fn ok(r: &common::HttpResponse) -> bool {
    r.status == 200 && r.complete && serde_json::from_slice::<Value>(&r.body).is_ok()
}

/// The second and third answers show the fault; the first and fourth are normal.
fn faulted(answers: &[common::HttpResponse], hit: impl Fn(&common::HttpResponse) -> bool) {
    let pattern: Vec<bool> = answers.iter().map(hit).collect();
    assert_eq!(pattern, vec![false, true, true, false]);
    assert!(ok(&answers[0]) && ok(&answers[3]));
}

#[tokio::test]
async fn every_fault_fires_its_times_after_its_skip() {
    let answers = four_requests(FaultKind::Status500).await;
    faulted(&answers, |r| r.status == 500);
    let answers = four_requests(FaultKind::TooManyRequests {
        retry_after_secs: 7,
    })
    .await;
    faulted(&answers, |r| {
        r.status == 429 && r.header("retry-after") == Some("7")
    });
    let answers = four_requests(FaultKind::Unauthorized).await;
    faulted(&answers, |r| {
        r.status == 401 && r.json()["error"] == "invalid_token"
    });
    let answers = four_requests(FaultKind::MalformedJson).await;
    faulted(&answers, |r| {
        r.status == 200 && serde_json::from_slice::<Value>(&r.body).is_err()
    });
    let answers = four_requests(FaultKind::DropMidBody).await;
    faulted(&answers, |r| {
        r.status == 200 && !r.complete && !r.body.is_empty()
    });
    let answers = four_requests(FaultKind::ShortPage).await;
    faulted(&answers, |r| {
        as_list(&r.json()["schools"]["school"]).len() == 3
    });

    let (sim, client) = default_sim().await;
    sim.inject(
        Fault::new(
            Match::path("/ws/v1/district/school"),
            FaultKind::Delay(Duration::from_millis(400)),
        )
        .skip(1)
        .times(2),
    );
    let mut slow = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        let answer = client.get("/ws/v1/district/school").await;
        assert!(ok(&answer));
        slow.push(started.elapsed() >= Duration::from_millis(400));
    }
    assert_eq!(slow, vec![false, true, true, false]);
    sim.shutdown().await;
}

#[tokio::test]
async fn short_pages_and_faults_reach_tables_and_queries() {
    let (sim, client) = default_sim().await;
    sim.inject(Fault::new(
        Match::path("/ws/schema/table/person"),
        FaultKind::ShortPage,
    ));
    let short = client
        .get("/ws/schema/table/person?projection=id&pagesize=10")
        .await
        .json();
    assert_eq!(short["record"].as_array().map(Vec::len), Some(9));
    let full = client
        .get("/ws/schema/table/person?projection=id&pagesize=10")
        .await
        .json();
    assert_eq!(full["record"].as_array().map(Vec::len), Some(10));
    sim.inject(Fault::new(
        Match::post("/ws/schema/query"),
        FaultKind::Status500,
    ));
    let query = "/ws/schema/query/com.pearson.core.guardian.student_guardian_detail";
    assert_eq!(client.post(query, "{}").await.status, 500);
    assert_eq!(client.post(query, "{}").await.status, 200);
    sim.shutdown().await;
}
