//! A Clever client over the raw HTTP client of [`super`]: bearer requests and a walk
//! that follows `next` links to the end.

use rostersync_sim::clever::{CleverSimConfig, Simulator};
use serde_json::Value;

use super::{send, HttpResponse};

/// A client holding the simulator's address and a bearer token.
pub struct CleverClient {
    pub base: String,
    pub token: String,
}

impl CleverClient {
    /// `GET target` with `Authorization: Bearer <token>`.
    pub async fn get(&self, target: &str) -> HttpResponse {
        send(
            &self.base,
            "GET",
            target,
            &[("Authorization", format!("Bearer {}", self.token))],
            b"",
        )
        .await
    }

    /// `GET target` with exactly these headers.
    pub async fn get_with(&self, target: &str, headers: &[(&str, String)]) -> HttpResponse {
        send(&self.base, "GET", target, headers, b"").await
    }

    /// Follows `next` links from `first` until there is none (or a page is empty);
    /// answers the records and how many pages it read.
    pub async fn walk(&self, first: &str) -> (Vec<Value>, usize) {
        let mut records = Vec::new();
        let mut pages = 0;
        let mut target = first.to_owned();
        loop {
            let answer = self.get(&target).await;
            assert_eq!(answer.status, 200, "{target}: {}", answer.text());
            let body = answer.json();
            pages += 1;
            let data = body["data"].as_array().cloned().unwrap_or_default();
            let empty = data.is_empty();
            records.extend(data.into_iter().map(|item| item["data"].clone()));
            match next_link(&body) {
                Some(next) if !empty => target = next,
                _ => return (records, pages),
            }
            assert!(pages < 10_000, "the walk does not end");
        }
    }
}

/// The `uri` of a link of a list answer.
pub fn link(body: &Value, rel: &str) -> Option<String> {
    body["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["uri"].as_str())
        .map(str::to_owned)
}

pub fn next_link(body: &Value) -> Option<String> {
    link(body, "next")
}

/// The `data` records of a list answer.
pub fn records(body: &Value) -> Vec<Value> {
    body["data"]
        .as_array()
        .map(|items| items.iter().map(|i| i["data"].clone()).collect())
        .unwrap_or_default()
}

/// The ids of a list answer's records.
pub fn ids(body: &Value) -> Vec<String> {
    records(body)
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

pub async fn start(config: CleverSimConfig) -> (Simulator, CleverClient) {
    let sim = Simulator::start(config).await.expect("simulator starts");
    let client = CleverClient {
        base: sim.base_url(),
        token: sim.token().to_owned(),
    };
    (sim, client)
}

pub async fn default_sim() -> (Simulator, CleverClient) {
    start(CleverSimConfig::default()).await
}
