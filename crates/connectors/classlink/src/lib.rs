//! The ClassLink Roster Server (OneRoster 1.1 / 1.2) connector.
//!
//! Owns: ClassLink's settings ([`settings::ClassLinkSettings`]: tenant id, application
//! id, OneRoster version, signing mode and credentials) and its factory. As it grows: the
//! OAuth 1.0a request signer and the OAuth 2 client-credentials token, `limit`/`offset`
//! paging, the 1.1 and 1.2 wire structs and the wire → model mapping.
//!
//! Must never: see the store, the policy or the engine. Start reading at
//! [`ClassLinkFactory`].

pub mod oauth1;
pub mod settings;

use std::sync::Arc;

use connector::{Connector, ConnectorError, ConnectorFactory, HttpConfig, SettingSpec};
use model::district::{ConnectorConfig, DistrictSettings};
use model::ValidationErrors;

pub use settings::ClassLinkSettings;

/// The `classlink` connector kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClassLinkFactory;

impl ConnectorFactory for ClassLinkFactory {
    fn kind(&self) -> &'static str {
        settings::KIND
    }

    fn display_name(&self) -> &'static str {
        "ClassLink (OneRoster)"
    }
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::OneRoster
    }

    fn description(&self) -> &'static str {
        "reads orgs, users, classes and enrollments from a ClassLink Roster Server over OneRoster 1.1 or 1.2"
    }

    fn settings(&self) -> &'static [SettingSpec] {
        settings::SPECS
    }

    fn validate(
        &self,
        config: &ConnectorConfig,
        _district: &DistrictSettings,
    ) -> Result<(), ValidationErrors> {
        ClassLinkSettings::try_from(config).map(|_| ())
    }

    /// Pulling from ClassLink is not built yet: a district configured for it is stored and
    /// validated, and a pull or check answers that it is not available.
    fn build(
        &self,
        _: &ConnectorConfig,
        _: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        Err(ConnectorError::Unsupported {
            kind: settings::KIND.into(),
            what: "pull rosters".into(),
        })
    }
}
