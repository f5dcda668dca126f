//! Commands that talk to a running server over gRPC.

use std::path::PathBuf;

use anyhow::Context;
use proto::v1 as pb;
use proto::v1::sync_service_client::SyncServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// The server a client command calls, and how.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `http://host:port`, `https://host:port` or `host:port`.
    pub server: String,
    /// The API key sent as `authorization: Bearer …`.
    pub api_key: Option<String>,
    /// The authority that signed an https server's certificate (default: the system's).
    pub ca_cert: Option<PathBuf>,
    /// A client certificate and its key, for a server that asks for one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

/// Adds the API key to every call.
#[derive(Debug, Clone)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A client of the SyncService that sends the caller's key.
pub type Client = SyncServiceClient<InterceptedService<Channel, Bearer>>;

/// Connects to the target's server.
pub async fn connect(target: &Target) -> anyhow::Result<Client> {
    let server = &target.server;
    let url = if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    };
    let mut endpoint = Channel::from_shared(url.clone())
        .with_context(|| format!("{server:?} is not a server address"))?;
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_enabled_roots();
        if let Some(ca) = &target.ca_cert {
            let pem =
                std::fs::read(ca).with_context(|| format!("read --ca-cert {}", ca.display()))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        match (&target.client_cert, &target.client_key) {
            (Some(cert), Some(key)) => {
                let cert = std::fs::read(cert)
                    .with_context(|| format!("read --client-cert {}", cert.display()))?;
                let key = std::fs::read(key)
                    .with_context(|| format!("read --client-key {}", key.display()))?;
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            (None, None) => {}
            _ => anyhow::bail!("give --client-cert and --client-key together"),
        }
        endpoint = endpoint
            .tls_config(tls)
            .context("set up TLS to the server")?;
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach the rostersync server at {url}; is it running? (--server or ROSTERSYNC_SERVER)"))?;
    let bearer = match &target.api_key {
        Some(key) => Some(
            format!("Bearer {}", key.trim())
                .parse()
                .context("the API key (--api-key or ROSTERSYNC_API_KEY) is not text")?,
        ),
        None => None,
    };
    Ok(SyncServiceClient::with_interceptor(channel, Bearer(bearer)))
}

/// A gRPC error as one line for a terminal.
pub fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

/// `rostersync district test ID`: prints each step; fails when one failed.
pub async fn test_connection(server: &Target, district: &str) -> anyhow::Result<()> {
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
