//! Connector factories and the registry that selects one by a district's configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use model::district::{ConnectorConfig, DistrictSettings};
use model::{Secret, ValidationErrors};

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
    /// setting (or the other way round) is refused, so a secret never lands where it
    /// would be returned. With `keep_secrets_of` of the same kind, secrets left out keep
    /// their stored value. Every problem is named under `connector.`.
    pub fn config_from_parts(
        &self,
        kind: &str,
        settings: BTreeMap<String, String>,
        secrets: BTreeMap<String, String>,
        keep_secrets_of: Option<&ConnectorConfig>,
    ) -> Result<ConnectorConfig, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let factory = match self.get(kind) {
            Ok(f) => f,
            Err(e) => {
                errors.push("connector.kind", e.to_string());
                return Err(errors);
            }
        };
        let mut config = ConnectorConfig {
            kind: kind.to_owned(),
            ..ConnectorConfig::default()
        };
        if let Some(previous) = keep_secrets_of.filter(|p| p.kind == kind) {
            config.secrets = previous.secrets.clone();
        }
        for (name, value) in settings {
            if let Err(e) = set_setting(factory.settings(), &mut config, &name, value) {
                errors.push(format!("connector.settings.{name}"), e);
            }
        }
        for (name, value) in secrets {
            if let Err(e) = set_secret(factory.settings(), &mut config, &name, value) {
                errors.push(format!("connector.secrets.{name}"), e);
            }
        }
        errors.into_result(config)
    }
}

/// Sets one plain setting (an empty value clears it); refuses a secret's name.
pub fn set_setting(
    specs: &[SettingSpec],
    config: &mut ConnectorConfig,
    name: &str,
    value: String,
) -> Result<(), &'static str> {
    if specs.iter().any(|s| s.name == name && s.secret) {
        return Err("is a secret: give it under connector.secrets");
    }
    if value.trim().is_empty() {
        config.settings.remove(name);
    } else {
        config.settings.insert(name.to_owned(), value);
    }
    Ok(())
}

/// Sets one secret (an empty value clears it); refuses a name that is not a secret.
pub fn set_secret(
    specs: &[SettingSpec],
    config: &mut ConnectorConfig,
    name: &str,
    value: String,
) -> Result<(), &'static str> {
    if !specs.iter().any(|s| s.name == name && s.secret) {
        return Err("is not a secret of this connector: give it under connector.settings");
    }
    if value.is_empty() {
        config.secrets.remove(name);
    } else {
        config.secrets.insert(name.to_owned(), Secret::new(value));
    }
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
        let created = reg
            .config_from_parts(
                "demo",
                flat(&[("base_url", "https://a.example")]),
                flat(&[("token", "t0k")]),
                None,
            )
            .unwrap_or_default();
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
        let err = reg
            .config_from_parts(
                "demo",
                flat(&[("token", "t0k")]),
                flat(&[("base_url", "https://a.example")]),
                None,
            )
            .expect_err("must be refused");
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["connector.settings.token", "connector.secrets.base_url"]
        );
        assert!(!err.to_string().contains("t0k"), "{err}");
    }
}
