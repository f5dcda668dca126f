//! The HTTP plumbing every connector shares: one `reqwest` client (rustls), a pacer that
//! keeps a minimum interval between requests (PowerSchool's per-plugin throttle), a
//! request budget per minute (`governor`; Clever's 1,200 per token, or what the district
//! sets) that also slows down when the source says its budget is spent
//! (`X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`), and retries with exponential
//! backoff (`backon`) that honour `Retry-After` (seconds or an HTTP date) on 429/503.
//! A request may carry a signer called before every attempt, so a retried request is
//! signed afresh (OAuth 1.0a needs a new nonce and timestamp each time); answers carry
//! their headers (OneRoster's `X-Total-Count`).
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
pub use reqwest::header::HeaderName;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ConnectorError;

mod detail;
mod limits;
mod links;

pub use detail::error_detail;
pub use limits::budget_quota;
use limits::{retry_after, Budget, Pacer};

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
    /// Requests of one pull that may be in flight at once (a connector's district
    /// setting may lower or raise it).
    pub concurrency: usize,
    /// The most requests started in any minute (`None`: no budget). Shared by every
    /// clone of the client, so a run, spot syncs and connection tests of one district
    /// draw on one budget.
    pub requests_per_minute: Option<u32>,
    /// The source's name in metrics (the connector kind; the registry fills it in).
    pub source: String,
    /// The addresses requests may go to (the service restricts them; see
    /// [`crate::outbound`]).
    pub targets: crate::outbound::Targets,
}

/// Requests of one pull in flight at once unless a district says otherwise: a source
/// answering in 100 ms serves a 100,000-student PowerSchool pull in about 8 minutes.
pub const DEFAULT_CONCURRENCY: usize = 12;

/// Requests sent to a source (each attempt), by source.
pub const REQUESTS: &str = "rostersync_source_requests_total";
/// Attempts retried after a transient failure, by source.
pub const RETRIES: &str = "rostersync_source_retries_total";
/// Answers saying the source is busy (429, 503), by source.
pub const THROTTLED: &str = "rostersync_source_throttled_total";
/// Requests that waited for the request budget or the source's reset, by source.
pub const BUDGET_WAITS: &str = "rostersync_source_budget_waits_total";

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            min_interval: Duration::ZERO,
            retry: RetryPolicy::default(),
            max_retry_after: Duration::from_secs(300),
            concurrency: DEFAULT_CONCURRENCY,
            requests_per_minute: None,
            source: String::new(),
            targets: crate::outbound::Targets::default(),
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
    /// Exactly these bytes, of this content type (a body something else signed).
    Bytes(&'static str, bytes::Bytes),
}

/// Signs a request before each attempt (an `Authorization` header computed from the
/// method, the URL and a fresh nonce and time), so a retry is signed anew.
pub trait Signer: Send + Sync {
    fn sign(
        &self,
        method: &Method,
        url: &url::Url,
        headers: &mut HeaderMap,
    ) -> Result<(), ConnectorError>;
}

/// One request, kept whole so that every retry sends the same thing (signed afresh).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: url::Url,
    /// `METHOD /path`, for errors and logs.
    pub endpoint: String,
    pub headers: HeaderMap,
    pub body: Body,
    pub signer: Option<Arc<dyn Signer>>,
}

/// Shows the endpoint, never the query string or credentials.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("endpoint", &self.endpoint)
            .field("headers", &self.headers)
            .field("signed", &self.signer.is_some())
            .finish()
    }
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
            signer: None,
        }
    }

    /// Signs the request with `signer` before every attempt.
    pub fn signed(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
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
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    /// A header as a number (`X-Total-Count`), if present and numeric.
    pub fn header_number(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }
}

