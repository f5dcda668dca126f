//! Connector factories and the registry that selects one by a district's configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use model::district::{ConnectorConfig, DistrictSettings};
use model::limits;
use model::{FieldError, Secret, ValidationErrors};

use crate::error::ConnectorError;
use crate::http::HttpConfig;
use crate::settings::SettingSpec;
use crate::source::Connector;

/// A connector kind: its name, what it needs and how to check a configuration of it.
/// Each connector crate exports one; the binary registers them all in one place.
pub trait ConnectorFactory: Send + Sync + fmt::Debug {
    /// The kind as stored and as callers write it (`powerschool`).
    fn kind(&self) -> &'static str;
    /// A human name (`PowerSchool SIS`).
    fn display_name(&self) -> &'static str;
    /// The link rules this source's relationships are held to; the policy holds them.
    fn link_rules(&self) -> model::link::LinkRuleSet;
    /// One sentence on what this connector reads and how it authenticates.
    fn description(&self) -> &'static str;
    /// The settings it needs, in the order a form would show them.
    fn settings(&self) -> &'static [SettingSpec];
    /// Parses the configuration into the connector's typed settings and checks the
    /// district settings this source constrains; reports every problem at once.
    fn validate(
        &self,
        config: &ConnectorConfig,
        district: &DistrictSettings,
    ) -> Result<(), ValidationErrors>;
    /// A working connector for `config`, talking HTTP as `http` says.
    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError>;
}

/// Every connector this build knows, by kind.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    factories: Vec<Arc<dyn ConnectorFactory>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a connector kind. A second factory of the same kind replaces the first.
    pub fn register(mut self, factory: Arc<dyn ConnectorFactory>) -> Self {
        self.factories.retain(|f| f.kind() != factory.kind());
        self.factories.push(factory);
        self
    }

    pub fn list(&self) -> &[Arc<dyn ConnectorFactory>] {
        &self.factories
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.factories.iter().map(|f| f.kind()).collect()
    }

    /// The factory of `kind`, or an error that lists the known kinds.
    pub fn get(&self, kind: &str) -> Result<&Arc<dyn ConnectorFactory>, ConnectorError> {
        self.factories
            .iter()
            .find(|f| f.kind() == kind)
            .ok_or_else(|| ConnectorError::UnknownKind {
                kind: kind.to_owned(),
                known: self.kinds().join(", "),
            })
    }

    /// The connector a district's configuration describes.
    pub fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        let mut http = http.clone();
        if http.source.is_empty() {
            http.source = config.kind.clone();
        }
        self.get(&config.kind)?.build(config, &http)
    }

    /// Builds a configuration of `kind` from a caller's plain settings and secrets, each
    /// name checked against the kind's settings description: a secret given as a plain
    /// setting (or the other way round), or a name the kind does not have, is refused, so
    /// a secret never lands where it would be returned. With `keep_secrets_of` of the same
    /// kind, secrets left out keep their stored value. Every problem goes to `errors`,
    /// named under `connector.`; the configuration of what was accepted comes back so the
    /// connector can still check it whole (every problem reported at once). `None` when
    /// the kind is unknown or a map holds more entries than a connector takes.
    pub fn config_from_parts(
        &self,
        kind: &str,
        settings: BTreeMap<String, String>,
        secrets: BTreeMap<String, String>,
        keep_secrets_of: Option<&ConnectorConfig>,
        errors: &mut ValidationErrors,
    ) -> Option<ConnectorConfig> {
        let factory = match self.get(kind) {
            Ok(f) => f,
            Err(e) => {
                errors.push("connector.kind", e.to_string());
                return None;
            }
        };
        if let Err(e) = limits::count("connector.secrets", secrets.len(), limits::SECRETS) {
            errors.0.push(e);
            return None;
        }
        let mut config = ConnectorConfig {
            kind: kind.to_owned(),
            ..ConnectorConfig::default()
        };
        if let Some(previous) = keep_secrets_of.filter(|p| p.kind == kind) {
            config.secrets = previous.secrets.clone();
        }
        if !replace_settings(factory.settings(), &mut config, settings, errors) {
            return None;
        }
        for (name, value) in secrets {
            if let Err(e) = set_secret(factory.settings(), &mut config, &name, value) {
                errors.0.push(e);
            }
        }
        Some(config)
    }
}

