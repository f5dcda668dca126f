//! An answer before it becomes an HTTP response: faults can delay, cut or spoil it. Owns
//! the OneRoster status-info failure envelope every roster error is sent in.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{json, Value};

/// A status, a body (JSON, or HTML for some errors) and extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub html: bool,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply::raw_json(status, serde_json::to_vec(value).unwrap_or_default())
    }

    pub fn raw_json(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            body,
            html: false,
            headers: Vec::new(),
        }
    }

    /// The OneRoster status-info envelope: `imsx_codeMajor` `failure`, severity `error`,
    /// the description, and the code minor under `TargetEndSystem`.
    pub fn failure(status: u16, minor: &str, description: impl Into<String>) -> Reply {
        Reply::json(
            status,
            &json!({
                "imsx_codeMajor": "failure",
                "imsx_severity": "error",
                "imsx_description": description.into(),
                "imsx_CodeMinor": {"imsx_codeMinorField": [{
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": minor,
                }]},
            }),
        )
    }

    /// 404 `unknownobject`.
    pub fn not_found(description: impl Into<String>) -> Reply {
        Reply::failure(404, "unknownobject", description)
    }

    /// 400 with `minor`.
    pub fn bad_request(minor: &str, description: impl Into<String>) -> Reply {
        Reply::failure(400, minor, description)
    }

    /// An HTML error page.
    pub fn html(status: u16) -> Reply {
        Reply {
            status,
            body: crate::kit::fault::html_page(status).into_bytes(),
            html: true,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl ToString) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    fn apply_headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        let content_type = if self.html {
            "text/html; charset=utf-8"
        } else {
            "application/json; charset=utf-8"
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The status, the headers with the full length, half the body, then a broken stream.
    pub fn dropped_mid_body(self) -> Response {
        let full = self.body.len();
        let half = Bytes::from(self.body[..full / 2].to_vec());
        // The pause lets the head and the first half reach the wire before the abort.
        let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(half) });
        let abort = futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "connection dropped by fault injection",
            ))
        });
        let mut response = Response::new(Body::from_stream(first.chain(abort)));
        *response.status_mut() = self.status_code();
        self.apply_headers(&mut response);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
        response
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut response = (status, Body::from(self.body.clone())).into_response();
        self.apply_headers(&mut response);
        response
    }
}
