//! Settings descriptions and the reader that turns a stored configuration into a
//! connector's typed settings, reporting every problem with its field name.

use std::collections::BTreeSet;

use model::district::ConnectorConfig;
use model::{Secret, ValidationErrors};

/// One setting a connector needs, as `ListConnectors` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingSpec {
    pub name: &'static str,
    pub required: bool,
    /// Write-only: accepted on create and update, never returned or logged.
    pub secret: bool,
    pub help: &'static str,
    /// The value used when the setting is left out.
    pub default: Option<&'static str>,
    /// The only values accepted, when the setting is a choice.
    pub choices: &'static [&'static str],
    /// Says where requests go or whose data they read (a server URL, a token endpoint, a
    /// tenant): when it changes, the stored secrets are cleared unless new ones come in
    /// the same change, so a secret is never sent to a target it was not given for.
    pub target: bool,
}

impl SettingSpec {
    pub const fn required(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            required: true,
            secret: false,
            help,
            default: None,
            choices: &[],
            target: false,
        }
    }

    pub const fn optional(name: &'static str, help: &'static str) -> Self {
        Self {
            required: false,
            ..Self::required(name, help)
        }
    }

    pub const fn secret(name: &'static str, help: &'static str) -> Self {
        Self {
            secret: true,
            ..Self::required(name, help)
        }
    }

    pub const fn with_default(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            required: false,
            ..self
        }
    }

    pub const fn with_choices(self, choices: &'static [&'static str]) -> Self {
        Self { choices, ..self }
    }

    /// Marks the setting as a connection target (see [`SettingSpec::target`]).
    pub const fn target(self) -> Self {
        Self {
            target: true,
            ..self
        }
    }
}

/// Whether `url` names the loopback (`localhost`, 127.0.0.0/8, `::1`): the only hosts
/// plain http is accepted for.
pub fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The longest a setting's value may be.
pub const MAX_VALUE: usize = model::limits::SETTING_VALUE;

/// Reads settings out of a [`ConnectorConfig`] against a connector's [`SettingSpec`]s.
/// Every getter records its problem and returns a placeholder so that one pass finds
/// every missing or malformed setting; [`SettingsReader::finish`] returns them all.
#[derive(Debug)]
pub struct SettingsReader<'a> {
    kind: &'static str,
    specs: &'static [SettingSpec],
    config: &'a ConnectorConfig,
    errors: ValidationErrors,
}

impl<'a> SettingsReader<'a> {
    /// Starts reading and reports at once every setting the connector does not know.
    pub fn new(
        kind: &'static str,
        specs: &'static [SettingSpec],
        config: &'a ConnectorConfig,
    ) -> Self {
        let mut errors = ValidationErrors::new();
        let known: BTreeSet<&str> = specs.iter().map(|s| s.name).collect();
        let given = config.settings.keys().chain(config.secrets.keys());
        for name in given {
            if !known.contains(name.as_str()) {
                let list: Vec<&str> = known.iter().copied().collect();
                errors.push(
                    format!("connector.settings.{}", model::limits::cut(name, 64)),
                    format!(
                        "is not a {kind} setting; known settings: {}",
                        list.join(", ")
                    ),
                );
            }
        }
        Self {
            kind,
            specs,
            config,
            errors,
        }
    }

