//! The one place errors become gRPC `Status` codes. Matches are exhaustive so a new
//! error variant cannot slip through with the wrong code.
//!
//! Beside the readable message, a status carries details clients can act on
//! (`google.rpc` types in `grpc-status-details-bin`): every bad field of a request as a
//! `BadRequest` field violation, and the reason of a refusal as `ErrorInfo`
//! (`RUN_ALREADY_OPEN`, `DISTRICT_DATA_CHANGED`, …, domain `rostersync.v1`).

use engine::ConnectorError;
use engine::EngineError;
use model::limits::{self, cut};
use model::{FieldError, ValidationErrors};
use store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The domain of our `ErrorInfo` reasons.
pub const DOMAIN: &str = "rostersync.v1";

/// Bad input: `INVALID_ARGUMENT` naming the fields at fault, each also a `BadRequest`
/// field violation: the first [`limits::DETAILS`] as violations, as many as fit in
/// [`MAX_STATUS`] characters in the message, the rest counted there (`; and 9980 more`).
/// Each problem is cut to [`MAX_MESSAGE`] characters; a caller's bad value is quoted,
/// never echoed whole.
pub fn invalid(errors: ValidationErrors) -> Status {
    let total = errors.0.len();
    let shown: Vec<FieldError> = errors
        .0
        .into_iter()
        .take(limits::DETAILS)
        .map(|e| FieldError::new(cut(&e.path, 200), cut(&e.message, MAX_MESSAGE)))
        .collect();
    let mut message = String::new();
    let mut named = 0;
    for e in &shown {
        let line = e.to_string();
        // Room is kept for the count of the rest.
        if named > 0 && message.len() + line.len() + 2 > MAX_STATUS - 40 {
            break;
        }
        if named > 0 {
            message.push_str("; ");
        }
        message.push_str(&line);
        named += 1;
    }
    if total > named {
        message.push_str(&format!("; and {} more", total - named));
    }
    let violations: Vec<FieldViolation> = shown
        .iter()
        .map(|e| FieldViolation::new(e.path.clone(), e.message.clone()))
        .collect();
    Status::with_error_details(
        Code::InvalidArgument,
        message,
        ErrorDetails::with_bad_request(violations),
    )
}

/// The longest one message of an error may be.
pub const MAX_MESSAGE: usize = 300;
/// The longest a status message may be.
pub const MAX_STATUS: usize = 2000;

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

/// `NOT_FOUND` for `entity` `id`. Where the id is a caller's text, the code that names
/// it quotes it ([`echo`]); the message is cut to [`MAX_MESSAGE`] all the same.
pub fn not_found(entity: &str, id: &str) -> Status {
    Status::not_found(cut(&format!("{entity} {id} not found"), MAX_MESSAGE))
}

