//! The server's configuration: one typed struct from layered sources — defaults, then
//! a TOML file, then `ROSTERSYNC_*` environment variables, then command-line flags
//! ([`layers`]) — validated once, one section at a time, with every problem reported
//! together, each naming its key and where the value came from. The environment is passed
//! in, never read from global state here.

mod keys;
mod layers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use keys::KEYS;
use layers::Values;

/// Where the service keeps its embedded database when no `database_url` is given.
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

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
    /// The SMTP server e-mail notifications go through, if any.
    pub mail: Option<MailSettings>,
}

/// How e-mail notifications leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// `smtp://…` or `smtps://…`; may hold a password, so it is never printed.
    pub url: model::Secret,
    pub from: String,
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
    let mut v = Values::layered(file, env, flags);
    let listen = v.socket("listen", "127.0.0.1:50051", false);
    let storage = storage(&mut v);
    let (log_level, log_format) = log(&mut v);
    let (instance_id, run_lease) = runs(&mut v);
    let metrics_listen = v.socket("metrics_listen", "127.0.0.1:9464", true);
    let connector_targets = connector_targets(&mut v);
    let limits = limits(&mut v);
    let tls = tls(&mut v);
    let insecure_no_auth = v.flag("insecure_no_auth");
    let mail = mail(&mut v);
    match (listen, v.problems.is_empty()) {
        (Some(listen), true) => Ok(Config {
            mail,
            tls,
            insecure_no_auth,
            limits,
            connector_targets,
            sealing_key: storage.sealing_key,
            sealing_key_file: storage.sealing_key_file,
            imports_dir: storage.imports_dir,
            metrics_listen,
            listen,
            data_dir: storage.data_dir,
            database_url: storage.database_url,
            log_level,
            log_format,
            instance_id,
            run_lease,
        }),
        _ => Err(ConfigError(v.problems)),
    }
}

/// Where the service keeps its data.
struct Storage {
    data_dir: PathBuf,
    database_url: Option<String>,
    imports_dir: PathBuf,
    sealing_key: Option<model::Secret>,
    sealing_key_file: PathBuf,
}

fn storage(v: &mut Values) -> Storage {
    let data_dir = v.dir("data_dir", PathBuf::from(DEFAULT_DATA_DIR));
    let database_url = match v.get("database_url") {
        Some((url, _)) if url.trim().is_empty() => None,
        Some((url, origin)) => {
            let ok = url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://");
            if !ok {
                let shown = redact_url_password(&url);
                let message = format!("must start with sqlite: or postgres://, not {shown:?}");
                v.fail("database_url", &origin, message);
            }
            Some(url)
        }
        None => None,
    };
    let imports_dir = v.dir("imports_dir", data_dir.join("imports"));
    let sealing_key = v.text("sealing_key").map(model::Secret::new);
    let sealing_key_file = v
        .text("sealing_key_file")
        .map_or_else(|| data_dir.join("sealing.key"), PathBuf::from);
    Storage {
        data_dir,
        database_url,
        imports_dir,
        sealing_key,
        sealing_key_file,
    }
}

fn log(v: &mut Values) -> (String, LogFormat) {
    let level = match v.get("log.level") {
        Some((level, origin)) => {
            if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
                let message =
                    format!("{level:?} is not a log filter such as info or rostersync=debug");
                v.fail("log.level", &origin, message);
            }
            level
        }
        None => "info".into(),
    };
    let format = match v
        .get("log.format")
        .map(|(f, o)| (f.to_ascii_lowercase(), o))
    {
        Some((f, _)) if f == "text" => LogFormat::Text,
        Some((f, _)) if f == "json" => LogFormat::Json,
        Some((f, origin)) => {
            v.fail("log.format", &origin, format!("{f:?} is not text or json"));
            LogFormat::Text
        }
        None => LogFormat::Text,
    };
    (level, format)
}

/// This replica's name on run leases, and how long a lease lasts.
fn runs(v: &mut Values) -> (String, std::time::Duration) {
    let instance_id = match v.get("instance_id") {
        Some((id, origin)) => {
            let id = id.trim().to_owned();
            if id.is_empty() || id.len() > 100 {
                v.fail("instance_id", &origin, "must be 1 to 100 characters".into());
            }
            id
        }
        None => "rostersync".into(),
    };
    let lease = match v.get("run_lease_seconds") {
        Some((s, origin)) => match s.trim().parse::<u64>() {
            Ok(n) if (5..=3600).contains(&n) => n,
            _ => {
                let message = format!("{s:?} is not a whole number of seconds from 5 to 3600");
                v.fail("run_lease_seconds", &origin, message);
                60
            }
        },
        None => 60,
    };
    (instance_id, std::time::Duration::from_secs(lease))
}

/// The SMTP server, when one is set; checked as the mailer reads it.
fn mail(v: &mut Values) -> Option<MailSettings> {
    let (url, origin) = v.get("smtp_url").filter(|(u, _)| !u.trim().is_empty())?;
    let url = url.trim().to_owned();
    let from = v
        .text("smtp_from")
        .unwrap_or_else(|| "rostersync@localhost".to_owned());
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        v.fail(
            "smtp_url",
            &origin,
            "is not an smtp:// or smtps:// URL".into(),
        );
        return None;
    }
    if let Err(why) = engine::mail::Mailer::new(&url, &from) {
        v.fail("smtp_url", &origin, why);
        return None;
    }
    Some(MailSettings {
        url: model::Secret::new(url),
        from,
    })
}

fn connector_targets(v: &mut Values) -> connector::outbound::Targets {
    use connector::outbound::Targets;
    let Some((t, origin)) = v.get("connector_targets") else {
        return Targets::Public;
    };
    Targets::parse(&t).unwrap_or_else(|| {
        let message = format!("{t:?} is not public, private or any");
        v.fail("connector_targets", &origin, message);
        Targets::Public
    })
}

/// The connections the server takes.
fn limits(v: &mut Values) -> api::listener::Limits {
    let secs = std::time::Duration::from_secs;
    api::listener::Limits {
        max_connections: v.number("max_connections", 1..=100_000, 1024) as usize,
        per_peer: v.number("max_connections_per_client", 1..=100_000, 64) as usize,
        first_call: secs(v.number("first_call_seconds", 1..=3600, 5)),
        idle: secs(v.number("idle_timeout_seconds", 1..=86_400, 120)),
    }
}

fn tls(v: &mut Values) -> Option<TlsFiles> {
    let file = |key: &str| v.text(key).map(PathBuf::from);
    let (cert, key, client_ca) = (file("tls_cert"), file("tls_key"), file("tls_client_ca"));
    let problem = match (cert, key, client_ca) {
        (Some(cert), Some(key), client_ca) => {
            return Some(TlsFiles {
                cert,
                key,
                client_ca,
            })
        }
        (None, None, None) => return None,
        (None, None, Some(_)) => {
            "tls_client_ca: needs tls_cert and tls_key (client certificates are checked over TLS)"
        }
        (Some(_), None, _) => "tls_key: is required with tls_cert",
        (None, Some(_), _) => "tls_cert: is required with tls_key",
    };
    v.problems.push(problem.into());
    None
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
