//! The connector layer's error: always names the endpoint or setting, never a secret.
//!
//! An endpoint is written as `METHOD /path` (no query string, no host credentials), so a
//! message can go to a log, a run record or a support ticket as it is. What the source
//! said (the `detail` of a refusal: its error body, which can hold anything) is kept for
//! the log ([`ConnectorError::source_said`]) and is never part of the message.

use std::time::Duration;

use model::ValidationErrors;

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("unknown connector kind {}; known kinds: {known}", model::limits::echo(.kind))]
    UnknownKind { kind: String, known: String },

    #[error("invalid connector settings: {0}")]
    Settings(ValidationErrors),

    #[error("{endpoint}: cannot reach the server: {reason}")]
    Unreachable { endpoint: String, reason: String },

    #[error("{endpoint}: no answer within {timeout:?}")]
    Timeout { endpoint: String, timeout: Duration },

    #[error("{endpoint}: the connection broke before the answer was complete: {reason}")]
    Interrupted { endpoint: String, reason: String },

    #[error("{endpoint}: credentials refused (HTTP 401)")]
    Unauthorized { endpoint: String, detail: String },

    #[error("{endpoint}: access denied (HTTP 403)")]
    Forbidden { endpoint: String, detail: String },

    #[error("{endpoint}: not found (HTTP 404)")]
    NotFound { endpoint: String, detail: String },

    /// The credentials reach a district other than the configured one, or the source
    /// has not granted this district to the application: nothing may be read with them.
    /// `reason` is in our words (ids, never a body).
    #[error("{endpoint}: {reason}")]
    WrongDistrict { endpoint: String, reason: String },

    #[error("{endpoint}: still throttled after {attempts} attempts (HTTP {status})")]
    Throttled {
        endpoint: String,
        status: u16,
        attempts: usize,
    },

    #[error("{endpoint}: HTTP {status}")]
    Http {
        endpoint: String,
        status: u16,
        detail: String,
    },

    #[error("{endpoint}: unexpected answer: {reason}")]
    Malformed { endpoint: String, reason: String },

    #[error("the pull ended without the source declaring it complete")]
    EndedEarly,

    #[error("the {kind} connector cannot {what} in this version")]
    Unsupported { kind: String, what: String },

    #[error(
        "{endpoint}: the source declared {declared} records but delivered {received}; \
         the pull is incomplete"
    )]
    Incomplete {
        endpoint: String,
        declared: u64,
        received: u64,
    },

    #[error("{endpoint}: the list cannot be read to its end: {reason}; the pull is incomplete")]
    BrokenPaging { endpoint: String, reason: String },

    #[error("{endpoint}: not sent: {reason}")]
    TargetRefused { endpoint: String, reason: String },

    /// The source's data changed while it was read (ClassLink's `x-perm-rev` moved): the
    /// pages read so far are not one roster, and the pull must start again.
    #[error("{endpoint}: the source's data changed during the pull: {reason}")]
    SourceChanged { endpoint: String, reason: String },
}

impl ConnectorError {
    /// The endpoint the error is about, when it is about one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            ConnectorError::UnknownKind { .. }
            | ConnectorError::Settings(_)
            | ConnectorError::EndedEarly
            | ConnectorError::Unsupported { .. } => None,
            ConnectorError::Unreachable { endpoint, .. }
            | ConnectorError::Timeout { endpoint, .. }
            | ConnectorError::Interrupted { endpoint, .. }
            | ConnectorError::Unauthorized { endpoint, .. }
            | ConnectorError::Forbidden { endpoint, .. }
            | ConnectorError::NotFound { endpoint, .. }
            | ConnectorError::WrongDistrict { endpoint, .. }
            | ConnectorError::Throttled { endpoint, .. }
            | ConnectorError::Http { endpoint, .. }
            | ConnectorError::Malformed { endpoint, .. }
            | ConnectorError::Incomplete { endpoint, .. }
            | ConnectorError::BrokenPaging { endpoint, .. }
            | ConnectorError::TargetRefused { endpoint, .. }
            | ConnectorError::SourceChanged { endpoint, .. } => Some(endpoint),
        }
    }

    /// What the source said about a refusal (from its error body), for the log only:
    /// never put it in a message a caller reads.
    pub fn source_said(&self) -> Option<&str> {
        match self {
            ConnectorError::Unauthorized { detail, .. }
            | ConnectorError::Forbidden { detail, .. }
            | ConnectorError::NotFound { detail, .. }
            | ConnectorError::Http { detail, .. } => {
                Some(detail).filter(|d| !d.is_empty()).map(String::as_str)
            }
            _ => None,
        }
    }

    /// Whether trying the same request again may succeed: network faults, timeouts,
    /// throttling, server errors and garbled bodies. Refusals (401/403/404/4xx) and
    /// incomplete pulls are not.
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectorError::Unreachable { .. }
            | ConnectorError::Timeout { .. }
            | ConnectorError::Interrupted { .. }
            | ConnectorError::Throttled { .. }
            | ConnectorError::Malformed { .. } => true,
            ConnectorError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Keeps at most `max` characters of a response body for an error message.
pub fn excerpt(body: &str, max: usize) -> String {
    let body = body.trim();
    match body.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}
