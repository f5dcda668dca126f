//! The server's configuration: one typed struct from layered sources — defaults, then
//! a TOML file, then `ROSTERSYNC_*` environment variables, then command-line flags —
//! validated once with every problem reported together, each naming its key and where
//! the value came from. The environment is passed in, never read from global state here.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the service keeps its embedded database when no `database_url` is given.
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// As given; see [`Config::database_url`] for the one to use.
    pub database_url: Option<String>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub instance_id: String,
    pub run_lease: std::time::Duration,
    /// The districts' drop folders, one per district beneath it.
    pub imports_dir: PathBuf,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Where connectors may send requests.
    pub connector_targets: connector::outbound::Targets,
    /// The connections the server takes.
    pub limits: api::listener::Limits,
    /// The sealing keys given directly (current first), if any.
    pub sealing_key: Option<model::Secret>,
    /// The file holding the sealing keys.
    pub sealing_key_file: PathBuf,
    /// The gRPC listener's certificate and key, if it speaks TLS.
    pub tls: Option<TlsFiles>,
    /// Whether serve may start open (no key yet) on a non-loopback address.
    pub insecure_no_auth: bool,
}

/// The files of the gRPC listener's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Set: clients must present a certificate this authority signed.
    pub client_ca: Option<PathBuf>,
}

impl Config {
    /// The database to open: the configured URL, or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("rostersync.db").display()
            ),
        }
    }

    /// The database URL for logs: a password in it is replaced.
    pub fn database_url_redacted(&self) -> String {
        redact_url_password(&self.database_url())
    }
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "file {}", p.display()),
            Origin::Env(v) => write!(f, "environment {v}"),
            Origin::Flag(n) => write!(f, "flag --{n}"),
        }
    }
}

/// Values set on the command line, by key.
pub type Flags = BTreeMap<&'static str, String>;

/// Every problem found in the configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

