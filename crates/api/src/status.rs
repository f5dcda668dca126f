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
/// Each message is cut to [`MAX_MESSAGE`] characters and the whole to
/// [`MAX_STATUS`]: a caller's bad value is quoted, never echoed whole.
pub fn invalid(errors: ValidationErrors) -> Status {
    let errors = ValidationErrors(
        errors
            .0
            .into_iter()
            .map(|e| model::FieldError::new(cut(&e.path, 200), cut(&e.message, MAX_MESSAGE)))
            .collect(),
    );
    let violations: Vec<FieldViolation> = errors
        .errors()
        .iter()
        .take(100)
        .map(|e| FieldViolation::new(e.path.clone(), e.message.clone()))
        .collect();
    Status::with_error_details(
        Code::InvalidArgument,
        cut(&errors.to_string(), MAX_STATUS),
        ErrorDetails::with_bad_request(violations),
    )
}

/// The longest one message of an error may be.
pub const MAX_MESSAGE: usize = 300;
/// The longest a status message may be.
pub const MAX_STATUS: usize = 2000;

fn cut(s: &str, max: usize) -> String {
    model::error::cut(s, max)
}

/// A refused file: `INVALID_ARGUMENT` with the first `max` problems as `BadRequest` field
/// violations (and one for `file` counting those not listed) and a message naming the
/// first few, so a large report never outgrows the metadata a client accepts.
pub fn invalid_file(problems: &engine::import::FileProblems, max: usize) -> Status {
    let errors = problems.errors();
    let all = errors.errors();
    let shown: Vec<String> = all
        .iter()
        .take(3)
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    let total = problems.total.max(all.len() as u64);
    let more = total.saturating_sub(shown.len() as u64);
    let message = format!(
        "the file is refused, nothing was written: {} problem{}: {}{}",
        total,
        if total == 1 { "" } else { "s" },
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    );
    let mut violations: Vec<FieldViolation> = all
        .iter()
        .take(max)
        .map(|e| FieldViolation::new(e.path.clone(), e.message.clone()))
        .collect();
    let unlisted = total.saturating_sub(violations.len() as u64);
    if unlisted > 0 {
        violations.push(FieldViolation::new(
            "file",
            format!(
                "and {unlisted} more problems; the first {} are listed",
                violations.len()
            ),
        ));
    }
    Status::with_error_details(
        Code::InvalidArgument,
        cut(&message, MAX_STATUS),
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
        EngineError::InvalidFile(problems) => {
            invalid_file(&problems, engine::import::LISTED_PROBLEMS)
        }
        EngineError::Upload(engine::import::UploadError::TooLarge) => {
            Status::invalid_argument(format!("data: {}", engine::import::UploadError::TooLarge))
        }
        EngineError::Upload(e @ engine::import::UploadError::Io(_)) => {
            tracing::error!(error = %e, "an upload cannot be kept");
            Status::internal("the file cannot be kept while it is imported; try again")
        }
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
        EngineError::PermissionDenied(message) => Status::permission_denied(message),
    }
}

/// A connector that cannot serve the request. The district's configuration or the
/// source's refusal (`FAILED_PRECONDITION`) and an answer that cannot be used (a garbled
/// or incomplete list: `FAILED_PRECONDITION` too) are not worth retrying as they are; a
/// source that cannot be reached or is busy is (`UNAVAILABLE`). The message names the
/// district and the endpoint; what the source said stays in the log, never in the answer
/// (a source's body can hold anything).
pub fn from_connector(district: &str, e: ConnectorError) -> Status {
    tracing::warn!(%district, error = %e, source_said = e.source_said().unwrap_or(""), "connector error");
    let at = e
        .endpoint()
        .map(|ep| format!(" ({ep})"))
        .unwrap_or_default();
    let (code, reason, what) = match &e {
        ConnectorError::UnknownKind { .. } | ConnectorError::Unsupported { .. } => (
            Code::FailedPrecondition,
            "CONNECTOR_UNSUPPORTED",
            e.to_string(),
        ),
        ConnectorError::Settings(_) => (
            Code::FailedPrecondition,
            "CONNECTOR_MISCONFIGURED",
            e.to_string(),
        ),
        ConnectorError::TargetRefused { reason, .. } => (
            Code::FailedPrecondition,
            "TARGET_REFUSED",
            format!("the connector's target was refused{at}: {reason}"),
        ),
        ConnectorError::Unauthorized { .. } => (
            Code::FailedPrecondition,
            "SOURCE_REFUSED",
            format!("the source refused the district's credentials{at}"),
        ),
        ConnectorError::WrongDistrict { reason, .. } => (
            Code::FailedPrecondition,
            "WRONG_DISTRICT",
            format!("the district's credentials do not reach it{at}: {reason}"),
        ),
        ConnectorError::Forbidden { .. } => (
            Code::FailedPrecondition,
            "SOURCE_REFUSED",
            format!("the source denied access{at}"),
        ),
        ConnectorError::NotFound { .. } => (
            Code::FailedPrecondition,
            "SOURCE_REFUSED",
            format!("the source does not have what was asked for{at}"),
        ),
        ConnectorError::Http { status, .. } if *status < 500 => (
            Code::FailedPrecondition,
            "SOURCE_REFUSED",
            format!("the source refused the request with HTTP {status}{at}"),
        ),
        ConnectorError::Malformed { .. }
        | ConnectorError::Incomplete { .. }
        | ConnectorError::BrokenPaging { .. }
        | ConnectorError::EndedEarly => (
            Code::FailedPrecondition,
            "SOURCE_ANSWER_UNUSABLE",
            format!(
                "the source's answer could not be used{at}: {}",
                safe_summary(&e)
            ),
        ),
        ConnectorError::SourceChanged { .. } => (
            Code::Unavailable,
            "SOURCE_CHANGING",
            format!("the source's data changed while it was read{at}; try again"),
        ),
        ConnectorError::Http { status, .. } => (
            Code::Unavailable,
            "SOURCE_UNAVAILABLE",
            format!("the source failed with HTTP {status}{at}; try again later"),
        ),
        ConnectorError::Unreachable { .. }
        | ConnectorError::Timeout { .. }
        | ConnectorError::Interrupted { .. }
        | ConnectorError::Throttled { .. } => (
            Code::Unavailable,
            "SOURCE_UNAVAILABLE",
            format!("the source could not be reached or is busy{at}; try again later"),
        ),
    };
    Status::with_error_details(
        code,
        format!("district {district}: {what}"),
        ErrorDetails::with_error_info(
            reason,
            DOMAIN,
            std::collections::HashMap::<String, String>::new(),
        ),
    )
}

/// What went wrong with an answer, in our words only (counts, not the source's text).
fn safe_summary(e: &ConnectorError) -> String {
    match e {
        ConnectorError::Incomplete {
            declared, received, ..
        } => format!("it declared {declared} records and delivered {received}"),
        ConnectorError::BrokenPaging { reason, .. } => reason.clone(),
        ConnectorError::EndedEarly => {
            "the pull ended before the source said it was complete".into()
        }
        _ => "it is not what the source documents".into(),
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
