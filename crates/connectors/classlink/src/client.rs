//! The ClassLink HTTP client: finds the district's Roster Server (directly or through
//! `/applications` discovery), authenticates every request (OAuth 1.0a signed afresh on
//! every attempt, or an OAuth 2 client-credentials bearer token), and walks collections
//! by `limit`/`offset` to their end, `X-Total-Count` as the declared count where sent.
//!
//! - Discovery (reference §1): `GET {discovery}/applications` with the partner key as
//!   bearer, paged by `limit`/`offset` until a short page; the record whose `tenant_id`
//!   and `application_id` are the district's is ours, and it must be `enabled: "true"`;
//!   `GET {discovery}/applications/{oneroster_application_id}/server` (the id used
//!   verbatim: it is pre-escaped) gives the endpoint, key and secret. A 401 from the
//!   Roster Server makes the client find the server once more (the district may have
//!   rotated the secret) before it gives up.
//! - Query strings are built with RFC 3986 encoding (a space is `%20`), so the URL the
//!   server reads and the one the signature covers are the same bytes.
//! - Pages ask `sort=sourcedId&orderBy=asc` so offsets stay stable.

use std::marker::PhantomData;
use std::sync::Arc;

use connector::http::{Answer, Request};
use connector::token::{client_credentials, IssuedToken, TokenCache};
use connector::{page_keys, ConnectorError, HttpClient, Keyed, OffsetSignals, OffsetWalk};
use model::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use crate::oauth1::{encode, OAuth1Signer};
use crate::settings::{ClassLinkAuth, ClassLinkSettings, ServerTarget};
use crate::wire::{self, ListKey};

/// The Roster Server as found: where it is and the credentials it takes.
#[derive(Debug)]
pub struct Resolved {
    /// The server with the API root as its path (`https://h/ims/oneroster/v1p1`).
    pub api: url::Url,
    pub client_id: String,
    pub client_secret: Secret,
    signer: Arc<OAuth1Signer>,
    /// The tenant's name, when discovery gave it.
    pub tenant_name: Option<String>,
}

/// Why discovery found no server for the district (a typed [`ConnectorError`] carries it).
pub const DISCOVERY: &str = "GET /applications";

#[derive(Debug)]
pub struct ClassLinkClient {
    http: HttpClient,
    settings: ClassLinkSettings,
    resolved: tokio::sync::Mutex<Option<Arc<Resolved>>>,
    token: Arc<TokenCache>,
}

