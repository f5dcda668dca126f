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

pub mod convert;
pub mod page;
pub mod rpc;
pub mod status;

use std::future::Future;

use engine::Engine;
use proto::v1::sync_service_server::SyncServiceServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

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

    tonic::transport::Server::builder()
        .trace_fn(|request| tracing::info_span!("grpc", method = %request.uri().path()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(SyncServiceServer::new(rpc::SyncApi::new(engine)))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
