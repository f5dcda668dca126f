//! The one place errors become gRPC `Status` codes. Matches are exhaustive so a new
//! error variant cannot slip through with the wrong code.
//!
//! Beside the readable message, a status carries details clients can act on
//! (`google.rpc` types in `grpc-status-details-bin`): every bad field of a request as a
//! `BadRequest` field violation, and the reason of a refusal as `ErrorInfo`
//! (`RUN_ALREADY_OPEN`, `DISTRICT_DATA_CHANGED`, …, domain `rostersync.v1`).

use engine::ConnectorError;
use engine::EngineError;
use model::{FieldError, ValidationErrors};
use store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The domain of our `ErrorInfo` reasons.
pub const DOMAIN: &str = "rostersync.v1";

/// Bad input: `INVALID_ARGUMENT` naming every field at fault, each also a `BadRequest`
/// field violation.
pub fn invalid(errors: ValidationErrors) -> Status {
    let violations: Vec<FieldViolation> = errors
        .errors()
        .iter()
        .map(|e| FieldViolation::new(e.path.clone(), e.message.clone()))
        .collect();
    Status::with_error_details(
        Code::InvalidArgument,
        errors.to_string(),
        ErrorDetails::with_bad_request(violations),
    )
}

/// A refusal in the current state: `FAILED_PRECONDITION` with its reason as `ErrorInfo`.
pub fn refused(reason: engine::Refusal, message: String) -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        message,
        ErrorDetails::with_error_info(
            reason.as_str(),
            DOMAIN,
            std::collections::HashMap::<String, String>::new(),
        ),
    )
}

/// A concurrent change got in first: `ABORTED` with its reason as `ErrorInfo`; the
/// caller reads again and retries.
pub fn aborted(reason: engine::Refusal, message: String) -> Status {
    Status::with_error_details(
        Code::Aborted,
        message,
        ErrorDetails::with_error_info(
            reason.as_str(),
            DOMAIN,
            std::collections::HashMap::<String, String>::new(),
        ),
    )
}

/// One bad field: `INVALID_ARGUMENT` naming it.
pub fn invalid_field(error: FieldError) -> Status {
    invalid(error.into())
}

pub fn from_engine(e: EngineError) -> Status {
    match e {
        EngineError::Invalid(errors) => invalid(errors),
        EngineError::NotFound { entity, id } => {
            Status::not_found(format!("{entity} {id} not found"))
        }
        EngineError::AlreadyExists { entity, id } => {
            Status::already_exists(format!("{entity} {id} already exists"))
        }
        EngineError::Store(e) => from_store(e),
        EngineError::Connector { district, source } => from_connector(&district, source),
        EngineError::Precondition { reason, message } => refused(reason, message),
        EngineError::Aborted { reason, message } => aborted(reason, message),
    }
}

/// A connector that cannot serve the request: the district's configuration is the
/// problem (`FAILED_PRECONDITION`), or the source failed (`UNAVAILABLE`).
pub fn from_connector(district: &str, e: ConnectorError) -> Status {
    let message = format!("district {district}: {e}");
    match e {
        ConnectorError::UnknownKind { .. }
        | ConnectorError::Settings(_)
        | ConnectorError::Unsupported { .. }
        | ConnectorError::Unauthorized { .. }
        | ConnectorError::Forbidden { .. }
        | ConnectorError::NotFound { .. } => Status::failed_precondition(message),
        ConnectorError::Unreachable { .. }
        | ConnectorError::Timeout { .. }
        | ConnectorError::Interrupted { .. }
        | ConnectorError::Throttled { .. }
        | ConnectorError::Http { .. }
        | ConnectorError::Malformed { .. }
        | ConnectorError::Incomplete { .. }
        | ConnectorError::EndedEarly => Status::unavailable(message),
    }
}

pub fn from_store(e: StoreError) -> Status {
    match e {
        StoreError::NotFound { entity, id } => {
            Status::not_found(format!("{entity} {id} not found"))
        }
        StoreError::AlreadyExists { entity, id } => {
            Status::already_exists(format!("{entity} {id} already exists"))
        }
        StoreError::StateChanged { entity, id, found } => {
            Status::failed_precondition(format!("{entity} {id} is {found}"))
        }
        e @ StoreError::Stale { .. } => aborted(engine::Refusal::EtagMismatch, e.to_string()),
        StoreError::Connect(_) | StoreError::Database(_) => {
            tracing::error!(error = %e, "store unavailable");
            Status::unavailable("the store is unavailable; try again")
        }
        StoreError::Corrupt { .. } | StoreError::UnsupportedUrl { .. } => {
            tracing::error!(error = %e, "store error");
            Status::internal(e.to_string())
        }
    }
}
