//! What an outside review got through, closed: silent connections cannot lock clients
//! out, an open stream ends within a second of its key's revoke, a closed log takes no
//! request or run down, and a request the transport cannot read is the caller's fault
//! (INVALID_ARGUMENT, RESOURCE_EXHAUSTED when too large), never INTERNAL.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tonic::Code;

use crate::access::{cli_key, ALL};
use crate::harness::{create_sim_district, powerschool_request, run_to_end, stdout, Server};

store::on_both_backends!(a_revoked_key_loses_its_open_stream_within_a_second);

/// Silent connections one client opens at once.
const SILENT: usize = 1_500;

/// The client preface of HTTP/2 and an empty SETTINGS frame: a connection that opens
/// HTTP/2 properly, then asks nothing.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback address");
    socket.connect(to).await.expect("connect")
}

/// Waits until the server closes `s` (after whatever it sent first); false if it has
/// not by `deadline`.
async fn closed_by(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let read = tokio::time::timeout_at(deadline.into(), s.read(&mut buf)).await;
        match read {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_cannot_lock_clients_out() {
    let server = Server::start(Backend::Sqlite).await;
    let addr: SocketAddr = server.addr.parse().expect("address");
    let mut client = server.client().await;
    client
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("a client that calls is served");

    // One client opens more silent connections than the server has places (1,024), and
    // another opens HTTP/2 and asks nothing.
    let mut silent = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        silent.push(connect_from([127, 0, 0, 2], addr).await);
    }
    let mut asks_nothing = connect_from([127, 0, 0, 3], addr).await;
    asks_nothing.write_all(PREFACE).await.expect("preface");
    let held = Instant::now();

    // Health and calls are answered at once while they are held.
    let asked = Instant::now();
    let health = server.grpcurl(
        &["-connect-timeout", "5", "-max-time", "5"],
        &["grpc.health.v1.Health/Check"],
    );
    let health_took = asked.elapsed();
    assert!(
        health.status.success() && stdout(&health).contains("SERVING"),
        "health must answer while {SILENT} silent connections are held: {health:?}"
    );
    assert!(
        health_took < Duration::from_secs(3),
        "health took {health_took:?}"
    );
    let asked = Instant::now();
    client
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("still served");
    let mut fresh = server.client().await;
    fresh
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("a new client is served");
    let call_took = asked.elapsed();

    // Each connection that made no call is closed within its first seconds.
    let deadline = held + Duration::from_secs(15);
    let mut closed = 0;
    for s in &mut silent {
        closed += usize::from(closed_by(s, deadline).await);
    }
    assert_eq!(closed, SILENT, "every silent connection is closed");
    assert!(
        closed_by(&mut asks_nothing, deadline).await,
        "a connection that asks nothing is closed"
    );
    let all_closed = held.elapsed();
    assert!(
        all_closed < Duration::from_secs(10),
        "closed after {all_closed:?}"
    );
    eprintln!(
        "{SILENT} silent connections held: health answered in {health_took:?}, calls in {call_took:?}; all closed {all_closed:?} after they connected"
    );

    // The client that calls keeps its connection past those seconds.
    client
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("served after the silent ones are gone");
}

async fn a_revoked_key_loses_its_open_stream_within_a_second(backend: Backend) {
    let mut server = Server::start(backend).await;
    let root = cli_key(&server, "root", ALL);
    server.api_key = Some(root.clone());
    let mut admin = server.client().await;
    admin
        .create_district(powerschool_request("watched"))
        .await
        .expect("create a district");
    let reader = admin
        .create_api_key(pb::CreateApiKeyRequest {
            name: "watcher".into(),
            district_ids: vec!["watched".into()],
            abilities: vec!["read".into()],
        })
        .await
        .expect("create a key")
        .into_inner()
        .token;
    let mut watcher = server.client_with(Some(&reader)).await;
    let mut stream = watcher
        .watch_changes(pb::WatchChangesRequest {
            district_id: "watched".into(),
            from_now: true,
            ..Default::default()
        })
        .await
        .expect("open the stream")
        .into_inner();
    let ended = tokio::spawn(async move {
        let answer = stream.message().await;
        (Instant::now(), answer)
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!ended.is_finished(), "the stream waits for changes");

    let revoked = Instant::now();
    admin
        .revoke_api_key(pb::RevokeApiKeyRequest {
            name: "watcher".into(),
        })
        .await
        .expect("revoke");
    let (at, answer) = tokio::time::timeout(Duration::from_secs(5), ended)
        .await
        .expect("the stream ends")
        .expect("the task");
    let took = at.duration_since(revoked);
    let status = answer.expect_err("ended with a status");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("revoked"), "{status:?}");
    assert!(
        took < Duration::from_secs(1),
        "the stream ended {took:?} after the revoke"
    );
    eprintln!("revoke to a closed stream: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_log_takes_no_request_or_run_down() {
    let sim = Simulator::start(SimConfig {
        students: 60,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    // Standard error is closed before the first line: every log write fails.
    let server = Server::start_with_log_closed(Backend::Sqlite).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, "unlogged", &sim, &[]).await;
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        run_to_end(&mut client, "unlogged", false),
    )
    .await
    .expect("the run ends");
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    assert!(run.plan_items > 0);
    for _ in 0..20 {
        client
            .get_district(pb::GetDistrictRequest {
                district_id: "unlogged".into(),
            })
            .await
            .expect("answered");
    }
    let health = server.grpcurl(&[], &["grpc.health.v1.Health/Check"]);
    assert!(stdout(&health).contains("SERVING"), "{health:?}");
}

/// Sends one gRPC request whose body is `frames` as written, and returns its status.
async fn raw_call(addr: &str, method: &str, frames: &[u8]) -> (String, String) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (h2, connection) = h2::client::handshake(tcp).await.expect("HTTP/2");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut h2 = h2.ready().await.expect("ready");
    let request = tonic::codegen::http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/rostersync.v1.SyncService/{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (answer, mut body) = h2.send_request(request, false).expect("send");
    body.send_data(bytes::Bytes::copy_from_slice(frames), true)
        .expect("body");
    let answer = answer.await.expect("an answer");
    let header = |map: &tonic::codegen::http::HeaderMap, name: &str| {
        map.get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    if let Some(code) = header(answer.headers(), "grpc-status") {
        let message = header(answer.headers(), "grpc-message").unwrap_or_default();
        return (code, message);
    }
    let mut body = answer.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("data");
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body
        .trailers()
        .await
        .expect("trailers")
        .expect("a status in the trailers");
    (
        header(&trailers, "grpc-status").unwrap_or_default(),
        header(&trailers, "grpc-message").unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_invalid_and_oversize_is_resource_exhausted() {
    let server = Server::start(Backend::Sqlite).await;
    let invalid = (Code::InvalidArgument as i32).to_string();
    for (what, frames) in [
        ("a compression flag of 7", vec![7, 0, 0, 0, 2, 0x0a, 0x00]),
        (
            "a compressed message without an encoding",
            vec![1, 0, 0, 0, 0],
        ),
        ("a message cut short", vec![0, 0, 0, 0, 10, 0x0a, 0x03]),
        ("a frame header cut short", vec![0, 0, 0]),
    ] {
        let (code, message) = raw_call(&server.addr, "GetDistrict", &frames).await;
        assert_eq!(code, invalid, "{what}: {message}");
    }
    // A frame announcing 5 MiB: over the 4 MiB a message may be.
    let (code, message) = raw_call(&server.addr, "GetDistrict", &[0, 0, 0x50, 0, 0]).await;
    assert_eq!(
        code,
        (Code::ResourceExhausted as i32).to_string(),
        "{message}"
    );
    // So through a generated client too.
    let mut client = server.client().await;
    let big = client
        .get_district(pb::GetDistrictRequest {
            district_id: "x".repeat(5 << 20),
        })
        .await
        .expect_err("too large");
    assert_eq!(big.code(), Code::ResourceExhausted, "{big:?}");
    // The server is up and answers a well-formed call.
    client
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("answered");
}
