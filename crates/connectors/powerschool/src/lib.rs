//! The PowerSchool SIS connector.
//!
//! Owns: PowerSchool's settings ([`settings::PowerSchoolSettings`]: base URL, plugin
//! client id and secret, optional page size and request spacing) and its factory; the
//! plugin OAuth token exchange and the authorised requests ([`client`]); the `/ws/v1`
//! school and student resources, table access under `/ws/schema/table/…` and the
//! `com.pearson.core.guardian.student_guardian_detail` PowerQuery, each paged to its
//! count ([`pull`]); the wire structs ([`wire`]) and the pure wire → model mapping
//! ([`map`]); the one list of tables and fields read ([`fields`]) and the plugin XML a
//! district installs, generated from it ([`plugin`]); the connection check ([`check`]).
//!
//! Where public documentation is unsure (reference §12), the connector reads
//! defensively: `expires_in` as string or number; any list as array, bare object, `""`
//! or a missing key; ids and flags as strings or numbers; counts from `/count` before
//! every list so a short page is caught, not taken as the end.
//!
//! Must never: see the store, the policy or the engine; call an endpoint a district
//! would have to install separately. Start reading at [`PowerSchoolFactory`].

pub mod check;
pub mod client;
pub mod fields;
pub mod map;
pub mod plugin;
pub mod pull;
pub mod sections;
pub mod settings;
pub mod wire;

use std::sync::Arc;

use connector::{
    CheckReport, Connector, ConnectorError, ConnectorFactory, HttpClient, HttpConfig, RosterStream,
    SettingSpec, UserRef, UserSnapshot,
};
use model::district::{ConnectorConfig, DistrictSettings};
use model::ValidationErrors;

use client::PsClient;

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
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::PowerSchool
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

    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        let settings = PowerSchoolSettings::try_from(config).map_err(ConnectorError::Settings)?;
        Ok(Arc::new(PowerSchoolConnector::new(&settings, http)?))
    }
}

/// A connector for one district's PowerSchool.
#[derive(Debug, Clone)]
pub struct PowerSchoolConnector {
    client: Arc<PsClient>,
    settings: PowerSchoolSettings,
}

impl PowerSchoolConnector {
    pub fn new(settings: &PowerSchoolSettings, http: &HttpConfig) -> Result<Self, ConnectorError> {
        let mut http = http.clone();
        http.min_interval = http.min_interval.max(settings.min_request_interval);
        if let Some(n) = settings.max_concurrent_requests {
            http.concurrency = n;
        }
        if let Some(budget) = settings.max_requests_per_minute {
            http.requests_per_minute =
                Some(http.requests_per_minute.map_or(budget, |b| b.min(budget)));
        }
        Ok(PowerSchoolConnector {
            client: PsClient::new(settings, HttpClient::new(http)?),
            settings: settings.clone(),
        })
    }

    /// A client for `check`: one retry and a short timeout, so an administrator testing a
    /// wrong URL hears back in seconds rather than after a night's patience. It shares
    /// the district's connections, request budget and token.
    fn quick_client(&self) -> Result<Arc<PsClient>, ConnectorError> {
        let http = self.client.http().with_patience(|http| {
            http.retry.retries = http.retry.retries.min(1);
            http.request_timeout = http.request_timeout.min(std::time::Duration::from_secs(30));
            http.max_retry_after = http.max_retry_after.min(std::time::Duration::from_secs(5));
        });
        Ok(PsClient::sharing_token(
            &self.settings,
            http,
            self.client.token_cache().clone(),
        ))
    }
}

#[async_trait::async_trait]
impl Connector for PowerSchoolConnector {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::PowerSchool
    }

    async fn check(&self) -> CheckReport {
        match self.quick_client() {
            Ok(client) => check::check(&client, &self.settings.base_url).await,
            Err(e) => {
                let mut report = CheckReport::default();
                report.failed(
                    "authenticate",
                    "the connection could not be set up on this machine",
                    e.to_string(),
                );
                report
            }
        }
    }

    fn roster(&self) -> RosterStream {
        pull::roster(self.client.clone())
    }

    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        pull::user(&self.client, user).await
    }
}
