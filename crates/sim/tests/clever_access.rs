//! Bearer authentication and Clever's per-token rate limit over real HTTP: the four
//! `X-Ratelimit-*` headers on every answer, 429 once the window is spent, and a new
//! window after the reset.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::clever::{default_sim, start};
use rostersync_sim::clever::CleverSimConfig;

#[tokio::test]
async fn a_missing_or_wrong_token_answers_401_with_a_message() {
    let (sim, client) = default_sim().await;
    let cases = [
        vec![],
        vec![("Authorization", "Bearer wrong-token".to_owned())],
        vec![("Authorization", format!("Basic {}", sim.token()))],
        vec![("Authorization", "Bearer".to_owned())],
    ];
    for headers in cases {
        let answer = client.get_with("/v3.0/users", &headers).await;
        assert_eq!(answer.status, 401, "{headers:?}");
        assert!(answer.json()["message"].is_string());
        assert!(
            answer.header("x-ratelimit-limit").is_some(),
            "401s carry the headers too"
        );
    }
    sim.revoke_token();
    assert_eq!(
        client.get("/v3.0/districts").await.status,
        401,
        "a revoked token"
    );
    sim.restore_token();
    let ok = client
        .get_with(
            "/v3.0/districts",
            &[("Authorization", format!("bearer {}", sim.token()))],
        )
        .await;
    assert_eq!(ok.status, 200, "the scheme is case-insensitive");
    sim.shutdown().await;
}

#[tokio::test]
async fn every_answer_carries_the_rate_limit_headers() {
    let (sim, client) = default_sim().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut remaining = Vec::new();
    for path in [
        "/v3.0/districts",
        "/v3.0/users/000000000000000000000000",
        "/v3.0/users?limit=99999",
    ] {
        let answer = client.get(path).await;
        assert_eq!(
            answer.header("x-ratelimit-bucket"),
            Some("bearer"),
            "{path}"
        );
        assert_eq!(answer.header("x-ratelimit-limit"), Some("1200"), "{path}");
        let reset: u64 = answer
            .header("x-ratelimit-reset")
            .and_then(|v| v.parse().ok())
            .expect("reset");
        assert!(
            reset >= now && reset <= now + 61,
            "{reset} is within a minute of {now}"
        );
        remaining.push(
            answer
                .header("x-ratelimit-remaining")
                .and_then(|v| v.parse::<u32>().ok())
                .expect("remaining"),
        );
    }
    assert_eq!(remaining, vec![1199, 1198, 1197]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_spent_window_answers_429_until_it_resets() {
    let (sim, client) = start(CleverSimConfig {
        rate_limit: 3,
        rate_window: Duration::from_millis(1500),
        ..CleverSimConfig::default()
    })
    .await;
    sim.reset_rate_limits();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(client.get("/v3.0/districts").await);
    }
    let codes: Vec<u16> = statuses.iter().map(|a| a.status).collect();
    assert_eq!(codes, vec![200, 200, 200, 429], "the window holds 3");
    let refused = &statuses[3];
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!(refused.json()["message"].is_string());
    assert_eq!(refused.header("retry-after"), None, "not configured");
    let other = client
        .get_with(
            "/v3.0/districts",
            &[("Authorization", "Bearer someone-else".to_owned())],
        )
        .await;
    assert_eq!(other.status, 401, "another token has a window of its own");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let again = client.get("/v3.0/districts").await;
    assert_eq!(again.status, 200, "a new window");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_can_send_retry_after_and_an_html_body() {
    let (sim, client) = start(CleverSimConfig {
        rate_limit: 1,
        rate_window: Duration::from_secs(30),
        retry_after_on_429: true,
        html_429_body: true,
        ..CleverSimConfig::default()
    })
    .await;
    assert_eq!(client.get("/v3.0/schools").await.status, 200);
    let refused = client.get("/v3.0/schools").await;
    assert_eq!(refused.status, 429);
    let wait: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!((1..=30).contains(&wait));
    assert!(refused
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert!(refused.text().contains("<html>"));
    sim.shutdown().await;
}