/// Replaces the plain settings of `config` with `settings`, each set as
/// [`set_setting`] sets it; at most [`limits::SETTINGS`] of them. Problems go to
/// `errors`; `false` when there were too many to look at.
pub fn replace_settings(
    specs: &[SettingSpec],
    config: &mut ConnectorConfig,
    settings: BTreeMap<String, String>,
    errors: &mut ValidationErrors,
) -> bool {
    config.settings.clear();
    if let Err(e) = limits::count("connector.settings", settings.len(), limits::SETTINGS) {
        errors.0.push(e);
        return false;
    }
    for (name, value) in settings {
        if let Err(e) = set_setting(specs, config, &name, value) {
            errors.0.push(e);
        }
    }
    true
}

/// The spec of setting `name` (a secret or a plain setting, as `secret` says), or the
/// error naming the field: one the connector does not know, or a secret given as a plain
/// setting (or the other way round), is refused, so a secret never lands where it would
/// be returned and no stray name is kept.
fn spec_of<'a>(
    specs: &'a [SettingSpec],
    name: &str,
    secret: bool,
) -> Result<&'a SettingSpec, FieldError> {
    let (under, what, other) = if secret {
        ("secrets", "secret", "settings")
    } else {
        ("settings", "setting", "secrets")
    };
    let path = format!("connector.{under}");
    limits::text(&path, name, limits::SETTING_NAME)?;
    let path = format!("{path}.{name}");
    match specs.iter().find(|s| s.name == name) {
        Some(spec) if spec.secret == secret => Ok(spec),
        Some(_) if secret => Err(FieldError::new(
            path,
            format!("is not a secret of this connector: give it under connector.{other}"),
        )),
        Some(_) => Err(FieldError::new(
            path,
            format!("is a secret: give it under connector.{other}"),
        )),
        None => {
            let known: Vec<&str> = specs
                .iter()
                .filter(|s| s.secret == secret)
                .map(|s| s.name)
                .collect();
            Err(FieldError::new(
                path,
                format!(
                    "is not a {what} of this connector; known {under}: {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// Sets one plain setting (an empty value clears it): a name the connector knows as a
/// plain setting, a one-line value of at most [`limits::SETTING_VALUE`] characters.
pub fn set_setting(
    specs: &[SettingSpec],
    config: &mut ConnectorConfig,
    name: &str,
    value: String,
) -> Result<(), FieldError> {
    let spec = spec_of(specs, name, false)?;
    if value.trim().is_empty() {
        config.settings.remove(name);
        return Ok(());
    }
    limits::text(
        &format!("connector.settings.{}", spec.name),
        &value,
        limits::SETTING_VALUE,
    )?;
    config.settings.insert(spec.name.to_owned(), value);
    Ok(())
}

/// Sets one secret (an empty value clears it): a name the connector knows as a secret,
/// a one-line value of at most [`limits::SECRET_VALUE`] characters. A refused value is
/// never quoted.
pub fn set_secret(
    specs: &[SettingSpec],
    config: &mut ConnectorConfig,
    name: &str,
    value: String,
) -> Result<(), FieldError> {
    let spec = spec_of(specs, name, true)?;
    if value.is_empty() {
        config.secrets.remove(name);
        return Ok(());
    }
    let path = format!("connector.secrets.{}", spec.name);
    let n = value.chars().count();
    if n > limits::SECRET_VALUE {
        return Err(FieldError::new(
            path,
            format!(
                "is {n} characters long; at most {} are accepted",
                limits::SECRET_VALUE
            ),
        ));
    }
    if value.chars().any(limits::is_hidden) {
        return Err(FieldError::new(
            path,
            "holds a control character (a line break?)",
        ));
    }
    config
        .secrets
        .insert(spec.name.to_owned(), Secret::new(value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SettingsReader;

    #[derive(Debug)]
    struct Demo;

    const SPECS: &[SettingSpec] = &[
        SettingSpec::required("base_url", "the server"),
        SettingSpec::secret("token", "the token"),
    ];

    impl ConnectorFactory for Demo {
        fn kind(&self) -> &'static str {
            "demo"
        }
        fn display_name(&self) -> &'static str {
            "Demo"
        }
        fn link_rules(&self) -> model::link::LinkRuleSet {
            model::link::LinkRuleSet::Clever
        }
        fn description(&self) -> &'static str {
            "a demo"
        }
        fn settings(&self) -> &'static [SettingSpec] {
            SPECS
        }
        fn validate(
            &self,
            config: &ConnectorConfig,
            _: &DistrictSettings,
        ) -> Result<(), ValidationErrors> {
            let mut r = SettingsReader::new("demo", SPECS, config);
            let _ = r.url("base_url");
            let _ = r.secret("token");
            r.finish(())
        }
        fn build(
            &self,
            _: &ConnectorConfig,
            _: &HttpConfig,
        ) -> Result<Arc<dyn Connector>, ConnectorError> {
            Err(ConnectorError::Unsupported {
                kind: "demo".into(),
                what: "pull".into(),
            })
        }
    }

    fn flat(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn unknown_kinds_list_the_known_ones() {
        let reg = Registry::new().register(Arc::new(Demo));
        let err = reg.get("sftp").expect_err("must be refused").to_string();
        assert!(err.contains("\"sftp\"") && err.contains("demo"), "{err}");
    }

    #[test]
    fn secrets_are_kept_apart_and_kept_on_replace_when_left_out() {
        let reg = Registry::new().register(Arc::new(Demo));
        let mut errors = ValidationErrors::new();
        let created = reg
            .config_from_parts(
                "demo",
                flat(&[("base_url", "https://a.example")]),
                flat(&[("token", "t0k")]),
                None,
                &mut errors,
            )
            .unwrap_or_default();
        assert!(errors.is_empty(), "{errors}");
        assert!(!created.settings.contains_key("token"));
        assert_eq!(
            created.secrets.get("token").map(|s| s.expose()),
            Some("t0k")
        );

        let replaced = reg
            .config_from_parts(
                "demo",
                flat(&[("base_url", "https://b.example")]),
                BTreeMap::new(),
                Some(&created),
                &mut errors,
            )
            .unwrap_or_default();
        assert_eq!(replaced.settings["base_url"], "https://b.example");
        assert_eq!(
            replaced.secrets.get("token").map(|s| s.expose()),
            Some("t0k")
        );
        assert!(reg
            .get("demo")
            .is_ok_and(|f| f.validate(&replaced, &DistrictSettings::default()).is_ok()));
    }

    #[test]
    fn a_secret_given_as_a_plain_setting_is_refused_by_name() {
        let reg = Registry::new().register(Arc::new(Demo));
        let mut err = ValidationErrors::new();
        let config = reg.config_from_parts(
            "demo",
            flat(&[("token", "t0k")]),
            flat(&[("base_url", "https://a.example")]),
            None,
            &mut err,
        );
        assert_eq!(
            config,
            Some(ConnectorConfig {
                kind: "demo".into(),
                ..Default::default()
            })
        );
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["connector.settings.token", "connector.secrets.base_url"]
        );
        assert!(!err.to_string().contains("t0k"), "{err}");
    }

    #[test]
    fn unknown_names_long_values_and_line_breaks_are_refused_alike() {
        let reg = Registry::new().register(Arc::new(Demo));
        let refused = |settings: &[(&str, &str)], secrets: &[(&str, &str)]| {
            let mut errors = ValidationErrors::new();
            let _ = reg.config_from_parts("demo", flat(settings), flat(secrets), None, &mut errors);
            assert!(!errors.is_empty());
            errors.to_string()
        };
        let err = refused(&[("base_url", "https://a.example"), ("nope", "")], &[]);
        assert!(
            err.starts_with("connector.settings.nope: is not a setting of this connector; known settings: base_url"),
            "{err}"
        );
        let err = refused(&[("base_url", "https://a.example\r\nX-Evil: 1")], &[]);
        assert!(err.contains("control character"), "{err}");
        let huge = "s".repeat(1_048_576);
        let err = refused(&[], &[("token", huge.as_str())]);
        assert_eq!(
            err,
            "connector.secrets.token: is 1048576 characters long; at most 4096 are accepted"
        );
        let err = refused(&[], &[("token", "t0k\n")]);
        assert!(
            err.contains("control character") && !err.contains("t0k"),
            "{err}"
        );
        let long_name = "n".repeat(100_000);
        let err = refused(&[(long_name.as_str(), "x")], &[]);
        assert!(
            err.starts_with("connector.settings: is 100000 characters long"),
            "{err}"
        );
        let many: Vec<(String, String)> =
            (0..10_000).map(|i| (format!("s{i}"), "x".into())).collect();
        let mut err = ValidationErrors::new();
        let config = reg.config_from_parts(
            "demo",
            many.into_iter().collect(),
            BTreeMap::new(),
            None,
            &mut err,
        );
        assert_eq!(config, None);
        assert_eq!(
            err.to_string(),
            "connector.settings: holds 10000 entries; at most 32 are accepted"
        );
    }
}
