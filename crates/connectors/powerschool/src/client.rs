//! The PowerSchool HTTP client: plugin OAuth, `/ws/v1` resources, table reads and
//! PowerQueries, each list read to its documented end and checked against its count.
//!
//! Auth (reference §1): `POST /oauth/access_token` with HTTP Basic `client_id:secret` and
//! `grant_type=client_credentials`; the answer's `expires_in` is a string of seconds. The
//! token is cached, renewed before it expires, and renewed once when a request answers
//! 401; a second 401 is reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use connector::http::{Body, Request};
use connector::token::{client_credentials, IssuedToken, TokenCache};
use connector::{page_keys, ConnectorError, HttpClient, PageWalk};
use model::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use crate::fields::{self, PowerQuery, TableRead};
use crate::map::Codes;
use crate::settings::PowerSchoolSettings;
use crate::wire::{self, Record};

/// Page sizes when `/ws/v1/metadata` does not state them.
const FALLBACK_PAGE_SIZE: u32 = 100;
/// Ids per `q` list, keeping URLs short.
pub const IDS_PER_REQUEST: usize = 200;

/// What `/ws/v1/metadata` says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub version: String,
    pub student_page: u32,
    pub school_page: u32,
    pub staff_page: u32,
    pub section_page: u32,
    /// A section's enrollments (`section_enrollment_max_page_size`).
    pub section_enrollment_page: u32,
    pub table_page: u32,
}

#[derive(Debug)]
pub struct PsClient {
    http: HttpClient,
    base: url::Url,
    client_id: String,
    client_secret: Secret,
    page_size: Option<u32>,
    /// Shared with the connection check's client: one token for the district.
    token: Arc<TokenCache>,
    limits: OnceCell<Limits>,
    codes: tokio::sync::Mutex<Option<(Instant, Arc<Codes>)>>,
    /// Whether table reads take `col==(a,b,…)`, learned from the first one sent.
    value_lists: OnceCell<bool>,
}

/// How long spot reads reuse the code sets a pull or an earlier read fetched.
const CODES_FRESH_FOR: Duration = Duration::from_secs(600);

impl PsClient {
    pub fn new(settings: &PowerSchoolSettings, http: HttpClient) -> Arc<Self> {
        Self::sharing_token(settings, http, Arc::new(TokenCache::new()))
    }

