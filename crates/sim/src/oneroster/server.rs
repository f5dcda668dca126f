//! The running simulator: an axum server on a loopback port, the live district behind a
//! lock, the credentials guard (OAuth1 nonces, OAuth2 tokens), the rate limiter, the
//! fault queue and the request log.
//!
//! Every request goes through `handle`: read it whole, meet a queued fault if one matches
//! (faults fire before credentials are checked), then `dispatch` it: `POST /oauth/token`,
//! the discovery API (`/applications…`, partner Bearer), or a roster path (OAuth1 or
//! Bearer, then the rate limit, then [`super::routes`]). No lock is held across an await.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

use super::config::OneRosterSimConfig;
use super::data::{District, Status};
use super::oauth::{self, Guard, Signed};
use super::query::Params;
use super::ratelimit::RateLimiter;
use super::render::{Ctx, Version};
use super::reply::Reply;
use super::routes::{self, Roster};
use crate::kit::fault::{Fault, FaultKind, Faults};
use crate::kit::log::RequestLog;
use crate::kit::serve::Serving;

/// One request the simulator received, and the status it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The path as received (still percent-encoded).
    pub path: String,
    /// The raw query string, as sent.
    pub query: String,
    pub status: u16,
    /// When the request arrived.
    pub arrived: Instant,
    /// The fault it met, if one fired on it.
    pub fault: Option<FaultKind>,
    /// The `oauth_nonce` of its OAuth1 header, if it had one.
    pub oauth_nonce: Option<String>,
    /// Why its credentials were refused ("invalid signature", "nonce already used",
    /// "stale timestamp", "unknown consumer key", "invalid token", …).
    pub auth_refusal: Option<String>,
}

#[derive(Debug)]
struct Shared {
    config: OneRosterSimConfig,
    addr: std::net::SocketAddr,
    district: RwLock<District>,
    guard: Mutex<Guard>,
    limiter: Mutex<RateLimiter>,
    faults: Faults,
    requests: RequestLog<RequestRecord>,
    /// Our application is enabled for the tenant (discovery's `enabled`).
    app_enabled: AtomicBool,
    /// The per-district `bearer` of our discovery record, accepted on roster paths as the
    /// ClassLink proxy accepts it.
    district_bearer: String,
    /// Roster collection pages answered, for [`super::quirks::Quirks::revision_moves_after`].
    roster_pages: AtomicUsize,
}

