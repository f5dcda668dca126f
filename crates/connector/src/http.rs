//! The HTTP plumbing every connector shares: one `reqwest` client (rustls), a pacer that
//! keeps a minimum interval between requests (PowerSchool's per-plugin throttle, Clever's
//! and OneRoster's rate limits), and retries with exponential backoff (`backon`) that
//! honour `Retry-After` on 429/503.
//!
//! Retried: connection failures, timeouts, a body cut off mid-way, 429, 5xx and a body that
//! does not parse (a truncated answer). Not retried: 401 (the caller renews its token and
//! tries once more), 403, 404 and other 4xx — trying again cannot change them.
//!
//! Every error names the endpoint as `METHOD /path`; URLs in errors carry no query string
//! and header values that hold credentials are marked sensitive, so nothing here can put a
//! secret in a log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{excerpt, ConnectorError};

/// How a connector talks HTTP. The defaults suit a nightly pull; tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Whole-request limit, body included.
    pub request_timeout: Duration,
    /// Minimum time between the starts of two requests (0 = no pacing).
    pub min_interval: Duration,
    pub retry: RetryPolicy,
    /// The longest `Retry-After` honoured; longer waits are cut to this.
    pub max_retry_after: Duration,
    /// Requests of one pull that may be in flight at once.
    pub concurrency: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            min_interval: Duration::ZERO,
            retry: RetryPolicy::default(),
            max_retry_after: Duration::from_secs(300),
            concurrency: 4,
        }
    }
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries after the first one.
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A body to send.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Form(String),
    Json(serde_json::Value),
}

/// One request, kept whole so that every retry sends the same thing.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: url::Url,
    /// `METHOD /path`, for errors and logs.
    pub endpoint: String,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Request {
    /// A request to `url`; the endpoint name is its method and path.
    pub fn new(method: Method, url: url::Url) -> Self {
        let endpoint = format!("{method} {}", url.path());
        Request {
            method,
            url,
            endpoint,
            headers: HeaderMap::new(),
            body: Body::Empty,
        }
    }

    pub fn get(url: url::Url) -> Self {
        Request::new(Method::GET, url)
    }

    pub fn post(url: url::Url, body: Body) -> Self {
        Request {
            body,
            ..Request::new(Method::POST, url)
        }
    }

    /// Adds a header; `sensitive` ones (credentials) never show in debug output.
    pub fn header(mut self, name: HeaderName, value: &str, sensitive: bool) -> Self {
        if let Ok(mut v) = HeaderValue::from_str(value) {
            v.set_sensitive(sensitive);
            self.headers.insert(name, v);
        }
        self
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

/// Shared client: clone freely, clones share the connection pool and the pacer.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: Arc<HttpConfig>,
    pacer: Arc<Pacer>,
}

/// One failed attempt, with how long the server asked us to wait.
#[derive(Debug)]
struct AttemptError {
    error: ConnectorError,
    retry_after: Option<Duration>,
}

impl From<ConnectorError> for AttemptError {
    fn from(error: ConnectorError) -> Self {
        AttemptError {
            error,
            retry_after: None,
        }
    }
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Result<Self, ConnectorError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("rostersync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Unreachable {
                endpoint: "client setup".into(),
                reason: e.without_url().to_string(),
            })?;
        Ok(HttpClient {
            client,
            pacer: Arc::new(Pacer::new(config.min_interval)),
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends `request`, retrying transient failures, and returns the 2xx answer.
    pub async fn send(&self, request: &Request) -> Result<Answer, ConnectorError> {
        self.retrying(request, Ok).await
    }

    /// Sends `request` and parses its JSON body into `T`; a body that does not parse is
    /// retried like a network fault, then reported as [`ConnectorError::Malformed`].
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<T, ConnectorError> {
        self.retrying(request, |answer| {
            serde_json::from_slice(&answer.body).map_err(|e| ConnectorError::Malformed {
                endpoint: request.endpoint.clone(),
                reason: e.to_string(),
            })
        })
        .await
    }

    async fn retrying<T>(
        &self,
        request: &Request,
        parse: impl Fn(Answer) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        let policy = &self.config.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.retries)
            .with_jitter();
        let max_retry_after = self.config.max_retry_after;
        let mut attempts = 0usize;
        let result = (|| {
            attempts += 1;
            let attempt = self.attempt(request);
            let parse = &parse;
            async move {
                attempt
                    .await
                    .and_then(|a| parse(a).map_err(AttemptError::from))
            }
        })
        .retry(backoff)
        .when(|e: &AttemptError| e.error.is_transient())
        .adjust(
            move |e: &AttemptError, planned| match (e.retry_after, planned) {
                (Some(wait), Some(_)) => Some(wait.min(max_retry_after)),
                (_, planned) => planned,
            },
        )
        .notify(|e: &AttemptError, wait| {
            tracing::warn!(endpoint = %request.endpoint, error = %e.error, ?wait, "retrying");
        })
        .await;
        result.map_err(|e| match e.error {
            ConnectorError::Throttled {
                endpoint, status, ..
            } => ConnectorError::Throttled {
                endpoint,
                status,
                attempts,
            },
            other => other,
        })
    }

    async fn attempt(&self, request: &Request) -> Result<Answer, AttemptError> {
        self.pacer.wait().await;
        let endpoint = &request.endpoint;
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        builder = match &request.body {
            Body::Empty => builder,
            Body::Form(form) => builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded;charset=UTF-8",
                )
                .body(form.clone()),
            Body::Json(value) => builder.json(value),
        };
        let started = Instant::now();
        let response = builder
            .send()
            .await
            .map_err(|e| transport(endpoint, &e, self))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| transport(endpoint, &e, self))?;
        tracing::debug!(%endpoint, status = status.as_u16(), bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64, "answered");
        if status.is_success() {
            return Ok(Answer { status, body });
        }
        let detail = error_detail(&body);
        let endpoint = endpoint.clone();
        let error = match status {
            StatusCode::UNAUTHORIZED => ConnectorError::Unauthorized { endpoint, detail },
            StatusCode::FORBIDDEN => ConnectorError::Forbidden { endpoint, detail },
            StatusCode::NOT_FOUND => ConnectorError::NotFound { endpoint, detail },
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                ConnectorError::Throttled {
                    endpoint,
                    status: status.as_u16(),
                    attempts: 1,
                }
            }
            _ => ConnectorError::Http {
                endpoint,
                status: status.as_u16(),
                detail,
            },
        };
        Err(AttemptError { error, retry_after })
    }
}

