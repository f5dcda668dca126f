//! The running simulator: an axum server on a loopback port, the live district behind a
//! lock, the token in force, the plugin settings, the fault queue and the request log.
//!
//! Every request goes through [`handle`]: read it whole, log it, meet a queued fault if
//! one matches, then [`dispatch`] it. No lock is held across an await.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::StreamExt as _;
use serde_json::json;

use super::auth::{self, PluginState, Tokens};
use super::config::SimConfig;
use super::data::District;
use super::powerquery::{self, DetailRecord};
use super::query::Params;
use super::reply::Reply;
use super::schema;
use super::tables::TableCache;
use super::v1;
use crate::kit::fault::{Fault, FaultKind, Faults};
use crate::kit::log::RequestLog;
use crate::kit::serve::Serving;

/// One request the simulator received, and the status it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw query string, as sent.
    pub query: String,
    /// The request body as text (empty for a `GET`).
    pub body: String,
    pub status: u16,
    /// When the request arrived.
    pub arrived: std::time::Instant,
    /// The fault it met, if one fired on it.
    pub fault: Option<FaultKind>,
}

/// The district and a counter bumped on every edit, read together.
#[derive(Debug)]
struct Live {
    district: District,
    generation: u64,
}

/// Query rows built from the district, kept until it changes.
type DetailCache = Mutex<Option<(u64, Arc<Vec<DetailRecord>>)>>;

#[derive(Debug)]
struct Shared {
    config: SimConfig,
    live: RwLock<Live>,
    tables: TableCache,
    details: DetailCache,
    tokens: Mutex<Tokens>,
    plugin: RwLock<PluginState>,
    faults: Faults,
    requests: RequestLog<RequestRecord>,
    /// How long every answer waits before it is worked out (a slow server), in µs.
    latency_micros: std::sync::atomic::AtomicU64,
    /// Requests being answered now, and the most at once since last asked.
    in_flight: std::sync::atomic::AtomicUsize,
    most_in_flight: std::sync::atomic::AtomicUsize,
}

/// Counts a request as in flight while it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let now = shared.in_flight.fetch_add(1, SeqCst) + 1;
        shared.most_in_flight.fetch_max(now, SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What [`dispatch`] needs of a request.
#[derive(Debug)]
struct Incoming<'a> {
    method: &'a str,
    path: &'a str,
    params: Params,
    headers: &'a HeaderMap,
    body: &'a [u8],
    short_page: bool,
}

/// A running PowerSchool simulator.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    serving: Serving,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Simulator {
    /// Generates a district from `config` and serves it on `127.0.0.1`, any free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let for_generation = config.clone();
        let district = tokio::task::spawn_blocking(move || District::generate(&for_generation))
            .await
            .map_err(std::io::Error::other)?;
        Simulator::serve(district, config).await
    }

    /// Serves `district` on `127.0.0.1`, any free port.
    pub async fn serve(district: District, config: SimConfig) -> std::io::Result<Simulator> {
        Self::serve_on(district, config, 0).await
    }

    /// Serves `district` on loopback port `port` (0: any free port).
    pub async fn serve_on(
        district: District,
        config: SimConfig,
        port: u16,
    ) -> std::io::Result<Simulator> {
        let listener = Serving::bind(port).await?;
        let shared = Arc::new(Shared {
            tokens: Mutex::new(Tokens::new(config.seed)),
            config,
            live: RwLock::new(Live {
                district,
                generation: 0,
            }),
            tables: TableCache::default(),
            details: Mutex::new(None),
            plugin: RwLock::new(PluginState::default()),
            faults: Faults::default(),
            latency_micros: std::sync::atomic::AtomicU64::new(0),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            most_in_flight: std::sync::atomic::AtomicUsize::new(0),
            requests: RequestLog::default(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let serving = Serving::start(listener, app, "powerschool")?;
        Ok(Simulator { shared, serving })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.serving.base_url()
    }

    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Changes the district live; later requests see the change.
    pub fn edit<R>(&self, f: impl FnOnce(&mut District) -> R) -> R {
        let mut live = self.shared.live.write().unwrap_or_else(|e| e.into_inner());
        live.generation += 1;
        f(&mut live.district)
    }

    /// Reads the district as it is now.
    pub fn district<R>(&self, f: impl FnOnce(&District) -> R) -> R {
        let live = self.shared.live.read().unwrap_or_else(|e| e.into_inner());
        f(&live.district)
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Changes how the plugin is set up.
    pub fn set_plugin(&self, plugin: PluginState) {
        *self
            .shared
            .plugin
            .write()
            .unwrap_or_else(|e| e.into_inner()) = plugin;
    }

    /// Makes the token in force answer 401 until a new one is requested.
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).revoke();
    }

    /// Every request received so far, in the order they were answered.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests.all()
    }

    /// Ages the tokens by `by` at once, as if that much time had passed.
    pub fn advance_token_clock(&self, by: std::time::Duration) {
        lock(&self.shared.tokens).advance(by);
    }

    /// How many requests met an injected fault: a fault test proves its fault fired.
    pub fn faults_fired(&self) -> usize {
        self.shared.faults.fired()
    }

    /// Makes every answer wait `latency` first, as a distant or busy server would.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.shared.latency_micros.store(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// The most requests it was answering at once since the last call.
    pub fn take_most_in_flight(&self) -> usize {
        self.shared
            .most_in_flight
            .swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    pub fn clear_requests(&self) {
        self.shared.requests.clear();
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 seconds),
    /// then stops.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// Every request: read, fault, dispatch, log.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let arrived = std::time::Instant::now();
    let _in_flight = InFlight::enter(&shared);
    let latency = shared
        .latency_micros
        .load(std::sync::atomic::Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_micros(latency)).await;
    }
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or("");
    let fault = shared.faults.take(method, path);
    let fired = fault.clone();
    let mut incoming = Incoming {
        method,
        path,
        params: Params::parse(raw_query),
        headers: &parts.headers,
        body: &body,
        short_page: false,
    };
    let (status, response) = match fault {
        None => respond(dispatch(&shared, &incoming)),
        Some(FaultKind::Status500) => respond(Reply::message(500, "Internal Server Error")),
        Some(FaultKind::TooManyRequests { retry_after_secs }) => respond(Reply {
            retry_after: Some(retry_after_secs),
            ..Reply::message(
                429,
                format!("too many requests, wait {retry_after_secs} seconds"),
            )
        }),
        Some(FaultKind::Unauthorized) => respond(Reply::invalid_token()),
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            respond(dispatch(&shared, &incoming))
        }
        Some(FaultKind::ShortPage) => {
            incoming.short_page = true;
            respond(dispatch(&shared, &incoming))
        }
        Some(FaultKind::MalformedJson) => {
            let mut reply = dispatch(&shared, &incoming);
            reply.status = 200;
            reply.body.truncate(reply.body.len() / 2);
            if reply.body.is_empty() {
                reply.body = b"{\"record\":[".to_vec();
            }
            respond(reply)
        }
        Some(FaultKind::DropMidBody) => {
            let reply = dispatch(&shared, &incoming);
            (reply.status, drop_mid_body(reply))
        }
        Some(FaultKind::HtmlError { status }) => (status, html_error(status)),
    };
    shared.requests.push(RequestRecord {
        method: method.to_owned(),
        path: path.to_owned(),
        query: raw_query.to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
        arrived,
        fault: fired,
    });
    response
}

