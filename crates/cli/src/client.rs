//! Commands that talk to a running server over gRPC.

use anyhow::Context;
use proto::v1 as pb;
use proto::v1::sync_service_client::SyncServiceClient;
use tonic::transport::Channel;

/// Connects to the server at `server` (`http://host:port` or `host:port`).
pub async fn connect(server: &str) -> anyhow::Result<SyncServiceClient<Channel>> {
    let url = if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    };
    let channel = Channel::from_shared(url.clone())
        .with_context(|| format!("{server:?} is not a server address"))?
        .connect()
        .await
        .with_context(|| format!("cannot reach the rostersync server at {url}; is it running? (--server or ROSTERSYNC_SERVER)"))?;
    Ok(SyncServiceClient::new(channel))
}

/// A gRPC error as one line for a terminal.
pub fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

/// `rostersync district test ID`: prints each step; fails when one failed.
pub async fn test_connection(server: &str, district: &str) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    let report = client
        .test_connection(pb::TestConnectionRequest {
            district_id: district.to_owned(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print!("{}", render_check(district, &report));
    if report.ok {
        Ok(())
    } else {
        anyhow::bail!("the connection test of district {district} failed")
    }
}

/// The report of a connection test as text.
pub fn render_check(district: &str, report: &pb::TestConnectionResponse) -> String {
    let mut out = String::new();
    let source = if report.source_version.is_empty() {
        String::new()
    } else {
        format!(" ({})", report.source_version)
    };
    out.push_str(&format!("district {district}{source}\n"));
    for step in &report.steps {
        let mark = match pb::CheckOutcome::try_from(step.outcome) {
            Ok(pb::CheckOutcome::Passed) => "ok  ",
            Ok(pb::CheckOutcome::Failed) => "FAIL",
            Ok(pb::CheckOutcome::Skipped) => "skip",
            _ => "?   ",
        };
        out.push_str(&format!("  {mark} {}: {}\n", step.name, step.detail));
        if !step.cause.is_empty() {
            out.push_str(&format!("       cause: {}\n", step.cause));
        }
    }
    let verdict = if report.ok { "OK" } else { "FAILED" };
    out.push_str(&format!("{verdict}: {}\n", report.summary));
    out
}
