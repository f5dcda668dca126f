//! The Clever Data API (v3.0 / v3.1) connector.
//!
//! Owns: Clever's settings ([`settings::CleverSettings`]: district id, district-app token,
//! API host and version, page size, request budget) and its factory, and the
//! district-setting rule Clever imposes (exactly one phone type); the bearer-token client
//! walking lists by their `next` links ([`client`]); the wire structs ([`wire`]) and the
//! pure wire → model mapping ([`map`]); the pull and the one-user read ([`pull`]); the
//! connection check ([`check`]).
//!
//! Must never: see the store, the policy or the engine. Start reading at
//! [`CleverFactory`].

pub mod check;
pub mod client;
pub mod map;
pub mod pull;
pub mod settings;
pub mod wire;

use std::sync::Arc;

use connector::{
    CheckReport, Connector, ConnectorError, ConnectorFactory, HttpClient, HttpConfig, RosterStream,
    SettingSpec, UserRef, UserSnapshot,
};
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

    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        let settings = CleverSettings::try_from(config).map_err(ConnectorError::Settings)?;
        let mut http = http.clone();
        http.requests_per_minute = Some(
            http.requests_per_minute
                .map_or(settings.requests_per_minute, |b| {
                    b.min(settings.requests_per_minute)
                }),
        );
        Ok(Arc::new(CleverConnector {
            client: client::CleverClient::new(&settings, HttpClient::new(http)?),
            district_id: settings.district_id.clone(),
        }))
    }
}

/// A connector for one district's Clever data.
#[derive(Debug, Clone)]
pub struct CleverConnector {
    client: Arc<client::CleverClient>,
    district_id: String,
}

#[async_trait::async_trait]
impl Connector for CleverConnector {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::Clever
    }

    async fn check(&self) -> CheckReport {
        // Quick answers for an administrator, on the district's budget and token.
        let http = self.client.http().with_patience(|h| {
            h.retry.retries = h.retry.retries.min(1);
            h.request_timeout = h.request_timeout.min(std::time::Duration::from_secs(30));
            h.max_retry_after = h.max_retry_after.min(std::time::Duration::from_secs(5));
        });
        check::check(&self.client.with_http(http), &self.district_id).await
    }

    fn roster(&self) -> RosterStream {
        pull::roster(self.client.clone(), self.district_id.clone())
    }

    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        pull::user(&self.client, &self.district_id, user).await
    }
}