/// Loads and validates the configuration.
pub fn load(
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &Flags,
) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let mut values: BTreeMap<&'static str, (String, Origin)> = BTreeMap::new();
    values.insert("listen", (DEFAULT_LISTEN.to_owned(), Origin::Default));
    values.insert("data_dir", (DEFAULT_DATA_DIR.to_owned(), Origin::Default));
    values.insert("log.level", ("info".to_owned(), Origin::Default));
    values.insert("log.format", ("text".to_owned(), Origin::Default));
    values.insert("run_lease_seconds", ("60".to_owned(), Origin::Default));
    let host = env
        .get("HOSTNAME")
        .cloned()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "rostersync".to_owned());
    values.insert("instance_id", (host, Origin::Default));

    if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Ok(text) => read_toml(path, &text, &mut values, &mut problems),
            Err(e) => problems.push(format!("config file {}: {e}", path.display())),
        }
    }

    if let Some(url) = env.get("DATABASE_URL") {
        values.insert(
            "database_url",
            (url.clone(), Origin::Env("DATABASE_URL".into())),
        );
    }
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("ROSTERSYNC_") else {
            continue;
        };
        // The client commands' own variables (the server to call and how).
        let client = ["SERVER", "API_KEY", "CA_CERT", "CLIENT_CERT", "CLIENT_KEY"];
        if rest == "CONFIG" || rest.starts_with("TEST_") || client.contains(&rest) {
            continue;
        }
        match KEYS.iter().find(|(_, var, _)| var == name) {
            Some((key, _, _)) => {
                values.insert(key, (value.clone(), Origin::Env(name.clone())));
            }
            None => problems.push(format!(
                "{name}: unknown setting; known variables: {}",
                KEYS.iter()
                    .map(|(_, v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    for (key, value) in flags {
        let flag = key.replace(['.', '_'], "-");
        values.insert(key, (value.clone(), Origin::Flag(flag)));
    }

    let get = |key: &str| values.get(key).cloned();
    let mut fail = |key: &str, origin: &Origin, message: String| {
        problems.push(format!("{key} (from {origin}): {message}"));
    };

    let listen = match get("listen") {
        Some((v, origin)) => match v.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                fail(
                    "listen",
                    &origin,
                    format!("{v:?} is not a socket address such as 127.0.0.1:50051"),
                );
                None
            }
        },
        None => None,
    };
    let data_dir = match get("data_dir") {
        Some((v, origin)) if v.trim().is_empty() => {
            fail("data_dir", &origin, "is empty".into());
            PathBuf::new()
        }
        Some((v, _)) => PathBuf::from(v),
        None => PathBuf::from(DEFAULT_DATA_DIR),
    };
    let database_url = match get("database_url") {
        Some((v, _)) if v.trim().is_empty() => None,
        Some((v, origin)) => {
            let ok = v.starts_with("sqlite:")
                || v.starts_with("postgres://")
                || v.starts_with("postgresql://");
            if !ok {
                fail(
                    "database_url",
                    &origin,
                    format!(
                        "must start with sqlite: or postgres://, not {:?}",
                        redact_url_password(&v)
                    ),
                );
            }
            Some(v)
        }
        None => None,
    };
    let log_level = match get("log.level") {
        Some((v, origin)) => {
            if tracing_subscriber::EnvFilter::try_new(&v).is_err() {
                fail(
                    "log.level",
                    &origin,
                    format!("{v:?} is not a log filter such as info or rostersync=debug"),
                );
            }
            v
        }
        None => "info".into(),
    };
    let log_format = match get("log.format").map(|(v, o)| (v.to_ascii_lowercase(), o)) {
        Some((v, _)) if v == "text" => LogFormat::Text,
        Some((v, _)) if v == "json" => LogFormat::Json,
        Some((v, origin)) => {
            fail("log.format", &origin, format!("{v:?} is not text or json"));
            LogFormat::Text
        }
        None => LogFormat::Text,
    };

    let instance_id = match get("instance_id") {
        Some((v, origin)) => {
            let v = v.trim().to_owned();
            if v.is_empty() || v.len() > 100 {
                fail("instance_id", &origin, "must be 1 to 100 characters".into());
            }
            v
        }
        None => "rostersync".into(),
    };
    let run_lease = match get("run_lease_seconds") {
        Some((v, origin)) => match v.trim().parse::<u64>() {
            Ok(n) if (5..=3600).contains(&n) => std::time::Duration::from_secs(n),
            _ => {
                fail(
                    "run_lease_seconds",
                    &origin,
                    format!("{v:?} is not a whole number of seconds from 5 to 3600"),
                );
                std::time::Duration::from_secs(60)
            }
        },
        None => std::time::Duration::from_secs(60),
    };

    let imports_dir = match get("imports_dir") {
        Some((v, origin)) if v.trim().is_empty() => {
            fail("imports_dir", &origin, "is empty".into());
            PathBuf::new()
        }
        Some((v, _)) => PathBuf::from(v),
        None => data_dir.join("imports"),
    };

    let metrics_listen = match get("metrics_listen") {
        Some((v, _)) if v.trim().is_empty() => None,
        Some((v, origin)) => match v.trim().parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                fail(
                    "metrics_listen",
                    &origin,
                    format!("{v:?} is not a socket address such as 127.0.0.1:9464"),
                );
                None
            }
        },
        None => None,
    };

    let sealing_key = get("sealing_key")
        .map(|(v, _)| v)
        .filter(|v| !v.trim().is_empty())
        .map(model::Secret::new);
    let sealing_key_file = match get("sealing_key_file") {
        Some((v, _)) if !v.trim().is_empty() => PathBuf::from(v),
        _ => data_dir.join("sealing.key"),
    };

    let connector_targets = match get("connector_targets") {
        Some((v, origin)) => connector::outbound::Targets::parse(&v).unwrap_or_else(|| {
            fail(
                "connector_targets",
                &origin,
                format!("{v:?} is not public, private or any"),
            );
            connector::outbound::Targets::Public
        }),
        None => connector::outbound::Targets::Public,
    };

    let mut number = |key: &str, range: std::ops::RangeInclusive<u64>, default: u64| match get(key)
    {
        Some((v, origin)) => match v.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                fail(
                    key,
                    &origin,
                    format!(
                        "{v:?} is not a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
        },
        None => default,
    };
    let limits = api::listener::Limits {
        max_connections: number("max_connections", 1..=100_000, 1024) as usize,
        per_peer: number("max_connections_per_client", 1..=100_000, 64) as usize,
        first_call: std::time::Duration::from_secs(number("first_call_seconds", 1..=3600, 5)),
        idle: std::time::Duration::from_secs(number("idle_timeout_seconds", 1..=86_400, 120)),
    };

    let file = |key: &str| {
        get(key)
            .map(|(v, _)| v)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    };
    let tls = match (file("tls_cert"), file("tls_key"), file("tls_client_ca")) {
        (Some(cert), Some(key), client_ca) => Some(TlsFiles {
            cert,
            key,
            client_ca,
        }),
        (None, None, None) => None,
        (None, None, Some(_)) => {
            problems.push("tls_client_ca: needs tls_cert and tls_key (client certificates are checked over TLS)".into());
            None
        }
        (Some(_), None, _) => {
            problems.push("tls_key: is required with tls_cert".into());
            None
        }
        (None, Some(_), _) => {
            problems.push("tls_cert: is required with tls_key".into());
            None
        }
    };
    let insecure_no_auth = match get("insecure_no_auth") {
        Some((v, origin)) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            _ => {
                problems.push(format!(
                    "insecure_no_auth (from {origin}): {v:?} is not true or false"
                ));
                false
            }
        },
        None => false,
    };

    match (listen, problems.is_empty()) {
        (Some(listen), true) => Ok(Config {
            tls,
            insecure_no_auth,
            limits,
            connector_targets,
            sealing_key,
            sealing_key_file,
            imports_dir,
            metrics_listen,
            listen,
            data_dir,
            database_url,
            log_level,
            log_format,
            instance_id,
            run_lease,
        }),
        _ => Err(ConfigError(problems)),
    }
}