impl ClassLinkClient {
    pub fn new(settings: ClassLinkSettings, http: HttpClient) -> Arc<Self> {
        Arc::new(ClassLinkClient {
            http,
            settings,
            resolved: tokio::sync::Mutex::new(None),
            token: Arc::new(TokenCache::new()),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn settings(&self) -> &ClassLinkSettings {
        &self.settings
    }

    /// A client for quick answers (a connection check) on the same budget, server and
    /// token.
    pub fn with_http(&self, http: HttpClient) -> Arc<Self> {
        let resolved = self.resolved.try_lock().ok().and_then(|r| r.clone());
        Arc::new(ClassLinkClient {
            http,
            settings: self.settings.clone(),
            resolved: tokio::sync::Mutex::new(resolved),
            token: Arc::clone(&self.token),
        })
    }

    /// The Roster Server, found once and kept.
    pub async fn server(&self) -> Result<Arc<Resolved>, ConnectorError> {
        let mut slot = self.resolved.lock().await;
        if let Some(r) = slot.as_ref() {
            return Ok(Arc::clone(r));
        }
        let found = Arc::new(self.find_server().await?);
        *slot = Some(Arc::clone(&found));
        Ok(found)
    }

    /// Forgets the server found by discovery, so the next request finds it again.
    async fn forget_server(&self, stale: &Arc<Resolved>) -> bool {
        if !matches!(self.settings.target, ServerTarget::Discovered { .. }) {
            return false;
        }
        let mut slot = self.resolved.lock().await;
        if slot.as_ref().is_some_and(|r| Arc::ptr_eq(r, stale)) {
            *slot = None;
        }
        true
    }

    fn with_root(&self, base: &url::Url) -> url::Url {
        let mut api = base.clone();
        let path = format!(
            "{}{}",
            base.path().trim_end_matches('/'),
            self.settings.api_root
        );
        api.set_path(&path);
        api.set_query(None);
        api
    }

    async fn find_server(&self) -> Result<Resolved, ConnectorError> {
        let (discovery, partner) = match &self.settings.target {
            ServerTarget::Direct {
                base_url,
                client_id,
                client_secret,
            } => {
                return Ok(Resolved {
                    api: self.with_root(base_url),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    signer: Arc::new(OAuth1Signer::new(client_id, client_secret.clone())),
                    tenant_name: None,
                })
            }
            ServerTarget::Discovered {
                discovery_url,
                partner_token,
            } => (discovery_url, partner_token),
        };
        let app = self.find_application(discovery, partner).await?;
        let mut url = discovery.clone();
        let path = format!(
            "{}/applications/{}/server",
            discovery.path().trim_end_matches('/'),
            app.oneroster_application_id.as_str()
        );
        url.set_path(&path);
        url.set_query(None);
        let request = bearer(Request::get(url), partner);
        let answer: wire::ServerAnswer = self.http.send_json(&request).await?;
        let server = answer.server;
        let endpoint = server.endpoint_url.as_str();
        let base = url::Url::parse(endpoint)
            .ok()
            .filter(acceptable_server)
            .ok_or_else(|| ConnectorError::Malformed {
                endpoint: "GET /applications/{id}/server".into(),
                reason: format!(
                    "the endpoint_url {:?} is not an https URL",
                    connector::error::excerpt(endpoint, 200)
                ),
            })?;
        let client_id = server.client_id.as_str().to_owned();
        let client_secret = Secret::new(server.client_secret.as_str());
        if client_id.is_empty() || client_secret.is_empty() {
            return Err(ConnectorError::Malformed {
                endpoint: "GET /applications/{id}/server".into(),
                reason: "the server answer holds no client_id or client_secret".into(),
            });
        }
        Ok(Resolved {
            api: self.with_root(&base),
            signer: Arc::new(OAuth1Signer::new(&client_id, client_secret.clone())),
            client_id,
            client_secret,
            tenant_name: Some(app.tenant_name.as_str().to_owned()).filter(|n| !n.is_empty()),
        })
    }

    /// The district's record in `/applications`: its tenant and application ids, enabled.
    async fn find_application(
        &self,
        discovery: &url::Url,
        partner: &Secret,
    ) -> Result<wire::Application, ConnectorError> {
        const PAGE: u64 = 1000;
        let (tenant, application) = (self.settings.tenant_id, self.settings.application_id);
        let mut tenant_seen = false;
        let mut offset = 0u64;
        loop {
            let mut url = discovery.clone();
            url.set_path(&format!(
                "{}/applications",
                discovery.path().trim_end_matches('/')
            ));
            url.set_query(Some(&format!("limit={PAGE}&offset={offset}")));
            let page: wire::Applications = self
                .http
                .send_json(&bearer(Request::get(url), partner))
                .await?;
            let rows = page.applications.len() as u64;
            for app in page.applications {
                let same = |t: &connector::lenient::Text, want: u64| t.as_str() == want.to_string();
                if !same(&app.tenant_id, tenant) {
                    continue;
                }
                tenant_seen = true;
                if !same(&app.application_id, application) {
                    continue;
                }
                let enabled = app.enabled.as_str().eq_ignore_ascii_case("true");
                let active = matches!(app.tenant_status.as_str(), "" | "Active" | "active");
                if !enabled || !active {
                    return Err(ConnectorError::WrongDistrict {
                        endpoint: DISCOVERY.into(),
                        reason: format!(
                            "application {application} is disabled for tenant {tenant} (enabled: {:?}, tenant status: {:?})",
                            app.enabled.as_str(),
                            app.tenant_status.as_str()
                        ),
                    });
                }
                if app.oneroster_application_id.as_str().is_empty() {
                    return Err(ConnectorError::Malformed {
                        endpoint: DISCOVERY.into(),
                        reason: format!("tenant {tenant}'s record has no oneroster_application_id"),
                    });
                }
                return Ok(app);
            }
            if rows < PAGE {
                break;
            }
            offset += rows;
        }
        Err(ConnectorError::WrongDistrict {
            endpoint: DISCOVERY.into(),
            reason: if tenant_seen {
                format!("tenant {tenant} has not granted application {application}")
            } else {
                format!("no tenant {tenant} has granted the application")
            },
        })
    }

    /// `{api}{path}` with `query`, every value RFC 3986-encoded.
    pub fn url(&self, server: &Resolved, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = server.api.clone();
        url.set_path(&format!("{}{}", server.api.path(), path));
        if query.is_empty() {
            url.set_query(None);
        } else {
            let built = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            url.set_query(Some(&built));
        }
        url
    }

    /// An OAuth 2 token from the token endpoint, for the version's roster scope.
    async fn fetch_token(
        &self,
        server: &Resolved,
        token_url: &url::Url,
    ) -> Result<IssuedToken, ConnectorError> {
        client_credentials(
            &self.http,
            token_url.clone(),
            &server.client_id,
            &server.client_secret,
            Some(self.settings.version.roster_scope()),
        )
        .await
    }

    /// An authenticated GET of `path`, read with `parse`. A 401 renews the OAuth 2 token
    /// once, or finds a discovered server once more.
    pub async fn get_with<T>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        parse: impl Fn(Answer) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        let mut again = true;
        loop {
            let server = self.server().await?;
            let url = self.url(&server, path, query);
            let mut request = Request::get(url).header(ACCEPT, "application/json", false);
            let mut token = None;
            match &self.settings.auth {
                ClassLinkAuth::OAuth1 => {
                    request = request.signed(server.signer.clone());
                }
                ClassLinkAuth::OAuth2 { token_url } => {
                    let t = self
                        .token
                        .get(|| self.fetch_token(&server, token_url))
                        .await?;
                    request = bearer(request, &t);
                    token = Some(t);
                }
            }
            match self.http.send_with(&request, &parse).await {
                Err(e @ ConnectorError::Unauthorized { .. }) if again => {
                    again = false;
                    if let Some(t) = &token {
                        self.token.invalidate(t).await;
                    }
                    let renewable = token.is_some() || self.forget_server(&server).await;
                    if !renewable {
                        return Err(e);
                    }
                    tracing::info!(endpoint = %request.endpoint, "credentials refused; renewing them once");
                }
                other => return other,
            }
        }
    }

    /// `{"user": …}` at `/users/{id}`.
    pub async fn user(&self, id: &str) -> Result<wire::User, ConnectorError> {
        let path = format!("/users/{}", encode(id));
        self.get_with(&path, &[], |a| {
            serde_json::from_slice::<wire::SingleUser>(&a.body)
                .map(|s| s.user)
                .map_err(|e| ConnectorError::Malformed {
                    endpoint: "GET /users/{id}".into(),
                    reason: e.to_string(),
                })
        })
        .await
    }

    /// `{"demographics": …}` at `/demographics/{id}`.
    pub async fn demographic(&self, id: &str) -> Result<wire::Demographic, ConnectorError> {
        let path = format!("/demographics/{}", encode(id));
        self.get_with(&path, &[], |a| {
            serde_json::from_slice::<wire::SingleDemographic>(&a.body)
                .map(|s| s.demographics)
                .map_err(|e| ConnectorError::Malformed {
                    endpoint: "GET /demographics/{id}".into(),
                    reason: e.to_string(),
                })
        })
        .await
    }

    /// The pages of the collection at `path` (`/students`, `/users`) under `key`, with
    /// `filter` when given.
    pub fn pages<T: DeserializeOwned + Keyed>(
        &self,
        path: &str,
        key: ListKey,
        filter: Option<&str>,
    ) -> Pages<'_, T> {
        let endpoint = format!("GET {}{path}", self.settings.api_root);
        Pages {
            client: self,
            path: path.to_owned(),
            key,
            filter: filter.map(str::to_owned),
            walk: OffsetWalk::new(endpoint.clone(), self.settings.page_size),
            endpoint,
            _records: PhantomData,
        }
    }
}

/// A request carrying `token` as its bearer.
fn bearer(request: Request, token: &Secret) -> Request {
    request
        .header(AUTHORIZATION, &format!("Bearer {}", token.expose()), true)
        .header(ACCEPT, "application/json", false)
}

/// A Roster Server discovery may point at: https, or http on loopback.
fn acceptable_server(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => connector::settings::is_loopback_host(url),
        _ => false,
    }
}

