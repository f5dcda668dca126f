//! The engine's error.

use connector::ConnectorError;
use model::ValidationErrors;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The caller's input is wrong; every problem is listed with its field path.
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    #[error(transparent)]
    Store(StoreError),
    /// The request cannot be honoured in the current state (a run already in progress,
    /// approving a run that is not paused).
    #[error("{0}")]
    Precondition(String),
    /// The district's connector cannot do what was asked (its kind cannot pull in this
    /// version, or its stored settings no longer parse).
    #[error("district {district}: {source}")]
    Connector {
        district: String,
        source: ConnectorError,
    },
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
