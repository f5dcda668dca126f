//! The ClassLink Roster Server (OneRoster 1.1 / 1.2) connector.
//!
//! Owns: ClassLink's settings ([`settings::ClassLinkSettings`]: tenant id, application
//! id, discovery or a direct server, OneRoster version, signing mode) and its factory;
//! the OAuth 1.0a request signer ([`oauth1`]); the client ([`client`]: discovery, OAuth
//! 1.0a or OAuth 2 client credentials, `limit`/`offset` paging to `X-Total-Count`); the
//! 1.1 and 1.2 wire structs ([`wire`]) and the pure wire → model mapping ([`map`]); the
//! pull and the one-user read ([`pull`]); the connection check ([`check`]).
//!
//! Must never: see the store, the policy or the engine. Start reading at
//! [`ClassLinkFactory`].

pub mod check;
pub mod client;
pub mod map;
pub mod oauth1;
pub mod pull;
pub mod settings;
pub mod wire;

use std::sync::Arc;

use connector::{
    CheckReport, Connector, ConnectorError, ConnectorFactory, HttpClient, HttpConfig, RosterStream,
    SettingSpec, UserRef, UserSnapshot,
};
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

    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        let settings = ClassLinkSettings::try_from(config).map_err(ConnectorError::Settings)?;
        let mut http = http.clone();
        http.requests_per_minute = Some(
            http.requests_per_minute
                .map_or(settings.requests_per_minute, |b| {
                    b.min(settings.requests_per_minute)
                }),
        );
        Ok(Arc::new(ClassLinkConnector {
            client: client::ClassLinkClient::new(settings, HttpClient::new(http)?),
        }))
    }
}

/// A connector for one district's ClassLink Roster Server.
#[derive(Debug, Clone)]
pub struct ClassLinkConnector {
    client: Arc<client::ClassLinkClient>,
}

#[async_trait::async_trait]
impl Connector for ClassLinkConnector {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::OneRoster
    }

    async fn check(&self) -> CheckReport {
        // Quick answers for an administrator, on the district's budget.
        let http = self.client.http().with_patience(|h| {
            h.retry.retries = h.retry.retries.min(1);
            h.request_timeout = h.request_timeout.min(std::time::Duration::from_secs(30));
            h.max_retry_after = h.max_retry_after.min(std::time::Duration::from_secs(5));
        });
        check::check(&self.client.with_http(http)).await
    }

    fn roster(&self) -> RosterStream {
        pull::roster(self.client.clone())
    }

    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        pull::user(&self.client, user).await
    }
}
