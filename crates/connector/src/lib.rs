//! The connector layer's contract, shared by PowerSchool, Clever and ClassLink.
//!
//! Owns: the [`ConnectorFactory`] trait every source implements (kind, settings
//! description, typed validation), the [`Registry`] the binary fills and the engine and
//! API receive, the [`settings`] helpers that read a stored [`model::district::ConnectorConfig`]
//! into a connector's typed settings while collecting every problem, and
//! [`ConnectorError`]. The pull contract (check / roster stream / one user) and the shared
//! HTTP kit (token cache, retry with backoff honouring Retry-After, rate limit, paging)
//! live here too: see [`source`], [`http`], [`token`] and [`paging`].
//!
//! Must never: know the store, the policy or the engine, or name a concrete connector.
//! Start reading at [`ConnectorFactory`].

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod http;
pub mod lenient;
pub mod outbound;
pub mod paging;
pub mod pull;
pub mod registry;
pub mod settings;
pub mod source;
pub mod token;
pub mod warnings;

pub use error::ConnectorError;
pub use http::{HttpClient, HttpConfig, RetryPolicy};
pub use paging::{
    page_keys, CursorStep, CursorWalk, Keyed, OffsetSignals, OffsetWalk, PageKeys, PageWalk,
};
pub use pull::{
    KindSet, PullCounts, PullWarning, RecordKind, RejectedRecord, RosterEvent, Tally, Unavailable,
};
pub use registry::{ConnectorFactory, Registry};
pub use settings::{SettingSpec, SettingsReader};
pub use source::{
    roster_stream, CheckOutcome, CheckReport, CheckStep, Connector, PullStop, RosterSink,
    RosterStream, UserRef, UserSnapshot,
};
pub use token::{IssuedToken, TokenCache};
pub use warnings::Warnings;
