//! Webhooks: a district's subscriber is told, with a signature it can check, when a run is
//! held by a threshold and when it ends — once each, in order, even when the service is
//! killed while the subscriber is refusing, or while a delivery is in flight.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use proto::v1 as pb;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;

use crate::harness::{
    create_sim_district, half_the_students_leave, run_to_end, subscribers_update, Server,
};

store::on_both_backends!(a_subscriber_is_told_of_held_and_ended_runs_once_each_across_a_kill);

const SECRET: &str = "whsec-district-ops-0123456789";

/// One request the receiver got: its signature, delivery id, body, and whether it was
/// taken (answered 2xx).
type Got = (String, String, Vec<u8>, bool);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<AtomicU16>,
    /// Hold each request without answering (for 30 s, then refuse it).
    hang: Arc<AtomicBool>,
}

async fn take(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let hang = r.hang.load(Ordering::SeqCst);
    let status = if hang {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    r.got.lock().expect("lock").push((
        header("rostersync-signature"),
        header("rostersync-delivery"),
        body.to_vec(),
        status.is_success(),
    ));
    if hang {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    status
}

async fn start_receiver() -> (Receiver, String) {
    let r = Receiver::default();
    r.status.store(200, Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

/// HMAC-SHA256 written out from its definition (RFC 2104), to check the service's
/// signature independently of how the service computes it.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// The body of a request whose signature is right (and recent), as JSON.
fn verified(signature: &str, body: &[u8]) -> Value {
    let (t, v1) = signature
        .split_once(",v1=")
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v)))
        .unwrap_or_else(|| panic!("a signature header: {signature:?}"));
    let mut message = t.as_bytes().to_vec();
    message.push(b'.');
    message.extend_from_slice(body);
    assert_eq!(
        hmac_sha256(SECRET.as_bytes(), &message),
        v1,
        "the signature checks"
    );
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().expect("a time");
    assert!((0..600).contains(&age), "a recent signature: {age} s");
    serde_json::from_slice(body).expect("JSON")
}

/// Waits until the receiver took a request for `kind`; its body.
async fn taken(r: &Receiver, kind: &str) -> Value {
    for _ in 0..600 {
        let found = r
            .got
            .lock()
            .expect("lock")
            .iter()
            .find(|(s, _, b, ok)| *ok && verified(s, b)["type"] == kind)
            .cloned();
        if let Some((s, _, b, _)) = found {
            return verified(&s, &b);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {kind} was delivered: {} requests",
        r.got.lock().expect("lock").len()
    );
}

/// The district's one subscriber: the receiver's webhook, signed with `secret`.
fn webhook(url: &str, secret: &str) -> pb::UpdateDistrictRequest {
    subscribers_update(
        "sim",
        vec![pb::Subscriber {
            name: "ops".into(),
            webhook_url: url.into(),
            secret: secret.into(),
            ..Default::default()
        }],
    )
}

async fn a_subscriber_is_told_of_held_and_ended_runs_once_each_across_a_kill(backend: Backend) {
    let (receiver, url) = start_receiver().await;
    let sim = Simulator::start(SimConfig {
        students: 40,
        schools: 1,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let mut server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, "sim", &sim, &[]).await;

    // A webhook without a secret is refused, naming it; with one, it is stored write-only.
    let refused = client
        .update_district(webhook(&url, ""))
        .await
        .expect_err("a webhook needs its secret");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("subscribers[0].secret"),
        "{refused:?}"
    );
    let stored = client
        .update_district(webhook(&url, SECRET))
        .await
        .expect("a subscriber")
        .into_inner();
    let shown = &stored
        .settings
        .as_ref()
        .expect("settings")
        .subscribers
        .as_ref()
        .expect("subscribers")
        .values[0];
    assert!(shown.secret_set && shown.secret.is_empty(), "{shown:?}");
    // Sent back without its secret (as read), the subscriber keeps it.
    client
        .update_district(webhook(&url, ""))
        .await
        .expect("the same subscriber, secret kept");

    // A sample, now.
    let test = client
        .test_notification(pb::TestNotificationRequest {
            district_id: "sim".into(),
            subscriber: "ops".into(),
        })
        .await
        .expect("test")
        .into_inner();
    assert!(test.delivered && test.http_status == 200, "{test:?}");
    assert_eq!(taken(&receiver, "test").await["district_id"], "sim");

    // The first sync is told as it ends.
    let first = run_to_end(&mut client, "sim", false).await;
    let told = taken(&receiver, "run.succeeded").await;
    assert_eq!(told["data"]["run_id"], first.run_id.as_str(), "{told}");
    assert!(
        told["data"]["counts"]["student.create"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{told}"
    );

    // The subscriber refuses; a threshold holds the next run; the service is killed while
    // it retries, and comes back once the subscriber takes requests again.
    receiver.status.store(503, Ordering::SeqCst);
    half_the_students_leave(&sim);
    let held = run_to_end(&mut client, "sim", false).await;
    assert_eq!(held.state(), pb::RunState::Paused, "{held:?}");
    for _ in 0..300 {
        if receiver
            .got
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, _, _, ok)| !ok)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        receiver
            .got
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, _, _, ok)| !ok),
        "the held run was tried while the subscriber refused"
    );
    server.kill();
    receiver.status.store(200, Ordering::SeqCst);
    server.restart();
    let told = taken(&receiver, "run.held").await;
    assert_eq!(told["data"]["run_id"], held.run_id.as_str(), "{told}");
    assert_eq!(told["data"]["outcome"], "held");
    let trips = told["data"]["thresholds_tripped"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        trips.iter().any(|t| t["limit"] == "students_archived"),
        "{told}"
    );

    // Cancelled after review: told after the hold, never before.
    let mut client = server.client().await;
    client
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: "sim".into(),
            run_id: held.run_id.clone(),
        })
        .await
        .expect("cancel");
    taken(&receiver, "run.cancelled").await;

    // The service is killed while a delivery is in flight (the subscriber holds the
    // request, unanswered): back again, it delivers that event, once.
    receiver.hang.store(true, Ordering::SeqCst);
    let sent_before = receiver.got.lock().expect("lock").len();
    let again = run_to_end(&mut client, "sim", false).await;
    assert_eq!(again.state(), pb::RunState::Paused, "{again:?}");
    let mut in_flight = false;
    for _ in 0..300 {
        in_flight = receiver.got.lock().expect("lock").len() > sent_before;
        if in_flight {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(in_flight, "the held run's delivery was under way");
    server.kill();
    receiver.hang.store(false, Ordering::SeqCst);
    server.restart();
    for _ in 0..600 {
        let held_taken = receiver
            .got
            .lock()
            .expect("lock")
            .iter()
            .filter(|(s, _, b, ok)| {
                *ok && verified(s, b)["data"]["run_id"] == again.run_id.as_str()
            })
            .count();
        if held_taken > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut client = server.client().await;
    client
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: "sim".into(),
            run_id: again.run_id.clone(),
        })
        .await
        .expect("cancel");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.got.lock().expect("lock").clone();
    let accepted: Vec<String> = got
        .iter()
        .filter(|(_, _, _, ok)| *ok)
        .map(|(s, _, b, _)| {
            verified(s, b)["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        accepted,
        [
            "test",
            "run.succeeded",
            "run.held",
            "run.cancelled",
            "run.held",
            "run.cancelled"
        ],
        "each taken once, in order"
    );
    // The delivery cut by the kill and the one taken after name the same delivery.
    let again_ids: Vec<&str> = got
        .iter()
        .filter(|(s, _, b, _)| {
            let v = verified(s, b);
            v["type"] == "run.held" && v["data"]["run_id"] == again.run_id.as_str()
        })
        .map(|(_, id, _, _)| id.as_str())
        .collect();
    assert!(again_ids.len() >= 2, "{again_ids:?}");
    assert!(again_ids.windows(2).all(|w| w[0] == w[1]), "{again_ids:?}");
    // Every attempt at one event names the same delivery.
    let held_ids: Vec<&str> = got
        .iter()
        .filter(|(s, _, b, _)| {
            let v = verified(s, b);
            v["type"] == "run.held" && v["data"]["run_id"] == held.run_id.as_str()
        })
        .map(|(_, id, _, _)| id.as_str())
        .collect();
    assert!(held_ids.len() >= 2, "{held_ids:?}");
    assert!(held_ids.windows(2).all(|w| w[0] == w[1]), "{held_ids:?}");
}