/// A collection read page by page, `limit`/`offset`, to its declared end.
#[derive(Debug)]
pub struct Pages<'a, T> {
    client: &'a ClassLinkClient,
    path: String,
    key: ListKey,
    filter: Option<String>,
    walk: OffsetWalk,
    endpoint: String,
    _records: PhantomData<T>,
}

impl<T: DeserializeOwned + Keyed> Pages<'_, T> {
    /// The endpoint, for warnings (`GET /ims/oneroster/v1p1/users`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next page's records, or `None` once the collection is read. A 502 (a page
    /// too heavy for the server to build) is asked again in smaller pages, down to
    /// [`SMALLEST_PAGE`] rows.
    pub async fn next(&mut self) -> Result<Option<Vec<T>>, ConnectorError> {
        loop {
            let Some(offset) = self.walk.next_offset() else {
                return Ok(None);
            };
            let limit = self.walk.limit().to_string();
            let offset = offset.to_string();
            let mut query = vec![
                ("limit", limit.as_str()),
                ("offset", offset.as_str()),
                ("sort", "sourcedId"),
                ("orderBy", "asc"),
            ];
            if let Some(filter) = &self.filter {
                query.push(("filter", filter));
            }
            let (key, endpoint) = (self.key, self.endpoint.clone());
            let answer = self
                .client
                .get_with(&self.path, &query, |answer| {
                    let records: Vec<T> = wire::list(&answer.body, key).map_err(|reason| {
                        ConnectorError::Malformed {
                            endpoint: endpoint.clone(),
                            reason,
                        }
                    })?;
                    let signals = OffsetSignals {
                        total: answer.header_number("x-total-count"),
                        next_link: answer.has_link("next"),
                    };
                    let revision = answer
                        .headers
                        .get("x-perm-rev")
                        .and_then(|v| v.to_str().ok());
                    // Outside a pull (a spot sync's reads) there is no revision to hold.
                    REVISION
                        .try_with(|r| r.check(&endpoint, revision))
                        .unwrap_or(Ok(()))?;
                    Ok((records, signals))
                })
                .await;
            let (records, signals) = match answer {
                Err(ConnectorError::Http { status: 502, .. })
                    if self.walk.shrink(SMALLEST_PAGE) =>
                {
                    tracing::info!(endpoint = %self.endpoint, limit = self.walk.limit(), "the server answered 502 to a page; asking for smaller pages");
                    continue;
                }
                other => other?,
            };
            self.walk
                .record(records.len(), page_keys(&records), signals)?;
            return Ok(Some(records));
        }
    }
}

