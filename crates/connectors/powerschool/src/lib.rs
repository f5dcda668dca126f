//! The PowerSchool SIS connector.
//!
//! Owns: PowerSchool's settings ([`settings::PowerSchoolSettings`]: base URL, plugin
//! client id and secret) and its factory; as it grows, the plugin OAuth token exchange,
//! the `/ws/v1` student and school resources, table access under `/ws/schema/table/…`,
//! the `com.pearson.core.guardian.student_guardian_detail` PowerQuery, paging, the private
//! wire structs and the pure wire → model mapping, and the plugin XML a district installs.
//!
//! Must never: see the store, the policy or the engine; call an endpoint a district
//! would have to install separately. Start reading at [`PowerSchoolFactory`].

pub mod settings;

use connector::{ConnectorFactory, SettingSpec};
use model::district::{ConnectorConfig, DistrictSettings};
use model::ValidationErrors;

pub use settings::PowerSchoolSettings;

/// The `powerschool` connector kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct PowerSchoolFactory;

impl ConnectorFactory for PowerSchoolFactory {
    fn kind(&self) -> &'static str {
        settings::KIND
    }

    fn display_name(&self) -> &'static str {
        "PowerSchool SIS"
    }

    fn description(&self) -> &'static str {
        "reads students, contacts and guardian accounts from a PowerSchool server through the rostersync plugin's OAuth client credentials"
    }

    fn settings(&self) -> &'static [SettingSpec] {
        settings::SPECS
    }

    fn validate(
        &self,
        config: &ConnectorConfig,
        _district: &DistrictSettings,
    ) -> Result<(), ValidationErrors> {
        PowerSchoolSettings::try_from(config).map(|_| ())
    }
}
