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
        self.get(&config.kind)?.build(config, http)
    }

    /// Builds a configuration from a caller's flat `name → value` map: values of secret
    /// settings are moved into the write-only secrets. With `previous` of the same kind
    /// (an update), settings left out keep their stored value, a plain setting given as
    /// an empty string is cleared, and a secret given empty keeps the stored one.
    pub fn config_from_flat(
        &self,
        kind: &str,
        flat: BTreeMap<String, String>,
        previous: Option<&ConnectorConfig>,
    ) -> Result<ConnectorConfig, ConnectorError> {
        let factory = self.get(kind)?;
        let specs = factory.settings();
        let mut config = match previous {
            Some(p) if p.kind == kind => p.clone(),
            _ => ConnectorConfig {
                kind: kind.to_owned(),
                ..ConnectorConfig::default()
            },
        };
        for (name, value) in flat {
            let secret = specs.iter().any(|s| s.name == name && s.secret);
            if secret {
                if !value.is_empty() {
                    config.secrets.insert(name, Secret::new(value));
                }
            } else if value.trim().is_empty() {
                config.settings.remove(&name);
            } else {
                config.settings.insert(name, value);
            }
        }
        Ok(config)
    }
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
    fn secrets_are_split_out_and_kept_on_update_when_left_empty() {
        let reg = Registry::new().register(Arc::new(Demo));
        let created = reg
            .config_from_flat(
                "demo",
                flat(&[("base_url", "https://a.example"), ("token", "t0k")]),
                None,
            )
            .unwrap_or_default();
        assert!(!created.settings.contains_key("token"));
        assert_eq!(
            created.secrets.get("token").map(|s| s.expose()),
            Some("t0k")
        );

        let updated = reg
            .config_from_flat(
                "demo",
                flat(&[("base_url", "https://b.example"), ("token", "")]),
                Some(&created),
            )
            .unwrap_or_default();
        assert_eq!(updated.settings["base_url"], "https://b.example");
        assert_eq!(
            updated.secrets.get("token").map(|s| s.expose()),
            Some("t0k")
        );
        assert!(reg
            .get("demo")
            .is_ok_and(|f| f.validate(&updated, &DistrictSettings::default()).is_ok()));
    }
}