/// Flattens a TOML document into dotted keys, rejecting unknown ones.
fn read_toml(
    path: &Path,
    text: &str,
    values: &mut BTreeMap<&'static str, (String, Origin)>,
    problems: &mut Vec<String>,
) {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("config file {}: {e}", path.display()));
            return;
        }
    };
    let mut flat = Vec::new();
    flatten("", &table, &mut flat);
    for (key, value) in flat {
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                problems.push(format!(
                    "{key} (from file {}): {} is not a string",
                    path.display(),
                    other.type_str()
                ));
                continue;
            }
        };
        match KEYS.iter().find(|(k, _, _)| *k == key) {
            Some((k, _, _)) => {
                values.insert(k, (text, Origin::File(path.to_owned())));
            }
            None => problems.push(format!(
                "{key} (from file {}): unknown key; known keys: {}",
                path.display(),
                KEYS.iter()
                    .map(|(k, _, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn flatten<'a>(prefix: &str, table: &'a toml::Table, out: &mut Vec<(String, &'a toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => out.push((key, other)),
        }
    }
}

/// `postgres://user:password@host/db` → `postgres://user:***@host/db`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let c = load(None, &env(&[]), &Flags::new()).expect("defaults are valid");
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.database_url(), "sqlite://./data/rostersync.db?mode=rwc");
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn file_then_env_then_flags_win_in_that_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rostersync.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:1\"\ndata_dir = \"/var/lib/a\"\n[log]\nformat = \"json\"\n",
        )
        .expect("write");
        let e = env(&[
            ("ROSTERSYNC_LISTEN", "127.0.0.1:2"),
            ("ROSTERSYNC_DATA_DIR", "/var/lib/b"),
        ]);
        let mut flags = Flags::new();
        flags.insert("listen", "127.0.0.1:3".into());
        let c = load(Some(&path), &e, &flags).expect("valid");
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/b"));
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_key_and_origin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rostersync.toml");
        std::fs::write(&path, "listne = \"x\"\n[log]\nformat = \"xml\"\n").expect("write");
        let e = env(&[
            ("ROSTERSYNC_LISTEN", "nowhere"),
            ("ROSTERSYNC_DATABSE_URL", "x"),
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
        ]);
        let err = load(Some(&path), &e, &Flags::new()).expect_err("must be refused");
        let text = err.to_string();
        for needle in [
            "listne (from file",
            "unknown key",
            "ROSTERSYNC_DATABSE_URL: unknown setting",
            "listen (from environment ROSTERSYNC_LISTEN)",
            "database_url (from environment DATABASE_URL)",
            "log.format (from file",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        assert!(!text.contains("hunter2"), "a password leaked into:\n{text}");
        assert_eq!(err.0.len(), 5, "{text}");
    }

    #[test]
    fn postgres_urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url_password("postgres://app:s3cret@db.example:5432/rs"),
            "postgres://app:***@db.example:5432/rs"
        );
        assert_eq!(
            redact_url_password("postgres://postgres@127.0.0.1/rs"),
            "postgres://postgres@127.0.0.1/rs"
        );
    }
}