fn respond(reply: Reply) -> (u16, Response) {
    (reply.status, reply.into_response())
}

/// `status` with an HTML page.
fn html_error(status: u16) -> Response {
    let code = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (code, crate::kit::fault::html_page(status)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The status, the headers with the full length, half the body, then a broken stream.
fn drop_mid_body(reply: Reply) -> Response {
    let full = reply.body.len();
    let half = Bytes::from(reply.body[..full / 2].to_vec());
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
    *response.status_mut() = reply.status_code();
    reply.headers(&mut response);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    response
}

/// Routes a request to its endpoint.
fn dispatch(shared: &Shared, req: &Incoming<'_>) -> Reply {
    let trimmed = req.path.strip_suffix('/').unwrap_or(req.path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let plugin = shared
        .plugin
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let config = &shared.config;
    match (req.method, segments.as_slice()) {
        ("POST", ["oauth", "access_token"]) => {
            let mut tokens = lock(&shared.tokens);
            return auth::access_token(config, &plugin, &mut tokens, req.headers, req.body);
        }
        (_, ["ws", ..]) => {}
        _ => return Reply::not_found(),
    }
    let authorized = auth::bearer(req.headers)
        .is_some_and(|token| lock(&shared.tokens).is_valid(token, config.token_lifetime));
    if !authorized {
        return Reply::invalid_token();
    }
    let live = shared.live.read().unwrap_or_else(|e| e.into_inner());
    let district = &live.district;
    match (req.method, segments.as_slice()) {
        ("GET", ["ws", "v1", "metadata"]) => v1::metadata(config),
        ("GET", ["ws", "v1", rest @ ..]) => {
            if !plugin.v1_access {
                return Reply::json(
                    401,
                    &json!({ "errorMessage": { "message": "Plugin is missing required accessLevelV1Api READ permission" } }),
                );
            }
            v1::route(config, district, rest, &req.params, req.short_page, &plugin)
        }
        ("GET", ["ws", "schema", "table", name, rest @ ..]) => {
            let count = match rest {
                [] => false,
                ["count"] => true,
                _ => return Reply::not_found(),
            };
            let request = match schema::prepare(
                name,
                count,
                &req.params,
                &plugin,
                config.table_value_lists,
            ) {
                Ok(request) => request,
                Err(reply) => return reply,
            };
            let table = shared.tables.get(request.spec, live.generation, district);
            schema::answer(
                &table,
                &request,
                &req.params,
                config.page_max(),
                req.short_page,
            )
        }
        ("POST", ["ws", "schema", "query", name, rest @ ..]) => {
            let count = match rest {
                [] => false,
                ["count"] => true,
                _ => return Reply::not_found(),
            };
            if let Err(reply) = powerquery::prepare(name, &plugin) {
                return reply;
            }
            let records = {
                let mut cache = lock(&shared.details);
                match cache.as_ref() {
                    Some((generation, records)) if *generation == live.generation => {
                        Arc::clone(records)
                    }
                    _ => {
                        let records = Arc::new(powerquery::records(district));
                        *cache = Some((live.generation, Arc::clone(&records)));
                        records
                    }
                }
            };
            powerquery::answer(
                &records,
                req.body,
                &req.params,
                count,
                req.short_page,
                config.page_cap,
            )
        }
        _ => Reply::not_found(),
    }
}
