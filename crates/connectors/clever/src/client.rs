//! The Clever HTTP client: the district-app bearer token on every request, lists walked by
//! their `next` link to the end (reference §2), the request budget of the token.
//!
//! Clever declares no totals, so a list is whole when the walk reached a page without a
//! `next` link (or an empty page), with no `next` link seen twice and no page repeating the
//! one before — [`connector::CursorWalk`] holds it to that. A page shorter than asked
//! that carries a `next` link is followed: the server decides the page size.

use std::marker::PhantomData;
use std::sync::Arc;

use connector::http::Request;
use connector::{ConnectorError, CursorStep, CursorWalk, HttpClient, Keyed};
use model::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use crate::settings::CleverSettings;
use crate::wire::ListAnswer;

/// Records per page: Clever allows up to 10,000.
pub const PAGE_LIMIT: u32 = 10_000;

#[derive(Debug)]
pub struct CleverClient {
    http: HttpClient,
    base: url::Url,
    version: String,
    token: Secret,
    page_limit: u32,
    /// Set once `/districts` showed the token is the configured district's.
    verified: Arc<tokio::sync::OnceCell<()>>,
}

impl CleverClient {
    pub fn new(settings: &CleverSettings, http: HttpClient) -> Arc<Self> {
        Arc::new(CleverClient {
            http,
            base: settings.api_base_url.clone(),
            version: settings.api_version.clone(),
            token: settings.district_token.clone(),
            page_limit: settings.page_limit.unwrap_or(PAGE_LIMIT),
            verified: Arc::default(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A client for quick answers (a connection check) on the same budget and token.
    pub fn with_http(&self, http: HttpClient) -> Arc<Self> {
        Arc::new(CleverClient {
            http,
            base: self.base.clone(),
            version: self.version.clone(),
            token: self.token.clone(),
            page_limit: self.page_limit,
            verified: Arc::clone(&self.verified),
        })
    }

    /// `/<version><path>` on the API host, with `query`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}/{}{}",
            self.base.path().trim_end_matches('/'),
            self.version,
            path
        );
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The districts the token reaches (`/districts`: a district-app token reaches
    /// exactly one, reference §2).
    pub async fn districts(&self) -> Result<Vec<crate::wire::District>, ConnectorError> {
        let answer: ListAnswer<crate::wire::District> =
            self.get(self.url("/districts", &[])).await?;
        Ok(answer.data.into_iter().map(|i| i.data).collect())
    }

    /// Proves the token is `district`'s before anything is read with it (SPEC §2c: one
    /// district per credential); once proved, it is not asked again.
    pub async fn verify_district(&self, district: &str) -> Result<(), ConnectorError> {
        self.verified
            .get_or_try_init(|| async {
                let districts = self.districts().await?;
                let ids: Vec<&str> = districts.iter().map(|d| d.id.as_str()).collect();
                if ids == [district] {
                    return Ok(());
                }
                Err(ConnectorError::WrongDistrict {
                    endpoint: format!("GET {}", self.url("/districts", &[]).path()),
                    reason: format!(
                        "the token is for {}, not district {district}; nothing was read",
                        match ids.as_slice() {
                            [] => "no district".to_owned(),
                            [one] => format!("district {one}"),
                            many => format!("districts {}", many.join(", ")),
                        }
                    ),
                })
            })
            .await
            .map(|_| ())
    }

    /// A link Clever gave (relative to the host), as a URL on the API host.
    fn link(&self, uri: &str) -> Result<url::Url, ConnectorError> {
        let url = self.base.join(uri).map_err(|e| ConnectorError::Malformed {
            endpoint: "GET next link".into(),
            reason: format!("the next link is not a URL: {e}"),
        })?;
        // A link must stay on the API host: the token is never sent elsewhere.
        if url.host_str() != self.base.host_str()
            || url.port_or_known_default() != self.base.port_or_known_default()
        {
            return Err(ConnectorError::Malformed {
                endpoint: format!("GET {}", url.path()),
                reason: "the next link leaves the API host".into(),
            });
        }
        Ok(url)
    }

    /// An authorised GET of `url`, its JSON body as `T`.
    pub async fn get<T: DeserializeOwned>(&self, url: url::Url) -> Result<T, ConnectorError> {
        let request = Request::get(url)
            .header(
                AUTHORIZATION,
                &format!("Bearer {}", self.token.expose()),
                true,
            )
            .header(ACCEPT, "application/json", false);
        self.http.send_json(&request).await
    }

    /// The pages of the list at `path` (`/users`, `/sections`) with `query`.
    pub fn pages<T: DeserializeOwned + Keyed>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Pages<'_, T> {
        let limit = self.page_limit.to_string();
        let mut query: Vec<(&str, &str)> = query.to_vec();
        query.push(("limit", &limit));
        let first = self.url(path, &query);
        Pages {
            client: self,
            walk: CursorWalk::new(format!("GET {}", first.path()), self.page_limit),
            first,
            _records: PhantomData,
        }
    }
}

/// A list read page by page along its `next` links.
#[derive(Debug)]
pub struct Pages<'a, T> {
    client: &'a CleverClient,
    walk: CursorWalk,
    first: url::Url,
    _records: PhantomData<T>,
}

impl<T: DeserializeOwned + Keyed> Pages<'_, T> {
    /// The endpoint, for warnings.
    pub fn endpoint(&self) -> String {
        format!("GET {}", self.first.path())
    }

    /// The `next` link goes on after the page's last record (`starting_after=<last id>`,
    /// reference §2): a page shorter than asked is then the server's page size, while a
    /// link past records the page did not hold would skip them.
    fn check_cursor(&self, next: &str, last: &str) -> Result<(), ConnectorError> {
        let after = url::Url::parse("http://link.invalid")
            .and_then(|base| base.join(next))
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "starting_after")
                    .map(|(_, v)| v.into_owned())
            });
        match after {
            Some(after) if after != last => Err(ConnectorError::BrokenPaging {
                endpoint: self.endpoint(),
                reason: format!(
                    "the next link starts after {after:?}, not after the page's last record {last:?}: records would be skipped"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The next page's records, or `None` once the list is read.
    pub async fn next(&mut self) -> Result<Option<Vec<T>>, ConnectorError> {
        let url = match self.walk.next() {
            None => return Ok(None),
            Some(CursorStep::First) => self.first.clone(),
            Some(CursorStep::After(link)) => self.client.link(link)?,
        };
        let answer: ListAnswer<T> = self.client.get(url).await?;
        let rows = answer.data.len();
        // An empty page ends the list whatever its links say (reference §2).
        let next = (rows > 0)
            .then(|| answer.next().map(str::to_owned))
            .flatten();
        if let (Some(next), Some(last)) = (&next, answer.data.last()) {
            self.check_cursor(next, last.page_key())?;
        }
        self.walk
            .record(rows, connector::page_keys(&answer.data), next)?;
        Ok(Some(answer.data.into_iter().map(|i| i.data).collect()))
    }
}
