//! The Clever Data API (v3.0 / v3.1) connector.
//!
//! Owns: Clever's settings ([`settings::CleverSettings`]: district id, district-app token,
//! API host and version) and its factory, and the district-setting rule Clever imposes
//! (exactly one phone type). As it grows: the bearer-token client, `/v3.0/…` paging by
//! `starting_after`, the private wire structs and the wire → model mapping.
//!
//! Must never: see the store, the policy or the engine. Start reading at
//! [`CleverFactory`].

pub mod settings;

use std::sync::Arc;

use connector::{Connector, ConnectorError, ConnectorFactory, HttpConfig, SettingSpec};
use model::district::{ConnectorConfig, DistrictSettings, Selection};
use model::ValidationErrors;

pub use settings::CleverSettings;

/// The `clever` connector kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct CleverFactory;

impl ConnectorFactory for CleverFactory {
    fn kind(&self) -> &'static str {
        settings::KIND
    }

    fn display_name(&self) -> &'static str {
        "Clever"
    }
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::Clever
    }

    fn description(&self) -> &'static str {
        "reads schools, students, contacts, teachers and sections from the Clever Data API with the district's OAuth token"
    }

    fn settings(&self) -> &'static [SettingSpec] {
        settings::SPECS
    }

    fn validate(
        &self,
        config: &ConnectorConfig,
        district: &DistrictSettings,
    ) -> Result<(), ValidationErrors> {
        let mut errors = match CleverSettings::try_from(config) {
            Ok(_) => ValidationErrors::new(),
            Err(e) => e,
        };
        // Seed 004: "Using Clever only one phone type can be selected".
        let one_phone_type =
            matches!(&district.phone_types, Selection::Only(set) if set.len() == 1);
        if !one_phone_type {
            errors.push(
                "settings.phone_types",
                "Clever syncs exactly one phone type: choose one of home, cell, work",
            );
        }
        errors.into_result(())
    }

    /// Pulling from Clever is not built yet: a district configured for it is stored and
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
