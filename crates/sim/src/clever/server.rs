//! The running simulator: an axum server on a loopback port, the live district behind a
//! lock, the rate limiter, the fault queue and the request log.
//!
//! Every request goes through `handle`: read it whole, count it against its token's
//! window, meet a queued fault if one matches, then `dispatch` it; every answer gets the
//! rate-limit headers. No lock is held across an await.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::config::CleverSimConfig;
use super::data::District;
use super::list::Params;
use super::ratelimit::{RateLimiter, RateState};
use super::render::Version;
use super::reply::Reply;
use super::routes::{self, Resource};
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
    pub status: u16,
    /// When the request arrived.
    pub arrived: Instant,
    /// The fault it met, if one fired on it.
    pub fault: Option<FaultKind>,
}

#[derive(Debug)]
struct Shared {
    config: CleverSimConfig,
    district: RwLock<District>,
    limiter: Mutex<RateLimiter>,
    faults: Faults,
    requests: RequestLog<RequestRecord>,
    /// The district disconnected the app: the token answers 401.
    revoked: AtomicBool,
}

/// A running Clever simulator.
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
    pub async fn start(config: CleverSimConfig) -> std::io::Result<Simulator> {
        let for_generation = config.clone();
        let district = tokio::task::spawn_blocking(move || District::generate(&for_generation))
            .await
            .map_err(std::io::Error::other)?;
        Simulator::serve(district, config).await
    }

    /// Serves `district` on `127.0.0.1`, any free port.
    pub async fn serve(district: District, config: CleverSimConfig) -> std::io::Result<Simulator> {
        let listener = Serving::bind(0).await?;
        let shared = Arc::new(Shared {
            limiter: Mutex::new(RateLimiter::new(config.rate_limit, config.rate_window)),
            config,
            district: RwLock::new(district),
            faults: Faults::default(),
            requests: RequestLog::default(),
            revoked: AtomicBool::new(false),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let serving = Serving::start(listener, app, "clever")?;
        Ok(Simulator { shared, serving })
    }

    /// `http://127.0.0.1:PORT` (paths start with `/v3.0` or `/v3.1`).
    pub fn base_url(&self) -> String {
        self.serving.base_url()
    }

    /// The district-app bearer token the simulator accepts.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The district's Clever id.
    pub fn district_id(&self) -> &str {
        &self.shared.config.district_id
    }

    pub fn config(&self) -> &CleverSimConfig {
        &self.shared.config
    }

    /// Changes the district live; later requests see the change.
    pub fn edit<R>(&self, f: impl FnOnce(&mut District) -> R) -> R {
        let mut district = self
            .shared
            .district
            .write()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut district)
    }

    /// Reads the district as it is now.
    pub fn district<R>(&self, f: impl FnOnce(&District) -> R) -> R {
        let district = self
            .shared
            .district
            .read()
            .unwrap_or_else(|e| e.into_inner());
        f(&district)
    }

    /// Edits a contact the way Clever treats a contact without `sis_id`: deletes it and
    /// creates it again under a new id (same name, e-mail, phone and students). Answers
    /// the new id; the old one answers 404.
    ///
    /// # Panics
    /// When no contact has `id` (a mistake in the test calling it).
    pub fn recreate_contact(&self, id: &str) -> String {
        self.edit(|d| d.recreate_contact(id))
            .unwrap_or_else(|| panic!("the simulated district has no contact {id}"))
    }

    /// Changes the `sis_id` of a student, teacher or contact; Clever gives the user a new
    /// id, answered here (the old one answers 404, references follow).
    ///
    /// # Panics
    /// When no student, teacher or contact has `user_id`.
    pub fn change_sis_id(&self, user_id: &str, new_sis_id: &str) -> String {
        self.edit(|d| d.change_sis_id(user_id, new_sis_id))
            .unwrap_or_else(|| {
                panic!("the simulated district has no user {user_id} with an sis_id")
            })
    }

    /// The district stops sharing a user, school or section: it vanishes from every list
    /// (a user also from the `students`/`teachers` of sections and the
    /// `student_relationships` of contacts) and its `/{id}` answers 404.
    ///
    /// # Panics
    /// When the district holds no record with `id`.
    pub fn unshare(&self, id: &str) {
        if !self.edit(|d| d.unshare(id)) {
            panic!("the simulated district has no record {id}");
        }
    }

    /// Shares an unshared record again, under the same id.
    pub fn reshare(&self, id: &str) {
        self.edit(|d| d.reshare(id));
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// How many requests met an injected fault: a fault test proves its fault fired.
    pub fn faults_fired(&self) -> usize {
        self.shared.faults.fired()
    }

    /// Every request received so far, in the order they were answered.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests.all()
    }

    pub fn clear_requests(&self) {
        self.shared.requests.clear();
    }

    /// Revokes the token, as a district disconnecting the app does: every request answers
    /// 401 until [`Simulator::restore_token`].
    pub fn revoke_token(&self) {
        self.shared.revoked.store(true, Ordering::SeqCst);
    }

    /// Accepts the token again.
    pub fn restore_token(&self) {
        self.shared.revoked.store(false, Ordering::SeqCst);
    }

    /// Forgets every token's count, as if a new window had begun.
    pub fn reset_rate_limits(&self) {
        lock(&self.shared.limiter).reset();
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 seconds),
    /// then stops.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// What [`dispatch`] needs of a request.
#[derive(Debug)]
struct Incoming<'a> {
    method: &'a str,
    path: &'a str,
    raw_query: &'a str,
    headers: &'a HeaderMap,
    rate: RateState,
    short_page: bool,
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Every request: read, count, fault, dispatch, log.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = axum::body::to_bytes(body, 1024 * 1024).await;
    let arrived = Instant::now();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or("");
    let fault = shared.faults.take(method, path);
    let token = bearer(&parts.headers).unwrap_or("");
    let rate = lock(&shared.limiter).hit(token, arrived);
    let fired = fault.clone();
    let mut incoming = Incoming {
        method,
        path,
        raw_query,
        headers: &parts.headers,
        rate,
        short_page: false,
    };
    let reply = match fault {
        None => Some(dispatch(&shared, &incoming)),
        Some(FaultKind::Status500) => Some(Reply::message(500, "Internal Server Error")),
        Some(FaultKind::TooManyRequests { retry_after_secs }) => {
            incoming.rate.remaining = 0;
            incoming.rate.reset_unix = unix_now() + retry_after_secs;
            Some(Reply::message(429, "Too Many Requests").header("retry-after", retry_after_secs))
        }
        Some(FaultKind::Unauthorized) => Some(Reply::message(401, "Unauthorized")),
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Some(dispatch(&shared, &incoming))
        }
        Some(FaultKind::ShortPage) => {
            incoming.short_page = true;
            Some(dispatch(&shared, &incoming))
        }
        Some(FaultKind::MalformedJson) => {
            let mut reply = dispatch(&shared, &incoming);
            reply.status = 200;
            reply.body.truncate(reply.body.len() / 2);
            if reply.body.is_empty() {
                reply.body = b"{\"data\":[".to_vec();
            }
            Some(reply)
        }
        Some(FaultKind::HtmlError { status }) => Some(Reply::html(status)),
        Some(FaultKind::DropMidBody) => None,
    };
    let (status, response) = match reply {
        Some(reply) => {
            let reply = with_rate_headers(reply, &incoming.rate);
            (reply.status, reply.into_response())
        }
        None => {
            let reply = with_rate_headers(dispatch(&shared, &incoming), &incoming.rate);
            (reply.status, reply.dropped_mid_body())
        }
    };
    shared.requests.push(RequestRecord {
        method: method.to_owned(),
        path: path.to_owned(),
        query: raw_query.to_owned(),
        status,
        arrived,
        fault: fired,
    });
    response
}

