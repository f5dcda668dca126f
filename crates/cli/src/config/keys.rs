//! Every configuration key: its name in the file, its environment variable, its meaning.

/// Every configuration key, its environment variable and what it means.
pub const KEYS: &[(&str, &str, &str)] = &[
    (
        "listen",
        "ROSTERSYNC_LISTEN",
        "address the gRPC server binds (default 127.0.0.1:50051)",
    ),
    (
        "data_dir",
        "ROSTERSYNC_DATA_DIR",
        "directory of the embedded SQLite database (default ./data)",
    ),
    (
        "database_url",
        "ROSTERSYNC_DATABASE_URL",
        "sqlite://PATH or postgres://…; empty: SQLite in data_dir (DATABASE_URL is read too)",
    ),
    (
        "instance_id",
        "ROSTERSYNC_INSTANCE_ID",
        "this replica's name on run leases; unique per replica (default: the host name)",
    ),
    (
        "smtp_url",
        "ROSTERSYNC_SMTP_URL",
        "the SMTP server e-mail notifications go through: smtp://HOST:PORT, smtp://HOST:587?tls=required (STARTTLS), smtps://USER:PASSWORD@HOST:465; empty: no e-mail (e-mail subscribers are refused). Never printed",
    ),
    (
        "smtp_from",
        "ROSTERSYNC_SMTP_FROM",
        "the sender of e-mail notifications (default rostersync@localhost)",
    ),
    (
        "run_lease_seconds",
        "ROSTERSYNC_RUN_LEASE_SECONDS",
        "how long a run's lease lasts unrenewed before another replica takes the run over (5-3600, default 60)",
    ),
    (
        "sealing_key",
        "ROSTERSYNC_SEALING_KEY",
        "the key that seals connector secrets at rest (64 hex digits or base64 of 32 bytes); older keys follow, comma-separated, so what they sealed still opens. Never printed",
    ),
    (
        "sealing_key_file",
        "ROSTERSYNC_SEALING_KEY_FILE",
        "a file holding the sealing key (one per line, current first); default DATA_DIR/sealing.key, created on first start with the embedded SQLite",
    ),
    (
        "max_connections",
        "ROSTERSYNC_MAX_CONNECTIONS",
        "the most client connections served at once; more wait until one closes (1-100000, default 1024)",
    ),
    (
        "max_connections_per_client",
        "ROSTERSYNC_MAX_CONNECTIONS_PER_CLIENT",
        "the most connections one client address (an IPv6 /64) may hold; its further ones are closed at once (1-100000, default 64)",
    ),
    (
        "first_call_seconds",
        "ROSTERSYNC_FIRST_CALL_SECONDS",
        "a connection that makes no call this long after connecting is closed (1-3600, default 5)",
    ),
    (
        "idle_timeout_seconds",
        "ROSTERSYNC_IDLE_TIMEOUT_SECONDS",
        "a connection whose client sends nothing this long is closed; live gRPC clients answer the server's pings (1-86400, default 120)",
    ),
    (
        "connector_targets",
        "ROSTERSYNC_CONNECTOR_TARGETS",
        "where connectors may send requests: public (default: public addresses only), private (also the RFC 1918 ranges of a district's own network) or any (loopback too: the demo and tests)",
    ),
    (
        "metrics_listen",
        "ROSTERSYNC_METRICS_LISTEN",
        "address of the Prometheus /metrics listener, apart from the gRPC one (default: none, no metrics served)",
    ),
    (
        "imports_dir",
        "ROSTERSYNC_IMPORTS_DIR",
        "the drop folders: a guardians.csv put in IMPORTS_DIR/<district>/ is imported once, then moved to done/ or failed/ with its report (default DATA_DIR/imports)",
    ),
    (
        "tls_cert",
        "ROSTERSYNC_TLS_CERT",
        "PEM certificate chain of the gRPC listener; with tls_key, the server speaks TLS only (default: none, plaintext)",
    ),
    (
        "tls_key",
        "ROSTERSYNC_TLS_KEY",
        "PEM private key of tls_cert",
    ),
    (
        "tls_client_ca",
        "ROSTERSYNC_TLS_CLIENT_CA",
        "PEM certificates of the authority client certificates must be signed by; set, every client must present one (default: none)",
    ),
    (
        "insecure_no_auth",
        "ROSTERSYNC_INSECURE_NO_AUTH",
        "true lets serve start on a non-loopback address while no API key exists (anyone who reaches it may do anything until the first key is made); default false",
    ),
    (
        "log.level",
        "ROSTERSYNC_LOG_LEVEL",
        "tracing filter, e.g. info or rostersync=debug (default info)",
    ),
    (
        "log.format",
        "ROSTERSYNC_LOG_FORMAT",
        "text or json (default text)",
    ),
];
