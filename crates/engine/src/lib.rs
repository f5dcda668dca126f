//! The engine: wires connectors, the planner, the policy and the store.
//!
//! Owns: district configuration ([`districts`]: validation of a whole district against
//! its connector's settings description before anything is stored); connection tests
//! ([`connection`]); district sync runs ([`sync`]: start, stage the pull, the planning
//! driver that pages facts out of the store for the pure [`planner`] and writes what it
//! plans, completeness and threshold checks, apply; dry run, approve, cancel by
//! compare-and-set, leases, resume after a restart or a dead replica); `guardians.csv`
//! files as a source of their own ([`import`]: read, checked, resolved, kept with their
//! run); the nightly schedule ([`schedule`]); spot sync ([`spot`]: a page of one through
//! the same planner); and support reads that span several store calls ([`reads`]).
//!
//! Its parts are services with narrow inputs, reached from the [`Engine`], each holding
//! only what it uses and cheap to clone: [`Engine::districts`] (configuration and each
//! district's built connector), [`Engine::access`] (callers' keys and the audit trail),
//! [`Engine::runs`] (start, read, approve, cancel, import, resume), [`Engine::watches`]
//! (following a run), [`Engine::schedule`] (the nightly runs and the background loop),
//! [`Engine::notify`] (run events to webhooks and e-mail), [`Engine::spot`] (spot sync)
//! and [`Engine::reads`] (support reads and search). The engine itself only holds what
//! they share (the store, the connectors, the replica's name and leases, the HTTP and
//! mail clients).
//!
//! Must never: decide a plan item itself (the planner does), name a concrete connector
//! (it receives a [`connector::Registry`]; a run's source is its kept input or its
//! district's connector, and what the source's word covers is its rule set's), speak
//! HTTP, SQL or gRPC itself, or archive anything from a pull that was not complete.
//! Start reading at [`Engine`], then [`sync::plan`].

pub mod access;
pub mod connection;
pub mod districts;
pub mod error;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod reads;
pub mod schedule;
pub mod spot;
pub mod sync;
pub mod watch;

pub use connector::{CheckOutcome, CheckReport, ConnectorError, HttpConfig, Registry};
pub use districts::{ConnectorDraft, ConnectorEdit, DistrictDraft, DistrictUpdate, SettingsEdit};
pub use error::{EngineError, Refusal};
pub use policy::explain;
pub use spot::SpotUser;

use store::Store;

/// The engine: a store and the connectors this build knows.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
    registry: std::sync::Arc<Registry>,
    http: std::sync::Arc<HttpConfig>,
    runs: std::sync::Arc<sync::RunRegistry>,
    /// This process's name on run leases (one per replica).
    instance: std::sync::Arc<str>,
    /// How long a run's lease lasts without renewal.
    lease: std::time::Duration,
    /// The runs watched on this replica, one poll each.
    watches: std::sync::Arc<watch::RunWatches>,
    /// One built connector per district.
    connectors: std::sync::Arc<connection::BuiltConnectors>,
    /// Whose work this is: recorded on runs, district changes and the audit trail.
    actor: std::sync::Arc<str>,
    keys_seen: std::sync::Arc<access::KeysSeen>,
    /// The HTTP client webhooks are posted with, built on first use.
    webhooks: std::sync::Arc<std::sync::OnceLock<connector::http::HttpClient>>,
    /// How e-mail leaves, when the service is configured to send it.
    mailer: Option<std::sync::Arc<mail::Mailer>>,
}

impl Engine {
    pub fn new(store: Store, registry: Registry) -> Self {
        Self {
            store,
            registry: std::sync::Arc::new(registry),
            http: std::sync::Arc::default(),
            runs: std::sync::Arc::default(),
            instance: std::sync::Arc::from("rostersync"),
            lease: std::time::Duration::from_secs(60),
            watches: std::sync::Arc::default(),
            connectors: std::sync::Arc::default(),
            actor: std::sync::Arc::from("service"),
            keys_seen: std::sync::Arc::default(),
            webhooks: std::sync::Arc::default(),
            mailer: None,
        }
    }

    /// Names this replica on run leases and sets how long a lease lasts: a replica that
    /// dies holding a run loses it after `lease`, and another replica takes it over.
    pub fn with_instance(mut self, instance: &str, lease: std::time::Duration) -> Self {
        self.instance = std::sync::Arc::from(instance);
        self.lease = lease;
        self
    }

    /// Replaces how connectors talk HTTP (timeouts, retries).
    pub fn with_http(mut self, http: HttpConfig) -> Self {
        self.http = std::sync::Arc::new(http);
        self.connectors = std::sync::Arc::default();
        self.webhooks = std::sync::Arc::default();
        self
    }

    /// Sends e-mail notifications through `mailer`.
    pub fn with_mailer(mut self, mailer: mail::Mailer) -> Self {
        self.mailer = Some(std::sync::Arc::new(mailer));
        self
    }

    pub fn http(&self) -> &HttpConfig {
        &self.http
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// Now, at the precision the store keeps (microseconds), so a record read back equals
/// the one written.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
