//! The engine's error.

use connector::ConnectorError;
use model::ValidationErrors;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The caller's input is wrong; every problem is listed with its field path.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A file refused: its first problems, in line order, and how many it has.
    #[error("{0}")]
    InvalidFile(crate::import::FileProblems),
    /// A file too large to import, or one that could not be kept while it was.
    #[error(transparent)]
    Upload(crate::import::UploadError),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    #[error(transparent)]
    Store(StoreError),
    /// The request cannot be honoured in the current state (a run already in progress,
    /// approving a run that is not paused), with a reason callers can switch on.
    #[error("{message}")]
    Precondition { reason: Refusal, message: String },
    /// A concurrent change got in first (a stale etag): read again and retry.
    #[error("{message}")]
    Aborted { reason: Refusal, message: String },
    /// The caller's key does not allow the request.
    #[error("{0}")]
    PermissionDenied(String),
    /// The district's connector cannot do what was asked (its kind cannot pull in this
    /// version, or its stored settings no longer parse).
    #[error("district {district}: {source}")]
    Connector {
        district: String,
        source: ConnectorError,
    },
}

/// Why a request was refused in the current state: a stable name callers switch on
/// (gRPC `ErrorInfo.reason`), beside the readable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The district already has an open run.
    RunAlreadyOpen,
    /// Another replica holds the run.
    RunHeldElsewhere,
    /// The run is not in a state that allows the request (approving a run that is not
    /// paused, cancelling a finished one, a state that moved meanwhile).
    RunStateConflict,
    /// An approved plan is applied to its end.
    RunApproved,
    /// The district's data changed since the paused plan was made.
    DistrictDataChanged,
    /// Spot sync does not support staff accounts.
    StaffNotSupported,
    /// The profile is not connected to the district's SIS.
    NotConnectedToSis,
    /// The SIS no longer lists the user.
    NotInSis,
    /// The record changed since the caller read it (its etag is stale).
    EtagMismatch,
    /// Deleting a district that still holds records needs `force`.
    DistrictNotEmpty,
    /// A `guardians.csv` for a district whose sync manages its guardians.
    GuardiansManagedBySync,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::RunAlreadyOpen => "RUN_ALREADY_OPEN",
            Refusal::RunHeldElsewhere => "RUN_HELD_ELSEWHERE",
            Refusal::RunStateConflict => "RUN_STATE_CONFLICT",
            Refusal::RunApproved => "RUN_APPROVED",
            Refusal::DistrictDataChanged => "DISTRICT_DATA_CHANGED",
            Refusal::StaffNotSupported => "STAFF_NOT_SUPPORTED",
            Refusal::NotConnectedToSis => "NOT_CONNECTED_TO_SIS",
            Refusal::NotInSis => "NOT_IN_SIS",
            Refusal::EtagMismatch => "ETAG_MISMATCH",
            Refusal::DistrictNotEmpty => "DISTRICT_NOT_EMPTY",
            Refusal::GuardiansManagedBySync => "GUARDIANS_MANAGED_BY_SYNC",
        }
    }
}

impl EngineError {
    pub fn refused(reason: Refusal, message: impl Into<String>) -> Self {
        EngineError::Precondition {
            reason,
            message: message.into(),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => EngineError::NotFound { entity, id },
            StoreError::AlreadyExists { entity, id } => EngineError::AlreadyExists { entity, id },
            other => EngineError::Store(other),
        }
    }
}

impl From<ValidationErrors> for EngineError {
    fn from(e: ValidationErrors) -> Self {
        EngineError::Invalid(e)
    }
}