fn already_exists(entity: &str, id: &str) -> Status {
    Status::already_exists(cut(&format!("{entity} {id} already exists"), MAX_MESSAGE))
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
        EngineError::NotFound { entity, id } => not_found(entity, &id),
        EngineError::AlreadyExists { entity, id } => already_exists(entity, &id),
        EngineError::Store(e) => from_store(e),
        EngineError::Connector { district, source } => from_connector(&district, source),
        EngineError::Precondition { reason, message } => refused(reason, message),
        EngineError::Aborted { reason, message } => aborted(reason, message),
        // (It may list what the caller asked for: a key's hundred districts.)
        EngineError::PermissionDenied(message) => {
            Status::permission_denied(cut(&message, MAX_STATUS))
        }
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
        StoreError::NotFound { entity, id } => not_found(entity, &id),
        StoreError::AlreadyExists { entity, id } => already_exists(entity, &id),
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

/// The beginnings of the transport's messages for a request whose gRPC framing is wrong
/// (a bad compression flag, a compressed message without its encoding, a message cut
/// short, a body that does not decompress).
const FRAMING: [&str; 4] = [
    "protocol error:",
    "Unexpected EOF decoding stream",
    "Error decompressing:",
    "h2 protocol error:",
];

/// The transport's status for a request it could not read, as the caller's fault: a
/// malformed frame is INVALID_ARGUMENT and a message over the size the server takes is
/// RESOURCE_EXHAUSTED (the transport says INTERNAL and OUT_OF_RANGE). Any other status
/// is left as it is.
pub fn framing(status: Status) -> Status {
    let message = status.message();
    match status.code() {
        Code::Internal if FRAMING.iter().any(|p| message.starts_with(p)) => {
            Status::invalid_argument(format!(
                "the request is not well-formed gRPC: {}",
                cut(message, MAX_MESSAGE)
            ))
        }
        Code::OutOfRange if message.starts_with("Error, decoded message length too large") => {
            Status::resource_exhausted(format!(
                "the request message is larger than this server takes ({})",
                cut(message, MAX_MESSAGE)
            ))
        }
        _ => status,
    }
}

/// [`framing`] applied to an answer the transport gave before any handler ran (its
/// status in the answer's headers).
pub fn framing_answer(
    mut answer: tonic::codegen::http::Response<tonic::body::Body>,
) -> tonic::codegen::http::Response<tonic::body::Body> {
    let Some(status) = Status::from_header_map(answer.headers()) else {
        return answer;
    };
    let code = status.code();
    let mapped = framing(status);
    if mapped.code() != code {
        let _ = mapped.add_header(answer.headers_mut());
    }
    answer
}

#[cfg(test)]
mod framing_tests {
    use super::*;

    #[test]
    fn the_transports_framing_errors_are_the_callers() {
        let bad_flag = Status::internal(
            "protocol error: received message with invalid compression flag: 7 (valid flags are 0 and 1), while sending request",
        );
        assert_eq!(framing(bad_flag).code(), Code::InvalidArgument);
        let short = Status::internal("Unexpected EOF decoding stream.");
        assert_eq!(framing(short).code(), Code::InvalidArgument);
        let big = Status::out_of_range(
            "Error, decoded message length too large: found 5000000 bytes, the limit is: 4194304 bytes",
        );
        let big = framing(big);
        assert_eq!(big.code(), Code::ResourceExhausted);
        assert!(big.message().contains("4194304"), "{}", big.message());
        // The server's own failures stay what they are.
        let store = Status::internal("the store failed: connection refused");
        assert_eq!(framing(store).code(), Code::Internal);
    }

    #[test]
    fn an_answer_of_the_transport_is_rewritten_in_its_headers() {
        let answer = Status::out_of_range(
            "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
        )
        .into_http::<tonic::body::Body>();
        let answer = framing_answer(answer);
        let status = Status::from_header_map(answer.headers()).expect("a status");
        assert_eq!(status.code(), Code::ResourceExhausted);
        let fine = framing_answer(Status::not_found("no such district").into_http());
        assert_eq!(
            Status::from_header_map(fine.headers()).map(|s| s.code()),
            Some(Code::NotFound)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::limits::echo;

    #[test]
    fn a_refusal_names_the_first_problems_and_counts_the_rest() {
        let mut errors = ValidationErrors::new();
        for i in 0..10_000 {
            errors.push(
                format!("connector.settings.s{i}"),
                "is not a setting of this connector; known settings: base_url, client_id",
            );
        }
        let status = invalid(errors);
        assert!(
            status.message().ends_with("; and 9980 more"),
            "{}",
            status.message()
        );
        let details = status.get_error_details();
        let violations = details
            .bad_request()
            .map_or(0, |b| b.field_violations.len());
        assert_eq!(violations, limits::DETAILS);
        assert!(status.details().len() < 4_000, "{}", status.details().len());
    }

    #[test]
    fn an_unknown_id_is_quoted_cut() {
        let id = format!("with source id {}", echo(&"9".repeat(3_000_000)));
        let status = not_found("student", &id);
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.message().len() < 120, "{}", status.message());
        assert!(status.message().ends_with("(3000000 characters) not found"));
        // Even an id nobody quoted stays short.
        let status = from_store(StoreError::NotFound {
            entity: "student",
            id: "9".repeat(3_000_000),
        });
        assert!(status.message().chars().count() <= MAX_MESSAGE + 1);
    }
}