    fn spec(&self, name: &str) -> Option<&'static SettingSpec> {
        self.specs.iter().find(|s| s.name == name)
    }

    fn push(&mut self, name: &str, message: String) {
        self.errors
            .push(format!("connector.settings.{name}"), message);
    }

    /// A plain setting: its value, its default, or a "required" error.
    pub fn text(&mut self, name: &str) -> String {
        let spec = self.spec(name);
        let value = self
            .config
            .settings
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(v) = value.as_ref().filter(|v| v.chars().count() > MAX_VALUE) {
            self.push(
                name,
                format!(
                    "is {} characters long; a setting holds at most {MAX_VALUE}",
                    v.chars().count()
                ),
            );
            return String::new();
        }
        match (value, spec) {
            (Some(v), Some(spec))
                if !spec.choices.is_empty() && !spec.choices.contains(&v.as_str()) =>
            {
                self.push(
                    name,
                    format!(
                        "{} is not one of: {}",
                        model::limits::echo(&v),
                        spec.choices.join(", ")
                    ),
                );
                v
            }
            (Some(v), _) => v,
            (
                None,
                Some(SettingSpec {
                    default: Some(d), ..
                }),
            ) => (*d).to_owned(),
            (None, Some(SettingSpec { required: true, .. })) => {
                self.push(name, format!("is required for {}", self.kind));
                String::new()
            }
            (None, _) => String::new(),
        }
    }

    /// An optional whole number within `range`; `None` when not set.
    pub fn number(&mut self, name: &str, range: std::ops::RangeInclusive<u64>) -> Option<u64> {
        let raw = self.text(name);
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.push(
                    name,
                    format!(
                        "{} is not a whole number from {} to {}",
                        model::limits::echo(&raw),
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A plain setting that must be an absolute http(s) URL. Plain http is accepted only
    /// for loopback hosts (simulators, local testing); a district's SIS speaks https.
    pub fn url(&mut self, name: &str) -> Option<url::Url> {
        let raw = self.text(name);
        if raw.is_empty() {
            return None;
        }
        let parsed = match url::Url::parse(&raw) {
            Ok(u) => u,
            Err(e) => {
                self.push(
                    name,
                    format!("{} is not a URL: {e}", model::limits::echo(&raw)),
                );
                return None;
            }
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            self.push(
                name,
                "must not hold a user name or password: credentials go in the connector's secrets"
                    .into(),
            );
            return None;
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            self.push(name, "must not hold a query or fragment".into());
            return None;
        }
        let loopback = is_loopback_host(&parsed);
        match parsed.scheme() {
            "https" if parsed.host().is_some() => Some(parsed),
            "http" if loopback => Some(parsed),
            "http" => {
                self.push(
                    name,
                    format!(
                        "{} must use https (plain http is accepted only for loopback addresses)",
                        model::limits::echo(&raw)
                    ),
                );
                None
            }
            _ => {
                self.push(
                    name,
                    format!(
                        "{} must be an https URL with a host",
                        model::limits::echo(&raw)
                    ),
                );
                None
            }
        }
    }

    /// A secret setting: its value or a "required" error.
    pub fn secret(&mut self, name: &str) -> Secret {
        match self.config.secrets.get(name).filter(|s| !s.is_empty()) {
            Some(s) => s.clone(),
            None => {
                let required = self.spec(name).is_some_and(|s| s.required);
                if required {
                    self.push(name, format!("is required for {}", self.kind));
                }
                Secret::new("")
            }
        }
    }

    /// Records a problem found by the connector's own checks.
    pub fn invalid(&mut self, name: &str, message: impl Into<String>) {
        self.push(name, message.into());
    }

    /// The typed settings if every setting was valid, else every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        self.errors.into_result(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[SettingSpec] = &[
        SettingSpec::required("base_url", "the server"),
        SettingSpec::secret("client_secret", "the secret"),
        SettingSpec::optional("mode", "a choice")
            .with_default("a")
            .with_choices(&["a", "b"]),
    ];

    fn config(settings: &[(&str, &str)], secrets: &[(&str, &str)]) -> ConnectorConfig {
        ConnectorConfig {
            kind: "demo".into(),
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            secrets: secrets
                .iter()
                .map(|(k, v)| ((*k).into(), Secret::new(*v)))
                .collect(),
        }
    }

    #[test]
    fn every_missing_and_unknown_setting_is_reported_at_once() {
        let cfg = config(&[("colour", "blue")], &[]);
        let mut r = SettingsReader::new("demo", SPECS, &cfg);
        let _ = r.url("base_url");
        let _ = r.secret("client_secret");
        let err = r.finish(()).expect_err("must be refused");
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "connector.settings.colour",
                "connector.settings.base_url",
                "connector.settings.client_secret"
            ]
        );
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        for (url, ok) in [
            ("https://sis.example.org", true),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:9", true),
            ("http://sis.example.org", false),
            ("ftp://sis.example.org", false),
            ("not a url", false),
            ("https://admin:hunter2@sis.example.org", false),
            ("https://sis.example.org/?next=evil", false),
        ] {
            let cfg = config(&[("base_url", url)], &[("client_secret", "s")]);
            let mut r = SettingsReader::new("demo", SPECS, &cfg);
            let parsed = r.url("base_url");
            assert_eq!(r.finish(parsed).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn choices_and_defaults_apply() {
        let cfg = config(
            &[("base_url", "https://x.example")],
            &[("client_secret", "s")],
        );
        let mut r = SettingsReader::new("demo", SPECS, &cfg);
        assert_eq!(r.text("mode"), "a");
        assert!(r.finish(()).is_ok());
        let cfg = config(
            &[("base_url", "https://x.example"), ("mode", "c")],
            &[("client_secret", "s")],
        );
        let mut r = SettingsReader::new("demo", SPECS, &cfg);
        let _ = r.text("mode");
        assert_eq!(
            r.finish(()).expect_err("must be refused").errors()[0].path,
            "connector.settings.mode"
        );
    }
}
