//! The Prometheus `/metrics` listener, apart from the gRPC one: the `metrics` facade's
//! recorder (what the engine and the connectors count) rendered in Prometheus' text
//! format. Durations are histograms with buckets from 5 ms to 2 hours.

use std::net::SocketAddr;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of the `*_seconds` histograms.
const SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    1800.0, 3600.0, 7200.0,
];

/// Installs the recorder and serves `/metrics` on `at` until `shutdown`. Prints the bound
/// address (port 0 picks one).
pub async fn serve(
    at: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .context("metrics buckets")?
        .install_recorder()
        .context("install the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .with_context(|| format!("bind the metrics listener {at}"))?;
    let addr = listener.local_addr().context("read the metrics address")?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    println!("metrics listening on {addr}");
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || render(handle.clone())),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn render(handle: PrometheusHandle) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}