tokio::task_local! {
    /// The data revision a pull is reading, while a pull reads ([`with_revision`]).
    static REVISION: Arc<Revision>;
}

/// The data revision (`x-perm-rev`, reference §4 [PSD]) the first page of a pull
/// carried: every later page must carry the same, or the district's data changed
/// mid-pull and the pages are not one roster.
#[derive(Debug, Default)]
pub struct Revision(std::sync::Mutex<Option<String>>);

impl Revision {
    fn check(&self, endpoint: &str, seen: Option<&str>) -> Result<(), ConnectorError> {
        let Some(seen) = seen.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let mut first = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match first.as_deref() {
            None => {
                *first = Some(seen.to_owned());
                Ok(())
            }
            Some(f) if f == seen => Ok(()),
            Some(f) => Err(ConnectorError::SourceChanged {
                endpoint: endpoint.to_owned(),
                reason: format!("the data revision (x-perm-rev) went from {f:?} to {seen:?}"),
            }),
        }
    }
}

/// Runs `pull` holding every page it reads to the data revision of its first page.
pub async fn with_revision<F: std::future::Future>(pull: F) -> F::Output {
    REVISION.scope(Arc::default(), pull).await
}

/// The smallest page a 502 shrinks a walk to: OneRoster's default `limit`.
pub const SMALLEST_PAGE: u32 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_may_point_only_at_https_or_loopback() {
        let ok = |s: &str| acceptable_server(&url::Url::parse(s).expect("url"));
        assert!(ok("https://example-vn-v2.oneroster.com"));
        assert!(ok("http://127.0.0.1:8080"));
        assert!(!ok("http://example.com"));
        assert!(!ok("ftp://example.com"));
    }
}
