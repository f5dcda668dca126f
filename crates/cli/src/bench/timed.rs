//! A connector whose one-user reads are timed, so a spot sync's service time can leave
//! the source's out.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector::{
    CheckReport, Connector, ConnectorError, ConnectorFactory, HttpConfig, RosterStream, UserRef,
    UserSnapshot,
};
use model::district::{ConnectorConfig, DistrictSettings};

tokio::task_local! {
    /// The time one spot sync spent waiting on the source.
    pub(super) static SOURCE_TIME: Cell<Duration>;
}

/// A connector that counts the time its one-user reads take, so a spot sync's service
/// time can leave the source's out.
#[derive(Debug)]
struct Timed(Arc<dyn Connector>);

#[async_trait::async_trait]
impl Connector for Timed {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        self.0.link_rules()
    }

    async fn check(&self) -> CheckReport {
        self.0.check().await
    }

    fn roster(&self) -> RosterStream {
        self.0.roster()
    }

    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        let started = Instant::now();
        let found = self.0.user(user).await;
        let _ = SOURCE_TIME.try_with(|t| t.set(t.get() + started.elapsed()));
        found
    }
}

#[derive(Debug)]
pub(super) struct TimedFactory(pub(super) powerschool::PowerSchoolFactory);

impl ConnectorFactory for TimedFactory {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    fn display_name(&self) -> &'static str {
        self.0.display_name()
    }
    fn link_rules(&self) -> model::link::LinkRuleSet {
        self.0.link_rules()
    }
    fn description(&self) -> &'static str {
        self.0.description()
    }
    fn settings(&self) -> &'static [connector::settings::SettingSpec] {
        self.0.settings()
    }
    fn validate(
        &self,
        config: &ConnectorConfig,
        district: &DistrictSettings,
    ) -> Result<(), model::ValidationErrors> {
        self.0.validate(config, district)
    }
    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        Ok(Arc::new(Timed(self.0.build(config, http)?)))
    }
}
