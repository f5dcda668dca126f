//! The layers a configuration is read from — defaults, a TOML file, `ROSTERSYNC_*`
//! environment variables, command-line flags — into one map of values, each with where
//! it came from; and the typed readers each section uses, which report a problem with its
//! key and origin and carry on, so every problem is reported at once.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::keys::KEYS;
use super::{Flags, DEFAULT_DATA_DIR, DEFAULT_LISTEN};

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
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

/// The values read so far, and every problem found.
#[derive(Debug, Default)]
pub(super) struct Values {
    map: BTreeMap<&'static str, (String, Origin)>,
    pub problems: Vec<String>,
}

impl Values {
    /// The defaults, then the file, then the environment, then the flags.
    pub fn layered(file: Option<&Path>, env: &BTreeMap<String, String>, flags: &Flags) -> Values {
        let mut v = Values::default();
        v.defaults(env);
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => read_toml(path, &text, &mut v.map, &mut v.problems),
                Err(e) => v
                    .problems
                    .push(format!("config file {}: {e}", path.display())),
            }
        }
        v.environment(env);
        for (key, value) in flags {
            let flag = key.replace(['.', '_'], "-");
            v.map.insert(key, (value.clone(), Origin::Flag(flag)));
        }
        v
    }

    fn defaults(&mut self, env: &BTreeMap<String, String>) {
        let d = |v: &str| (v.to_owned(), Origin::Default);
        self.map.insert("listen", d(DEFAULT_LISTEN));
        self.map.insert("data_dir", d(DEFAULT_DATA_DIR));
        self.map.insert("log.level", d("info"));
        self.map.insert("log.format", d("text"));
        self.map.insert("run_lease_seconds", d("60"));
        let host = env
            .get("HOSTNAME")
            .cloned()
            .filter(|h| !h.trim().is_empty())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "rostersync".to_owned());
        self.map.insert("instance_id", (host, Origin::Default));
    }

    fn environment(&mut self, env: &BTreeMap<String, String>) {
        if let Some(url) = env.get("DATABASE_URL") {
            let origin = Origin::Env("DATABASE_URL".into());
            self.map.insert("database_url", (url.clone(), origin));
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
                    self.map
                        .insert(key, (value.clone(), Origin::Env(name.clone())));
                }
                None => self.problems.push(format!(
                    "{name}: unknown setting; known variables: {}",
                    KEYS.iter()
                        .map(|(_, v, _)| *v)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<(String, Origin)> {
        self.map.get(key).cloned()
    }

    /// A value that is set and not blank.
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|(v, _)| v)
            .filter(|v| !v.trim().is_empty())
    }

    pub fn fail(&mut self, key: &str, origin: &Origin, message: String) {
        self.problems
            .push(format!("{key} (from {origin}): {message}"));
    }

    /// A socket address; blank is none when `optional`.
    pub fn socket(&mut self, key: &str, example: &str, optional: bool) -> Option<SocketAddr> {
        let (v, origin) = self.get(key)?;
        if optional && v.trim().is_empty() {
            return None;
        }
        let parsed = v.trim().parse::<SocketAddr>().ok();
        if parsed.is_none() {
            let message = format!("{v:?} is not a socket address such as {example}");
            self.fail(key, &origin, message);
        }
        parsed
    }

    /// A directory: refused when blank; `default` when unset.
    pub fn dir(&mut self, key: &str, default: PathBuf) -> PathBuf {
        match self.get(key) {
            Some((v, origin)) if v.trim().is_empty() => {
                self.fail(key, &origin, "is empty".into());
                PathBuf::new()
            }
            Some((v, _)) => PathBuf::from(v),
            None => default,
        }
    }

    /// A whole number within `range`; `default` when unset or refused.
    pub fn number(&mut self, key: &str, range: std::ops::RangeInclusive<u64>, default: u64) -> u64 {
        let Some((v, origin)) = self.get(key) else {
            return default;
        };
        match v.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                let message = format!(
                    "{v:?} is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                );
                self.fail(key, &origin, message);
                default
            }
        }
    }

    /// A yes or no; false when unset.
    pub fn flag(&mut self, key: &str) -> bool {
        let Some((v, origin)) = self.get(key) else {
            return false;
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            _ => {
                self.fail(key, &origin, format!("{v:?} is not true or false"));
                false
            }
        }
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