/// Shared client: clone freely, clones share the connection pool, the pacer, the
/// request budget and the bound on requests in flight.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: Arc<HttpConfig>,
    pacer: Arc<Pacer>,
    budget: Arc<Budget>,
    /// One permit per request in flight: however a connector fans its requests out,
    /// no more than `concurrency` of them reach the source at once.
    in_flight: Arc<tokio::sync::Semaphore>,
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
            .dns_resolver(crate::outbound::resolver(config.targets))
            // A redirect could lead anywhere: a source's answer is what it says.
            .redirect(reqwest::redirect::Policy::none())
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
            budget: Arc::new(Budget::new(config.requests_per_minute, &config.source)),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1))),
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// A client on the same connections, pacer and request budget with other timeouts
    /// and retries (a connection check's quick answers).
    pub fn with_patience(&self, adjust: impl FnOnce(&mut HttpConfig)) -> HttpClient {
        let mut config = (*self.config).clone();
        adjust(&mut config);
        HttpClient {
            client: self.client.clone(),
            config: Arc::new(config),
            pacer: self.pacer.clone(),
            budget: self.budget.clone(),
            in_flight: self.in_flight.clone(),
        }
    }

    /// How many requests this client (and its clones) waited for the budget.
    pub fn budget_waits(&self) -> u64 {
        self.budget.waits()
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

    /// Sends `request` and reads the 2xx answer with `parse` (headers and body); an
    /// answer `parse` refuses as malformed is retried like a network fault.
    pub async fn send_with<T>(
        &self,
        request: &Request,
        parse: impl Fn(Answer) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        self.retrying(request, parse).await
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
            metrics::counter!(RETRIES, "source" => self.config.source.clone()).increment(1);
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
        // A name is checked by the resolver; an address written in the URL here.
        let literal = match request.url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(why) = literal.and_then(|ip| self.config.targets.refuses(ip)) {
            return Err(ConnectorError::TargetRefused {
                endpoint: request.endpoint.clone(),
                reason: format!("the server is {why}, {}", crate::outbound::REFUSAL),
            }
            .into());
        }
        // Held from before the request is sent until its body is read, never across
        // two requests, so no request waits on a permit another one of its own holds.
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| ConnectorError::Unreachable {
                endpoint: request.endpoint.clone(),
                reason: "the client is closed".into(),
            })?;
        self.budget.wait().await;
        self.pacer.wait().await;
        let endpoint = &request.endpoint;
        let mut headers = request.headers.clone();
        if let Some(signer) = &request.signer {
            signer.sign(&request.method, &request.url, &mut headers)?;
        }
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .timeout(self.config.request_timeout)
            .headers(headers);
        builder = match &request.body {
            Body::Empty => builder,
            Body::Form(form) => builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded;charset=UTF-8",
                )
                .body(form.clone()),
            Body::Json(value) => builder.json(value),
            Body::Bytes(content_type, bytes) => builder
                .header(reqwest::header::CONTENT_TYPE, *content_type)
                .body(bytes.clone()),
        };
        let started = Instant::now();
        metrics::counter!(REQUESTS, "source" => self.config.source.clone()).increment(1);
        let response = builder
            .send()
            .await
            .map_err(|e| transport(endpoint, &e, self))?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
        self.budget
            .heed(response.headers(), self.config.max_retry_after);
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport(endpoint, &e, self))?;
        tracing::debug!(%endpoint, status = status.as_u16(), bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64, "answered");
        if status.is_success() {
            return Ok(Answer {
                status,
                headers,
                body,
            });
        }
        let detail = error_detail(&body);
        let endpoint = endpoint.clone();
        let error = match status {
            StatusCode::UNAUTHORIZED => ConnectorError::Unauthorized { endpoint, detail },
            StatusCode::FORBIDDEN => ConnectorError::Forbidden { endpoint, detail },
            StatusCode::NOT_FOUND => ConnectorError::NotFound { endpoint, detail },
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                metrics::counter!(THROTTLED, "source" => self.config.source.clone()).increment(1);
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
    } else if e.is_connect() && reason.contains(crate::outbound::REFUSAL) {
        // The resolver refused every address of the name.
        let reason = reason
            .rsplit(": ")
            .find(|part| part.contains(crate::outbound::REFUSAL))
            .unwrap_or(&reason)
            .to_owned();
        ConnectorError::TargetRefused { endpoint, reason }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_method_and_path_only() {
        let url =
            url::Url::parse("https://ps.example/ws/schema/table/person?q=id==(1,2)").expect("url");
        assert_eq!(Request::get(url).endpoint, "GET /ws/schema/table/person");
    }

    /// A loopback server that answers each connection's request with the next status of
    /// `statuses` and records the `Authorization` header it got.
    async fn scripted(statuses: &'static [u16]) -> (url::Url, Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = url::Url::parse(&format!(
            "http://{}/signed",
            listener.local_addr().expect("addr")
        ))
        .expect("url");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for status in statuses {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let auth = head
                    .lines()
                    .find_map(|l| l.strip_prefix("authorization: "))
                    .unwrap_or_default()
                    .to_owned();
                log.lock().expect("log").push(auth);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        (url, seen)
    }

    /// Signs with a new nonce on every call.
    struct Counting(std::sync::atomic::AtomicU32);

    impl Signer for Counting {
        fn sign(
            &self,
            method: &Method,
            url: &url::Url,
            headers: &mut HeaderMap,
        ) -> Result<(), ConnectorError> {
            let nonce = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let value = format!("Sig {method} {} nonce={nonce}", url.path());
            headers.insert(
                reqwest::header::AUTHORIZATION,
                HeaderValue::from_str(&value).expect("header"),
            );
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_retried_request_is_signed_afresh() {
        let (url, seen) = scripted(&[503, 500, 200]).await;
        let client = HttpClient::new(HttpConfig {
            retry: RetryPolicy {
                retries: 3,
                min_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
            ..HttpConfig::default()
        })
        .expect("client");
        let request = Request::get(url).signed(Arc::new(Counting(0.into())));
        let answer = client.send(&request).await.expect("the third try answers");
        assert_eq!(answer.status, StatusCode::OK);
        let seen = seen.lock().expect("log").clone();
        assert_eq!(
            seen,
            [
                "Sig GET /signed nonce=0",
                "Sig GET /signed nonce=1",
                "Sig GET /signed nonce=2"
            ]
        );
    }
}
