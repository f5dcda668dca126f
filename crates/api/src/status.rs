//! The one place errors become gRPC `Status` codes. Matches are exhaustive so a new
//! error variant cannot slip through with the wrong code.

use engine::ConnectorError;
use engine::EngineError;
use model::{FieldError, ValidationErrors};
use store::StoreError;
use tonic::Status;

/// Bad input: `INVALID_ARGUMENT` naming every field at fault.
pub fn invalid(errors: ValidationErrors) -> Status {
    Status::invalid_argument(errors.to_string())
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
        EngineError::Precondition(message) => Status::failed_precondition(message),
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
