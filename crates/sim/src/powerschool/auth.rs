//! The plugin's OAuth client credentials: `POST /oauth/access_token` hands out one token
//! at a time, the same one until it expires or is revoked, with `expires_in` as a string
//! of the seconds it has left.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::json;

use super::config::SimConfig;
use super::reply::Reply;

/// How the district has set up the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginState {
    /// `false`: the token endpoint answers 401 `invalid_client`.
    pub enabled: bool,
    /// `false` (no `accessLevelV1Api="READ"`): `/ws/v1/*` except `/ws/v1/metadata`
    /// answers 401.
    pub v1_access: bool,
    /// `None`: every field is granted. `Some`: the `"table.field"` names (lower-case) the
    /// admin approved; table reads and PowerQueries touching another field answer 403.
    pub granted: Option<BTreeSet<String>>,
    /// `/ws/v1` resources the plugin may not read (all served by default).
    pub refused: Refusals,
}

/// The optional `/ws/v1` resources a district may keep from the plugin, each refused
/// (with its `/count`) as [`Refusal`] says; `None` serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refusals {
    /// `/ws/v1/school/{id}/staff`.
    pub staff: Option<Refusal>,
    /// `/ws/v1/school/{id}/section`.
    pub sections: Option<Refusal>,
    /// `/ws/v1/section/{id}/section_enrollment`.
    pub section_enrollments: Option<Refusal>,
    /// `/ws/v1/course/{id}` ([SW] lists 403 for it).
    pub courses: Option<Refusal>,
}

/// How a refused resource answers.
///
/// - `Forbidden`: 403 with `{"message":…,"errors":[{"resource","field","code"}]}`, the
///   shape reference powerschool.md §10 shows for table and PowerQuery refusals; that a
///   `/ws/v1` resource refuses a plugin the same way is our choice (the Swagger text
///   [SW] lists 403 "Insufficient permission" for these resources, body unknown).
/// - `NotFound`: 404 `{"message":"Not Found"}` (reference §10: 404 for an unknown
///   resource, body [U]), as a server without the resource answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Forbidden,
    NotFound,
}

impl Refusal {
    /// The answer to a request for `resource`.
    pub(super) fn reply(self, resource: &str) -> Reply {
        match self {
            Refusal::Forbidden => Reply::json(
                403,
                &json!({
                    "message": "Request is for a resource the user is not allowed to access",
                    "errors": [{ "resource": resource, "field": "", "code": "NoAccess" }],
                }),
            ),
            Refusal::NotFound => Reply::not_found(),
        }
    }
}

impl Default for PluginState {
    fn default() -> Self {
        PluginState {
            enabled: true,
            v1_access: true,
            granted: None,
            refused: Refusals::default(),
        }
    }
}

impl PluginState {
    /// Whether `table.field` may be read.
    pub fn grants(&self, table: &str, field: &str) -> bool {
        match &self.granted {
            None => true,
            Some(set) => set.contains(&format!(
                "{}.{}",
                table.to_ascii_lowercase(),
                field.to_ascii_lowercase()
            )),
        }
    }
}

/// The token in force, if any.
#[derive(Debug)]
pub(super) struct Tokens {
    /// The token in force, when it was issued, and the clock's advance then.
    current: Option<(String, Instant, Duration)>,
    rng: fastrand::Rng,
    /// How far tests moved the token clock forward (no test sleeps through a lifetime).
    advanced: Duration,
}

impl Tokens {
    pub fn new(seed: u64) -> Tokens {
        Tokens {
            current: None,
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed_70ce),
            advanced: Duration::ZERO,
        }
    }

    /// Moves the token clock forward: tokens age by `by` at once.
    pub fn advance(&mut self, by: Duration) {
        self.advanced += by;
    }

    fn age(&self, issued: Instant, advanced_then: Duration) -> Duration {
        issued.elapsed() + self.advanced.saturating_sub(advanced_then)
    }

    /// The token in force (a new one if none is) and its remaining seconds.
    fn issue(&mut self, lifetime: Duration) -> (String, u64) {
        if let Some((token, at, then)) = &self.current {
            let age = self.age(*at, *then);
            if age < lifetime {
                return (token.clone(), (lifetime - age).as_secs());
            }
        }
        let token = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            self.rng.u32(..),
            self.rng.u16(..),
            self.rng.u16(..0x1000),
            self.rng.u16(0x8000..0xc000),
            self.rng.u64(..) & 0xffff_ffff_ffff
        );
        self.current = Some((token.clone(), Instant::now(), self.advanced));
        (token, lifetime.as_secs())
    }

    /// Whether `token` is the unexpired token in force.
    pub fn is_valid(&self, token: &str, lifetime: Duration) -> bool {
        self.current
            .as_ref()
            .is_some_and(|(t, at, then)| t == token && self.age(*at, *then) < lifetime)
    }

    /// Drops the token in force: it answers 401 from now on.
    pub fn revoke(&mut self) {
        self.current = None;
    }
}

/// `POST /oauth/access_token`.
pub(super) fn access_token(
    config: &SimConfig,
    plugin: &PluginState,
    tokens: &mut Tokens,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let invalid_client = || Reply::json(401, &json!({ "error": "invalid_client" }));
    let Some((id, secret)) = basic_credentials(headers) else {
        return invalid_client();
    };
    if !plugin.enabled || id != config.client_id || secret != config.client_secret {
        return invalid_client();
    }
    let grant = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    match grant.as_deref() {
        Some("client_credentials") => {}
        Some(_) => return Reply::json(400, &json!({ "error": "unsupported_grant_type" })),
        None => return Reply::json(400, &json!({ "error": "invalid_request" })),
    }
    let (token, remaining) = tokens.issue(config.token_lifetime);
    Reply::ok(&json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": remaining.to_string(),
    }))
}

/// The id and secret of an `Authorization: Basic …` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The token of an `Authorization: Bearer …` header.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