fn with_rate_headers(mut reply: Reply, rate: &RateState) -> Reply {
    reply.headers.extend(rate.headers());
    reply
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Routes a request: the version, the token, the rate limit, then the resource.
fn dispatch(shared: &Shared, req: &Incoming<'_>) -> Reply {
    let trimmed = req.path.strip_suffix('/').unwrap_or(req.path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let Some((version, rest)) = segments
        .split_first()
        .and_then(|(first, rest)| Version::parse(first).map(|v| (v, rest)))
    else {
        return Reply::not_found();
    };
    let config = &shared.config;
    if req.rate.over {
        let reply = if config.html_429_body {
            Reply::html(429)
        } else {
            Reply::message(429, "Too Many Requests")
        };
        return if config.retry_after_on_429 {
            reply.header("retry-after", req.rate.retry_after)
        } else {
            reply
        };
    }
    if bearer(req.headers) != Some(config.token.as_str()) || shared.revoked.load(Ordering::SeqCst) {
        return Reply::message(401, "Unauthorized: missing or invalid bearer token");
    }
    if req.method != "GET" {
        return Reply::message(501, "Unsupported request");
    }
    let refused = config.quirks.refused.iter().find(|(path, _)| {
        let path = path.trim_start_matches('/');
        let joined = rest.join("/");
        joined == path || joined.starts_with(&format!("{path}/"))
    });
    if let Some((_, status)) = refused {
        return Reply::message(*status, "Resource not available");
    }
    let params = Params::parse(req.raw_query);
    let district = shared.district.read().unwrap_or_else(|e| e.into_inner());
    routes::answer(
        &district,
        &Resource {
            version,
            segments: rest,
            path: trimmed,
            raw_query: req.raw_query,
            params: &params,
            max_limit: config.max_limit,
            short_page: req.short_page,
            page_cap: config.quirks.page_cap,
        },
    )
}