    /// A client that uses (and renews) `token` with whoever else holds it.
    pub fn sharing_token(
        settings: &PowerSchoolSettings,
        http: HttpClient,
        token: Arc<TokenCache>,
    ) -> Arc<Self> {
        Arc::new(PsClient {
            http,
            base: settings.base_url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            page_size: settings.page_size,
            token,
            limits: OnceCell::new(),
            codes: tokio::sync::Mutex::new(None),
            value_lists: OnceCell::new(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The district's token cache.
    pub fn token_cache(&self) -> &Arc<TokenCache> {
        &self.token
    }

    /// `path` (starting with `/`) under the configured base URL, with `query`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Asks the token endpoint for a token.
    pub async fn fetch_token(&self) -> Result<IssuedToken, ConnectorError> {
        client_credentials(
            &self.http,
            self.url("/oauth/access_token", &[]),
            &self.client_id,
            &self.client_secret,
            None,
        )
        .await
    }

    /// The district's current token, asked for when none is held or it is about to
    /// expire.
    pub async fn token(&self) -> Result<Secret, ConnectorError> {
        self.token.get(|| self.fetch_token()).await
    }

    /// Sends an authorised request built by `make`; on 401 renews the token once.
    async fn authorised<T: DeserializeOwned>(
        &self,
        make: impl Fn() -> Request,
    ) -> Result<T, ConnectorError> {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let request = make()
                .header(AUTHORIZATION, &format!("Bearer {}", token.expose()), true)
                .header(ACCEPT, "application/json", false);
            match self.http.send_json(&request).await {
                Err(ConnectorError::Unauthorized { .. }) if !renewed => {
                    tracing::info!(endpoint = %request.endpoint, "token refused; renewing it once");
                    self.token.invalidate(&token).await;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ConnectorError> {
        let url = self.url(path, query);
        self.authorised(|| Request::get(url.clone())).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<T, ConnectorError> {
        let url = self.url(path, query);
        self.authorised(|| Request::post(url.clone(), Body::Json(body.clone())))
            .await
    }

    /// The server's page maxima, read once; a configured page size caps them.
    pub async fn limits(&self) -> Result<&Limits, ConnectorError> {
        self.limits
            .get_or_try_init(|| async {
                let answer: wire::MetadataAnswer = self.get("/ws/v1/metadata", &[]).await?;
                let m = answer.metadata;
                let size = |v: &Option<wire::Text>| {
                    let server = v
                        .as_ref()
                        .and_then(|t| t.as_str().parse::<u32>().ok())
                        .filter(|n| *n > 0)
                        .unwrap_or(FALLBACK_PAGE_SIZE);
                    self.page_size.map_or(server, |p| p.min(server))
                };
                Ok(Limits {
                    version: m.powerschool_version.map(|v| v.0).unwrap_or_default(),
                    student_page: size(&m.student_max_page_size),
                    school_page: size(&m.school_max_page_size),
                    staff_page: size(&m.staff_max_page_size),
                    section_page: size(&m.section_max_page_size),
                    section_enrollment_page: size(&m.section_enrollment_max_page_size),
                    table_page: size(&m.schema_table_query_max_page_size),
                })
            })
            .await
    }

    /// The `codeset` table, read afresh (a pull) or reused while fresh (one-user reads).
    pub async fn codes(&self, fresh: bool) -> Result<Arc<Codes>, ConnectorError> {
        let mut slot = self.codes.lock().await;
        if let Some((at, codes)) = slot.as_ref() {
            if !fresh && at.elapsed() < CODES_FRESH_FOR {
                return Ok(codes.clone());
            }
        }
        let codes = Arc::new(Codes::from_records(
            &self.table_rows(&fields::CODESET, "").await?,
        ));
        *slot = Some((Instant::now(), codes.clone()));
        Ok(codes)
    }

    /// `GET <path>/count` of a `/ws/v1` list.
    pub async fn v1_count(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<u64, ConnectorError> {
        let count_path = format!("{path}/count");
        let answer: wire::V1Count = self.get(&count_path, query).await?;
        let endpoint = format!("GET {count_path}");
        let count = answer.value().ok_or_else(|| ConnectorError::Malformed {
            endpoint: endpoint.clone(),
            reason: "the answer holds no count".into(),
        })?;
        parse_count(&endpoint, count)
    }

    /// Every row of `table` matching `q` (all rows when `q` is empty), counted first and
    /// paged to the count.
    pub async fn table_rows(
        &self,
        table: &TableRead,
        q: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        let path = table.path();
        let filter: Vec<(&str, &str)> = if q.is_empty() { vec![] } else { vec![("q", q)] };
        let count_path = format!("{path}/count");
        let count: wire::CountValue = self.get(&count_path, &filter).await?;
        let declared = parse_count(&format!("GET {count_path}"), &count.count)?;
        let page_size = self.limits().await?.table_page;
        let mut walk = PageWalk::new(format!("GET {path}"), page_size, Some(declared));
        let projection = table.projection();
        let mut rows = Vec::new();
        while let Some(page) = walk.next_page() {
            // The server's page size, once a short first page has shown it.
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let mut query = vec![
                ("projection", projection.as_str()),
                ("pagesize", size.as_str()),
                ("page", page.as_str()),
            ];
            query.extend(filter.iter().copied());
            let answer: wire::RecordsAnswer = self.get(&path, &query).await?;
            walk.record(answer.record.0.len(), page_keys(&answer.record.0))?;
            rows.extend(answer.record.0);
        }
        Ok(rows)
    }

    /// Rows of `table` whose `column` is one of `ids`, in requests of at most
    /// [`IDS_PER_REQUEST`] ids.
    ///
    /// The list form `col==(a,b,…)` is what public clients send to `/ws/v1`; nothing
    /// public settles whether table reads take it. When a server refuses it (400 naming
    /// `q`), this connector — and so the district — reads by range from then on: the
    /// sorted chunk's `col=ge=MIN;col=le=MAX`, a form the table API documents, keeping
    /// only the rows asked for.
    pub async fn table_rows_in(
        &self,
        table: &TableRead,
        column: &str,
        ids: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort_by(|a, b| match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        });
        sorted.dedup();
        let mut rows = Vec::new();
        for chunk in sorted.chunks(IDS_PER_REQUEST) {
            if let [one] = chunk {
                rows.extend(self.table_rows(table, &format!("{column}=={one}")).await?);
                continue;
            }
            let list: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
            let q = format!("{column}==({})", list.join(","));
            let lists = match self.value_lists.get() {
                Some(lists) => *lists,
                None => {
                    // The first list query decides for the district; queries arriving
                    // meanwhile wait for its answer rather than each being refused.
                    let mut answered = None;
                    let lists = *self
                        .value_lists
                        .get_or_try_init(|| async {
                            match self.table_rows(table, &q).await {
                                Ok(found) => {
                                    answered = Some(found);
                                    Ok(true)
                                }
                                Err(e) if refuses_value_lists(&e) => {
                                    tracing::warn!(table = table.table, error = %e,
                                        "the server refuses value lists in table queries; reading by range from now on");
                                    Ok(false)
                                }
                                Err(e) => Err(e),
                            }
                        })
                        .await?;
                    if let Some(found) = answered {
                        rows.extend(found);
                        continue;
                    }
                    lists
                }
            };
            if lists {
                rows.extend(self.table_rows(table, &q).await?);
                continue;
            }
            rows.extend(self.table_rows_by_range(table, column, chunk).await?);
        }
        Ok(rows)
    }

    /// The rows of `table` whose `column` is one of the sorted `ids`, read as the range
    /// from the first to the last (numbers), or one id at a time when the ids are not
    /// all numbers.
    async fn table_rows_by_range(
        &self,
        table: &TableRead,
        column: &str,
        ids: &[&String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let numbers: Option<Vec<u64>> = ids.iter().map(|id| id.parse().ok()).collect();
        let (Some(numbers), Some(first), Some(last)) = (
            numbers.as_ref(),
            numbers.as_ref().and_then(|n| n.first()),
            numbers.as_ref().and_then(|n| n.last()),
        ) else {
            let mut rows = Vec::new();
            for id in ids {
                rows.extend(self.table_rows(table, &format!("{column}=={id}")).await?);
            }
            return Ok(rows);
        };
        let wanted: std::collections::HashSet<u64> = numbers.iter().copied().collect();
        let q = format!("{column}=ge={first};{column}=le={last}");
        let found = self.table_rows(table, &q).await?;
        Ok(found
            .into_iter()
            .filter(|r| {
                r.get(table.table, column)
                    .parse::<u64>()
                    .is_ok_and(|v| wanted.contains(&v))
            })
            .collect())
    }

    /// Whether table reads use value lists (until the server refuses one, they do).
    pub fn uses_value_lists(&self) -> bool {
        self.value_lists.get().copied().unwrap_or(true)
    }

    /// Every record of a PowerQuery for `body`, counted first and paged to the count.
    pub async fn query_rows(
        &self,
        query: &PowerQuery,
        body: &serde_json::Value,
    ) -> Result<Vec<Record>, ConnectorError> {
        let path = query.path();
        let count_path = format!("{path}/count");
        let count: wire::CountValue = self.post(&count_path, &[], body).await?;
        let declared = parse_count(&format!("POST {count_path}"), &count.count)?;
        let page_size = self.limits().await?.table_page;
        let mut walk = PageWalk::new(format!("POST {path}"), page_size, Some(declared));
        let mut rows = Vec::new();
        while let Some(page) = walk.next_page() {
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let answer: wire::RecordsAnswer = self
                .post(
                    &path,
                    &[("pagesize", size.as_str()), ("page", page.as_str())],
                    body,
                )
                .await?;
            // A query's rows are keyed by their core table (a student with several
            // guardians is several rows of one id): the whole row tells pages apart.
            let keys = whole_row_keys(&answer.record.0);
            walk.record(
                answer.record.0.len(),
                keys.as_ref().map(|(f, l)| (f.as_str(), l.as_str())),
            )?;
            rows.extend(answer.record.0);
        }
        Ok(rows)
    }
}

/// The first and last rows of a page, each as one text of its id and every value.
fn whole_row_keys(rows: &[Record]) -> Option<(String, String)> {
    let key = |r: &Record| {
        format!(
            "{}:{:?}",
            r.id.as_ref().map_or("", |t| t.as_str()),
            r.tables
        )
    };
    Some((key(rows.first()?), key(rows.last()?)))
}

/// A 400 whose message names the `q` parameter: the server does not take the query's
/// form.
fn refuses_value_lists(e: &ConnectorError) -> bool {
    matches!(e, ConnectorError::Http { status: 400, detail, .. }
        if detail.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w.eq_ignore_ascii_case("q")))
}

fn parse_count(endpoint: &str, count: &wire::Text) -> Result<u64, ConnectorError> {
    count
        .as_str()
        .parse()
        .map_err(|_| ConnectorError::Malformed {
            endpoint: endpoint.to_owned(),
            reason: format!("count {:?} is not a number", count.as_str()),
        })
}
