//! `rostersync serve`: open and migrate the store, bind, serve until a signal.

use anyhow::Context;
use engine::Engine;
use store::Store;

use crate::config::Config;
use crate::registry;

/// Opens the configured store, creating the data directory for the embedded default
/// and the SQLite file readable by this user only; connector secrets sealed with the
/// configured key.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = open_unsealed(config).await?;
    let embedded = config.database_url().starts_with("sqlite:");
    Ok(store.with_sealer(crate::sealing::sealer(config, embedded)?))
}

/// The store without its sealing key (migrations need none).
pub async fn open_unsealed(config: &Config) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("create the data directory {}", config.data_dir.display()))?;
    }
    let url = config.database_url();
    if let Some(path) = sqlite_path(&url) {
        private_file(&path)?;
    }
    Store::connect(&url)
        .await
        .with_context(|| format!("open the store at {}", config.database_url_redacted()))
}

/// The file of a `sqlite://PATH?…` URL (not an in-memory one).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Creates `path` (if missing) or narrows it to mode 0600: the database holds the
/// districts' records. SQLite gives its -wal and -shm files the database file's mode.
fn private_file(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create the database file {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("make {} private", path.display()))?;
    Ok(())
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    store.migrate().await.context("migrate the store")?;
    tracing::info!(database = %config.database_url_redacted(), backend = ?store.backend(), "store ready");
    serve_engine(&config, engine(&config, store)).await
}

/// The engine as configured: the connectors, this replica's name and lease span.
pub fn engine(config: &Config, store: Store) -> Engine {
    let engine = Engine::new(store, registry::connectors())
        .with_instance(&config.instance_id, config.run_lease)
        .with_http(connector::HttpConfig {
            targets: config.connector_targets,
            ..connector::HttpConfig::default()
        });
    let Some(mail) = &config.mail else {
        return engine;
    };
    // Checked when the configuration was read.
    match engine::mail::Mailer::new(mail.url.expose(), &mail.from) {
        Ok(mailer) => engine.with_mailer(mailer),
        Err(why) => {
            tracing::error!(error = %why, "e-mail notifications are off");
            engine
        }
    }
}

/// Binds the configured address and serves `engine` until a signal.
pub async fn serve_engine(config: &Config, engine: Engine) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("bind {}", config.listen))?;
    let addr = listener.local_addr().context("read the bound address")?;
    let tls = tls_config(config)?;
    check_open(config, &engine, addr).await?;
    tracing::info!(%addr, tls = tls.is_some(), "serving rostersync.v1.SyncService, grpc.health.v1.Health and reflection");
    // Scripts and tests read the bound address (port 0 picks one) from this line.
    println!("rostersync listening on {addr}");

    // One signal stops both the API and the background work (resume, nightly runs).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    if let Some(at) = config.metrics_listen {
        crate::metrics::serve(at, wait(stopped.clone())).await?;
    }
    let background = tokio::spawn(engine.schedule().background(wait(stopped.clone())));
    let drops = tokio::spawn(crate::drop_folder::watch(
        engine.clone(),
        config.imports_dir.clone(),
        wait(stopped.clone()),
    ));
    api::serve(engine, listener, config.limits, tls, wait(stopped)).await?;
    background.abort();
    drops.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Refuses to serve anonymous callers beyond this machine: while no API key exists,
/// every caller may do everything, so a non-loopback address needs a key first (or
/// `--insecure-no-auth`, said out loud).
async fn check_open(
    config: &Config,
    engine: &Engine,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let keys = engine
        .store()
        .any_api_keys()
        .await
        .context("read the API keys")?;
    if keys {
        tracing::info!("API keys are required on every call");
        return Ok(());
    }
    if addr.ip().is_loopback() {
        tracing::warn!(%addr, "no API key exists: callers on this machine are anonymous and may do anything until one is made (rostersync keys create)");
        return Ok(());
    }
    if config.insecure_no_auth {
        tracing::warn!(%addr, "no API key exists and --insecure-no-auth is set: ANYONE who reaches {addr} may do anything until a key is made (rostersync keys create)");
        return Ok(());
    }
    anyhow::bail!(
        "no API key exists, so anyone reaching {addr} could do anything: make one first \
         (rostersync keys create --name admin --ability admin --ability configure \
         --ability run --ability spot_sync --ability read), listen on a loopback address, \
         or start with --insecure-no-auth"
    )
}

/// The listener's TLS from the configured files, if TLS is on.
fn tls_config(config: &Config) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
    let Some(files) = &config.tls else {
        return Ok(None);
    };
    let read = |path: &std::path::Path, what: &str| -> anyhow::Result<Vec<u8>> {
        let bytes =
            std::fs::read(path).with_context(|| format!("read the {what} {}", path.display()))?;
        if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            anyhow::bail!("the {what} {} is not PEM", path.display());
        }
        Ok(bytes)
    };
    let cert = read(&files.cert, "TLS certificate (tls_cert)")?;
    let key = read(&files.key, "TLS key (tls_key)")?;
    let mut tls = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(cert, key));
    if let Some(ca) = &files.client_ca {
        let ca = read(ca, "client certificate authority (tls_client_ca)")?;
        tls = tls.client_ca_root(tonic::transport::Certificate::from_pem(ca));
    }
    Ok(Some(tls))
}

async fn wait(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
