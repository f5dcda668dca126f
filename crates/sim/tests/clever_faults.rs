//! Fault injection and the request log of the Clever simulator over real HTTP.

mod common;

use std::time::{Duration, Instant};

use common::clever::{default_sim, ids, next_link};
use common::HttpResponse;
use rostersync_sim::clever::{Fault, FaultKind, Match};
use serde_json::Value;

/// Makes four matching requests to a fault that skips one and hits two.
async fn four_requests(kind: FaultKind) -> Vec<HttpResponse> {
    let (sim, client) = default_sim().await;
    sim.inject(Fault {
        when: Match::get("/v3.0/users"),
        kind,
        times: 2,
        skip: 1,
    });
    assert_eq!(
        client.get("/v3.0/schools").await.status,
        200,
        "other paths pass"
    );
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(client.get("/v3.0/users?role=student&limit=5").await);
    }
    assert_eq!(sim.faults_fired(), 2);
    let log: Vec<(u16, bool)> = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/v3.0/users")
        .map(|r| (r.status, r.fault.is_some()))
        .collect();
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.iter().map(|(_, f)| *f).collect::<Vec<_>>(),
        vec![false, true, true, false]
    );
    sim.shutdown().await;
    out
}

fn ok(r: &HttpResponse) -> bool {
    r.status == 200 && r.complete && serde_json::from_slice::<Value>(&r.body).is_ok()
}

fn faulted(answers: &[HttpResponse], hit: impl Fn(&HttpResponse) -> bool) {
    let pattern: Vec<bool> = answers.iter().map(hit).collect();
    assert_eq!(pattern, vec![false, true, true, false]);
    assert!(ok(&answers[0]) && ok(&answers[3]));
}

#[tokio::test]
async fn every_fault_fires_its_times_after_its_skip() {
    let answers = four_requests(FaultKind::Status500).await;
    faulted(&answers, |r| {
        r.status == 500 && r.json()["message"].is_string()
    });
    let answers = four_requests(FaultKind::TooManyRequests {
        retry_after_secs: 7,
    })
    .await;
    faulted(&answers, |r| {
        r.status == 429
            && r.header("retry-after") == Some("7")
            && r.header("x-ratelimit-remaining") == Some("0")
    });
    let answers = four_requests(FaultKind::Unauthorized).await;
    faulted(&answers, |r| {
        r.status == 401 && r.json()["message"].is_string()
    });
    let answers = four_requests(FaultKind::MalformedJson).await;
    faulted(&answers, |r| {
        r.status == 200 && serde_json::from_slice::<Value>(&r.body).is_err()
    });
    let answers = four_requests(FaultKind::DropMidBody).await;
    faulted(&answers, |r| {
        r.status == 200 && !r.complete && !r.body.is_empty()
    });
    let answers = four_requests(FaultKind::HtmlError { status: 502 }).await;
    faulted(&answers, |r| {
        r.status == 502
            && r.header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
            && serde_json::from_slice::<Value>(&r.body).is_err()
    });
    let answers = four_requests(FaultKind::ShortPage).await;
    faulted(&answers, |r| {
        r.json()["data"].as_array().map(Vec::len) == Some(4)
    });
    for answer in &answers {
        assert!(answer.header("x-ratelimit-remaining").is_some());
    }
}

#[tokio::test]
async fn a_short_page_keeps_its_next_link_past_the_lost_record() {
    let (sim, client) = default_sim().await;
    let full = client.get("/v3.0/users?role=contact&limit=5").await.json();
    sim.inject(Fault::new(Match::get("/v3.0/users"), FaultKind::ShortPage));
    let short = client.get("/v3.0/users?role=contact&limit=5").await.json();
    assert_eq!(ids(&short), ids(&full)[..4].to_vec());
    assert_eq!(
        next_link(&short),
        next_link(&full),
        "next still starts after the lost one"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_delay_answers_late_and_the_log_keeps_arrival_times() {
    let (sim, client) = default_sim().await;
    sim.inject(Fault::new(
        Match::any(),
        FaultKind::Delay(Duration::from_millis(300)),
    ));
    let started = Instant::now();
    let answer = client.get("/v3.0/sections?limit=2").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    client.get("/v3.0/schools").await;
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path, "/v3.0/sections");
    assert_eq!(log[0].query, "limit=2");
    assert_eq!(log[0].method, "GET");
    assert_eq!(
        log[0].fault,
        Some(FaultKind::Delay(Duration::from_millis(300)))
    );
    assert!(log[0].arrived <= log[1].arrived);
    sim.clear_requests();
    assert!(sim.requests().is_empty());
    sim.inject(Fault::new(Match::any(), FaultKind::Status500).times(5));
    sim.clear_faults();
    assert_eq!(client.get("/v3.0/schools").await.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_fault_counts_even_when_the_client_gives_up() {
    let (sim, client) = default_sim().await;
    sim.inject(Fault::new(
        Match::any(),
        FaultKind::Delay(Duration::from_secs(5)),
    ));
    let abandoned =
        tokio::time::timeout(Duration::from_millis(200), client.get("/v3.0/users")).await;
    assert!(abandoned.is_err());
    assert_eq!(sim.faults_fired(), 1);
    sim.shutdown().await;
}
