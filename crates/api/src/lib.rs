//! The gRPC surface: `rostersync.v1.SyncService`, `grpc.health.v1.Health` and gRPC
//! reflection in both `v1` and `v1alpha` (grpcurl 1.8 speaks v1alpha), served on a
//! listener the caller binds until a shutdown future resolves.
//!
//! Owns: proto ↔ model conversions ([`convert`]), one module per group of RPCs
//! ([`rpc`]), and the one place errors become `Status` codes ([`status`]).
//!
//! Must never: log a request or response body (they can carry secrets), return a
//! secret, or decide a domain rule — that is the engine's and the policy's job.
//! Start reading at [`serve`].

pub mod access;
pub mod convert;
pub mod listener;
pub mod page;
pub mod rpc;
pub mod status;

use std::future::Future;
use std::time::Duration;

use engine::Engine;
use proto::v1::sync_service_server::SyncServiceServer;
use tokio::net::TcpListener;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves every rostersync service on `listener` until `shutdown` resolves, then
/// finishes the calls under way and returns.
pub async fn serve(
    engine: Engine,
    listener: TcpListener,
    limits: listener::Limits,
    tls: Option<tonic::transport::ServerTlsConfig>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ApiError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<SyncServiceServer<rpc::SyncApi>>()
        .await;

    // Both reflection versions describe the same set of services, themselves included,
    // so `list` shows the same answer whichever version a client speaks.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    // Calls under way get SHUTDOWN_GRACE to finish once a stop is asked; streams that
    // would run on (a WatchChanges waits for more forever) are then cut, so the process
    // always exits. A run cut this way resumes when the service comes back.
    let (stopping, stop_asked) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let peers = std::sync::Arc::new(listener::Peers::default());
    let called = peers.clone();
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    let server = builder
        .trace_fn(|request| tracing::info_span!("grpc", method = %request.uri().path()))
        // A request the transport cannot read is the caller's fault, said as such.
        .layer(tower::util::MapResponseLayer::new(status::framing_answer))
        // A connection that makes a call keeps its place past the first seconds.
        .layer(tower::util::MapRequestLayer::new(move |request| {
            note_call(&called, &request);
            request
        }))
        .tcp_keepalive(Some(Duration::from_secs(60)))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(SyncServiceServer::new(rpc::SyncApi::new(engine)))
        .serve_with_incoming_shutdown(listener::incoming(listener, limits, peers), signal);
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => served?,
        () = async {
            if stop_asked.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "calls still open after the shutdown grace; cutting them");
        }
    }
    Ok(())
}

/// Tells the listener that the connection `request` came on made a call.
fn note_call(peers: &listener::Peers, request: &tonic::codegen::http::Request<tonic::body::Body>) {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    let ext = request.extensions();
    let remote = ext
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        });
    if let Some(remote) = remote {
        peers.called(remote);
    }
}

/// How long calls under way may take to finish once the service is asked to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Concurrent calls (HTTP/2 streams) one connection may hold.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 128;
