//! An answer before it becomes an HTTP response: faults can delay, cut or spoil it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A status and a JSON body (plus `Retry-After` for throttling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            body: serde_json::to_vec(value).unwrap_or_default(),
            retry_after: None,
        }
    }

    pub fn ok(value: &Value) -> Reply {
        Reply::json(200, value)
    }

    /// `{"message": …}`, the error body of `/ws` resources.
    pub fn message(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({ "message": message.into() }))
    }

    /// A missing, unknown, expired or revoked access token.
    pub fn invalid_token() -> Reply {
        Reply::json(401, &json!({ "error": "invalid_token" }))
    }

    pub fn not_found() -> Reply {
        Reply::message(404, "Not Found")
    }

    /// An `Invalid field specified` answer (400).
    pub fn invalid_field(detail: impl std::fmt::Display) -> Reply {
        Reply::message(400, format!("Invalid field specified: {detail}"))
    }

    /// The headers every answer carries.
    pub fn headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status_code(), self.body.clone()).into_response();
        self.headers(&mut response);
        response
    }
}