/// A running OneRoster (ClassLink Roster Server) simulator.
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
    pub async fn start(config: OneRosterSimConfig) -> std::io::Result<Simulator> {
        let for_generation = config.clone();
        let district = tokio::task::spawn_blocking(move || District::generate(&for_generation))
            .await
            .map_err(std::io::Error::other)?;
        Simulator::serve(district, config).await
    }

    /// Serves `district` on `127.0.0.1`, any free port.
    pub async fn serve(
        mut district: District,
        config: OneRosterSimConfig,
    ) -> std::io::Result<Simulator> {
        district.normalize();
        let listener = Serving::bind(0).await?;
        let addr = listener.local_addr()?;
        let district_bearer = format!("district-bearer-{}-{}", config.tenant_id, config.seed);
        let mut guard = Guard::new(
            &config.client_id,
            &config.client_secret,
            config.timestamp_window,
        );
        guard.standing_bearers.push(district_bearer.clone());
        let shared = Arc::new(Shared {
            limiter: Mutex::new(RateLimiter::new(config.rate_limit, config.rate_window)),
            guard: Mutex::new(guard),
            config,
            addr,
            district: RwLock::new(district),
            faults: Faults::default(),
            requests: RequestLog::default(),
            app_enabled: AtomicBool::new(true),
            district_bearer,
            roster_pages: AtomicUsize::new(0),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let serving = Serving::start(listener, app, "oneroster")?;
        Ok(Simulator { shared, serving })
    }

    /// `http://127.0.0.1:PORT`; the roster roots are `/ims/oneroster/v1p1` and
    /// `/ims/oneroster/rostering/v1p2`.
    pub fn base_url(&self) -> String {
        self.serving.base_url()
    }

    /// `{base}/oauth/token`, the OAuth2 client-credentials endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url())
    }

    /// `{base}`: discovery is `GET /applications` and
    /// `GET /applications/{oneroster_application_id}/server` on the same host.
    pub fn discovery_url(&self) -> String {
        self.base_url()
    }

    /// The configuration the simulator started with (`client_secret` is the first one;
    /// see [`Simulator::client_secret`] after a rotation).
    pub fn config(&self) -> &OneRosterSimConfig {
        &self.shared.config
    }

    /// The client secret in force now.
    pub fn client_secret(&self) -> String {
        lock(&self.shared.guard).client_secret.clone()
    }

    /// The per-district `bearer` of our discovery record (accepted on roster paths).
    pub fn district_bearer(&self) -> &str {
        &self.shared.district_bearer
    }

    /// Changes the district live; later requests see the change.
    pub fn edit<R>(&self, f: impl FnOnce(&mut District) -> R) -> R {
        let mut district = self
            .shared
            .district
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let out = f(&mut district);
        district.normalize();
        out
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

    /// Sets the `status` of any record (`"active"`, `"tobedeleted"` or `"inactive"`) and
    /// moves its `dateLastModified` to now.
    ///
    /// # Panics
    /// On an unknown status or when no record has `id`.
    pub fn set_status(&self, id: &str, status: &str) {
        let status =
            Status::parse(status).unwrap_or_else(|| panic!("unknown OneRoster status {status}"));
        if !self.edit(|d| d.set_status(id, status)) {
            panic!("the simulated district has no record {id}");
        }
    }

    /// Withdraws a record: it vanishes from every list (a user also from `agents`, its
    /// enrollments with it) and its `/{id}` answers 404.
    ///
    /// # Panics
    /// When no record has `id`.
    pub fn remove(&self, id: &str) {
        if !self.edit(|d| d.remove(id)) {
            panic!("the simulated district has no record {id}");
        }
    }

    /// Shares a withdrawn record again.
    pub fn restore(&self, id: &str) {
        self.edit(|d| d.restore(id));
    }

    /// Whether our application shows as enabled for the tenant in `GET /applications`.
    pub fn set_application_enabled(&self, enabled: bool) {
        self.shared.app_enabled.store(enabled, Ordering::SeqCst);
    }

    /// The district shares nothing: every collection answers empty, every `/{id}` 404.
    pub fn share_nothing(&self) {
        self.edit(|d| d.shares_nothing = true);
    }

    /// Undoes [`Simulator::share_nothing`].
    pub fn share_all(&self) {
        self.edit(|d| d.shares_nothing = false);
    }

    /// Replaces the client secret: OAuth1 signatures made with the old one are refused,
    /// tokens issued before are forgotten, and discovery's `/server` answers the new one.
    pub fn rotate_secret(&self, new_secret: &str) {
        lock(&self.shared.guard).rotate(new_secret);
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// How many requests met an injected fault.
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

    /// Forgets every client's count, as if a new window had begun.
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
    body: &'a [u8],
    arrived: Instant,
    short_page: bool,
}

/// What the credentials check found, for the log.
#[derive(Debug, Default)]
struct AuthNote {
    refusal: Option<String>,
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every request: read, fault, dispatch, log.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let arrived = Instant::now();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or("");
    let fault = shared.faults.take(method, path);
    let oauth_nonce = header_str(&parts.headers, header::AUTHORIZATION)
        .and_then(oauth::parse_header)
        .and_then(|p| p.into_iter().find(|(k, _)| k == "oauth_nonce"))
        .map(|(_, v)| v);
    let fired = fault.clone();
    let mut incoming = Incoming {
        method,
        path,
        raw_query,
        headers: &parts.headers,
        body: &body,
        arrived,
        short_page: false,
    };
    let mut note = AuthNote::default();
    let reply = match fault {
        None => Some(dispatch(&shared, &incoming, &mut note)),
        Some(FaultKind::Status500) => Some(Reply::failure(
            500,
            "internal_server_error",
            "Internal server error",
        )),
        Some(FaultKind::TooManyRequests { retry_after_secs }) => Some(
            Reply::failure(429, "server_busy", "Too many requests")
                .header("retry-after", retry_after_secs),
        ),
        Some(FaultKind::Unauthorized) => {
            Some(Reply::failure(401, "unauthorisedrequest", "Unauthorized"))
        }
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Some(dispatch(&shared, &incoming, &mut note))
        }
        Some(FaultKind::ShortPage) => {
            incoming.short_page = true;
            Some(dispatch(&shared, &incoming, &mut note))
        }
        Some(FaultKind::MalformedJson) => {
            let mut reply = dispatch(&shared, &incoming, &mut note);
            reply.status = 200;
            reply.body.truncate(reply.body.len() / 2);
            if reply.body.is_empty() {
                reply.body = b"{\"users\":[".to_vec();
            }
            Some(reply)
        }
        Some(FaultKind::HtmlError { status }) => Some(Reply::html(status)),
        Some(FaultKind::DropMidBody) => None,
    };
    let (status, response) = match reply {
        Some(reply) => (reply.status, reply.into_response()),
        None => {
            let reply = dispatch(&shared, &incoming, &mut note);
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
        oauth_nonce,
        auth_refusal: note.refusal,
    });
    response
}

/// Routes a request: the token endpoint, discovery, or a roster path.
fn dispatch(shared: &Shared, req: &Incoming<'_>, note: &mut AuthNote) -> Reply {
    if req.path == "/oauth/token" {
        return token(shared, req);
    }
    if req.path == "/applications" || req.path.starts_with("/applications/") {
        return discovery(shared, req);
    }
    let Some((version, rest)) = Version::split(req.path) else {
        return Reply::not_found("unknown path");
    };
    let host = header_str(req.headers, header::HOST)
        .map(str::to_owned)
        .unwrap_or_else(|| shared.addr.to_string());
    let origin = format!("http://{host}");
    let params = Params::parse(req.raw_query);
    let verdict = lock(&shared.guard).check(
        header_str(req.headers, header::AUTHORIZATION),
        &Signed {
            method: req.method,
            url: format!("{origin}{}", req.path),
            query: &params.pairs,
        },
    );
    if let Some(why) = verdict.refusal {
        let reply = Reply::failure(401, "unauthorisedrequest", format!("Unauthorized: {why}"));
        note.refusal = Some(why);
        return reply;
    }
    let client = verdict.client.unwrap_or_default();
    if let Some(retry_after) = lock(&shared.limiter).hit(&client, req.arrived) {
        return Reply::failure(429, "server_busy", "Too many requests")
            .header("retry-after", retry_after);
    }
    if req.method != "GET" {
        return Reply::failure(405, "unsupported", "Only GET is supported");
    }
    let district = shared.district.read().unwrap_or_else(|e| e.into_inner());
    let ctx = Ctx {
        version,
        origin: &origin,
        district: &district,
    };
    let quirks = &shared.config.quirks;
    if let Some(refusal) = quirks.refusal(rest) {
        return refusal;
    }
    let reply = routes::answer(
        &Roster {
            segments: Roster::split(rest),
            params: &params,
            url: format!("{origin}{}", req.path),
            max_limit: shared.config.max_limit,
            short_page: req.short_page,
            quirks,
        },
        &ctx,
    );
    quirks.with_revision(reply, &shared.roster_pages)
}

/// `POST /oauth/token`: client credentials by HTTP Basic (or in the form body).
fn token(shared: &Shared, req: &Incoming<'_>) -> Reply {
    if req.method != "POST" {
        return Reply::json(405, &json!({"error": "invalid_request"}));
    }
    let form = Params::parse(&String::from_utf8_lossy(req.body));
    let basic = header_str(req.headers, header::AUTHORIZATION)
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (id, secret) = basic.unwrap_or_else(|| {
        (
            form.get("client_id").unwrap_or("").to_owned(),
            form.get("client_secret").unwrap_or("").to_owned(),
        )
    });
    let issued = lock(&shared.guard).issue(&id, &secret);
    let Some(access_token) = issued else {
        return Reply::json(401, &json!({"error": "invalid_client"}))
            .header("www-authenticate", "Basic realm=\"oneroster\"");
    };
    if form.get("grant_type") != Some("client_credentials") {
        return Reply::json(400, &json!({"error": "unsupported_grant_type"}));
    }
    let scope = form
        .get("scope")
        .unwrap_or("https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly");
    Reply::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": oauth::TOKEN_LIFETIME.as_secs(),
            "scope": scope,
        }),
    )
}