fn transport(endpoint: &str, e: &reqwest::Error, client: &HttpClient) -> AttemptError {
    let endpoint = endpoint.to_owned();
    let reason = chain(e);
    let error = if e.is_timeout() {
        ConnectorError::Timeout {
            endpoint,
            timeout: client.config.request_timeout,
        }
    } else if e.is_connect() {
        ConnectorError::Unreachable { endpoint, reason }
    } else {
        ConnectorError::Interrupted { endpoint, reason }
    };
    error.into()
}

/// The error and its causes, without the URL.
fn chain(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    out.push_str(&strip_url(&e.to_string()));
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn strip_url(message: &str) -> String {
    match message.find(" for url (") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is read as "retry soon").
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    match raw.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

/// A readable reason from an error body: the `message`, `error_description` or `error`
/// member of a JSON body (also nested under `errorMessage`), with any per-field `errors`,
/// else the start of the body.
pub fn error_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return excerpt(&text, 300);
    };
    let pick = |v: &serde_json::Value| -> Option<String> {
        ["message", "error_description", "error"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = pick(&value).or_else(|| value.get("errorMessage").and_then(pick)) {
        parts.push(m);
    }
    if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
        for e in errors.iter().take(10) {
            let field = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            parts.push(format!(
                "{} {} {}",
                field("resource"),
                field("field"),
                field("code")
            ));
        }
    }
    if parts.is_empty() {
        excerpt(&text, 300)
    } else {
        excerpt(&parts.join("; "), 600)
    }
}

/// Spaces the starts of requests at least `interval` apart.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            next: tokio::sync::Mutex::new(None),
        }
    }

    async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let at = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details_come_from_the_json_body() {
        assert_eq!(
            error_detail(br#"{"errorMessage":{"message":"Plugin is missing required accessLevelV1Api READ permission"}}"#),
            "Plugin is missing required accessLevelV1Api READ permission"
        );
        assert_eq!(
            error_detail(br#"{"message":"At least one column lacks sufficient permission","errors":[{"code":"NoAccess","field":"isdecisionmaking","resource":"u_studentcontactdetail"}]}"#),
            "At least one column lacks sufficient permission; u_studentcontactdetail isdecisionmaking NoAccess"
        );
        assert_eq!(
            error_detail(b"<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn endpoints_name_method_and_path_only() {
        let url =
            url::Url::parse("https://ps.example/ws/schema/table/person?q=id==(1,2)").expect("url");
        assert_eq!(Request::get(url).endpoint, "GET /ws/schema/table/person");
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_requests() {
        let pacer = Pacer::new(Duration::from_millis(100));
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(300));
    }
}