/// The tenants that granted our application: two others around ours.
fn applications(shared: &Shared) -> Vec<Value> {
    let c = &shared.config;
    let ours = json!({
        "id": 1176,
        "tenant_name": c.tenant_name,
        "tenant_id": c.tenant_id,
        "application_id": c.application_id,
        "name": "rostersync",
        "oneroster_application_id": c.oneroster_application_id,
        "bearer": shared.district_bearer,
        "enabled": if shared.app_enabled.load(Ordering::SeqCst) { "true" } else { "false" },
        "tenant_status": "Active",
    });
    let other = |n: u64, name: &str, enabled: &str| {
        json!({
            "id": 1176 + n,
            "tenant_name": name,
            "tenant_id": c.tenant_id + 100 * n,
            "application_id": c.application_id,
            "name": "rostersync",
            "oneroster_application_id": format!("Ot{n}erTenantApp%3D"),
            "bearer": format!("district-bearer-other-{n}"),
            "enabled": enabled,
            "tenant_status": "Active",
        })
    };
    vec![
        other(1, "Neighbouring School District", "true"),
        ours,
        other(2, "Lapsed County Schools", "false"),
    ]
}

/// `GET /applications` and `GET /applications/{oneroster_application_id}/server`.
fn discovery(shared: &Shared, req: &Incoming<'_>) -> Reply {
    let authorized = header_str(req.headers, header::AUTHORIZATION)
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == shared.config.partner_token
        });
    if !authorized {
        return Reply::json(401, &json!({"status": 0, "message": "Unauthorized"}));
    }
    if req.method != "GET" {
        return Reply::json(405, &json!({"status": 0, "message": "Method not allowed"}));
    }
    let apps = applications(shared);
    if req.path == "/applications" || req.path == "/applications/" {
        let params = Params::parse(req.raw_query);
        let number = |name: &str, default: usize| {
            params
                .get(name)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(default)
        };
        let limit = number("limit", 10_000).clamp(1, 10_000);
        let offset = number("offset", 0);
        let page: Vec<Value> = apps.into_iter().skip(offset).take(limit).collect();
        return Reply::json(200, &json!({"status": 1, "applications": page}));
    }
    let segment = req
        .path
        .strip_prefix("/applications/")
        .and_then(|rest| rest.strip_suffix("/server"))
        .filter(|s| !s.is_empty() && !s.contains('/'));
    let Some(segment) = segment else {
        return Reply::json(404, &json!({"status": 0, "message": "Not found"}));
    };
    // Compared verbatim: the id is pre-escaped, and re-encoding it breaks the path.
    let Some(app) = apps
        .iter()
        .find(|a| a["oneroster_application_id"].as_str() == Some(segment))
    else {
        return Reply::json(
            404,
            &json!({"status": 0, "message": "Application not found"}),
        );
    };
    let (client_id, client_secret) = if segment == shared.config.oneroster_application_id {
        (
            shared.config.client_id.clone(),
            lock(&shared.guard).client_secret.clone(),
        )
    } else {
        (
            format!("other-client-{}", app["tenant_id"]),
            "other-secret".to_owned(),
        )
    };
    Reply::json(
        200,
        &json!({
            "status": 1,
            "server": {
                "client_id": client_id,
                "client_secret": client_secret,
                "endpoint_url": format!("http://{}", shared.addr),
            },
            "message": "",
        }),
    )
}
