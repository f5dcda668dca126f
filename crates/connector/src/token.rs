//! A cached bearer token, renewed before it expires and on demand after a 401.
//!
//! Written here rather than taken from an OAuth client crate because PowerSchool answers
//! `expires_in` as a string, which strict OAuth clients refuse, and because every source
//! needs the same single-flight renewal: when many requests find the token stale at once,
//! one of them fetches and the others wait for its answer.

use std::future::Future;
use std::time::Duration;

use model::Secret;
use tokio::time::Instant;

use crate::error::ConnectorError;

/// A token as the token endpoint issued it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub value: Secret,
    /// How long the server says it lives; `None` when it does not say.
    pub lifetime: Option<Duration>,
}

#[derive(Debug)]
struct Cached {
    value: Secret,
    renew_at: Instant,
}

/// Holds at most one token; `get` fetches when there is none or it is about to expire.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<Cached>>,
}

/// Assumed lifetime when the server states none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Renew this long before expiry at most.
const MAX_MARGIN: Duration = Duration::from_secs(300);

impl TokenCache {
    pub fn new() -> Self {
        TokenCache::default()
    }

    /// The current token, fetching a new one with `fetch` if needed. Concurrent callers
    /// share one fetch.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<Secret, ConnectorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IssuedToken, ConnectorError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref() {
            if Instant::now() < cached.renew_at {
                return Ok(cached.value.clone());
            }
        }
        let issued = fetch().await?;
        let lifetime = issued.lifetime.unwrap_or(DEFAULT_LIFETIME);
        let margin = (lifetime / 10).min(MAX_MARGIN);
        *slot = Some(Cached {
            value: issued.value.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(issued.value)
    }

    /// Forgets `stale` after the server refused it; a token fetched meanwhile by another
    /// caller is kept.
    pub async fn invalidate(&self, stale: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot
            .as_ref()
            .is_some_and(|c| c.value.expose() == stale.expose())
        {
            *slot = None;
        }
    }
}

/// An OAuth 2 token answer, lenient about `expires_in`.
#[derive(Debug, serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: serde_json::Value,
}

/// Asks `token_url` for a client-credentials token (RFC 6749 §4.4): HTTP Basic
/// `client_id:client_secret`, `grant_type=client_credentials` and the `scope` if any.
pub async fn client_credentials(
    http: &crate::HttpClient,
    token_url: url::Url,
    client_id: &str,
    client_secret: &Secret,
    scope: Option<&str>,
) -> Result<IssuedToken, ConnectorError> {
    use base64::Engine as _;
    use reqwest::header::{ACCEPT, AUTHORIZATION};
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{client_id}:{}", client_secret.expose()));
    let form = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = scope {
            form.append_pair("scope", scope);
        }
        form.finish()
    };
    let request = crate::http::Request::post(token_url, crate::http::Body::Form(form))
        .header(AUTHORIZATION, &format!("Basic {basic}"), true)
        .header(ACCEPT, "application/json", false);
    let answer: TokenAnswer = http.send_json(&request).await?;
    if answer.access_token.trim().is_empty() {
        return Err(ConnectorError::Malformed {
            endpoint: request.endpoint,
            reason: "the token answer has no access_token".into(),
        });
    }
    Ok(IssuedToken {
        value: Secret::new(answer.access_token),
        lifetime: parse_expires_in(&answer.expires_in),
    })
}

/// Reads an OAuth `expires_in` that may be a number or a string of seconds.
pub fn parse_expires_in(value: &serde_json::Value) -> Option<Duration> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn issued(v: &str, secs: u64) -> IssuedToken {
        IssuedToken {
            value: Secret::new(v),
            lifetime: Some(Duration::from_secs(secs)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_is_reused_then_renewed_before_it_expires() {
        let cache = TokenCache::new();
        let fetches = AtomicUsize::new(0);
        let fetch = |v: &'static str| {
            fetches.fetch_add(1, Ordering::SeqCst);
            async move { Ok(issued(v, 1000)) }
        };
        assert_eq!(cache.get(|| fetch("a")).await.expect("token").expose(), "a");
        tokio::time::advance(Duration::from_secs(800)).await;
        assert_eq!(cache.get(|| fetch("b")).await.expect("token").expose(), "a");
        // 1000 s lifetime, renewed 100 s early.
        tokio::time::advance(Duration::from_secs(101)).await;
        assert_eq!(cache.get(|| fetch("c")).await.expect("token").expose(), "c");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn invalidating_a_stale_token_keeps_a_newer_one() {
        let cache = TokenCache::new();
        let a = cache
            .get(|| async { Ok(issued("a", 3600)) })
            .await
            .expect("token");
        cache.invalidate(&a).await;
        let b = cache
            .get(|| async { Ok(issued("b", 3600)) })
            .await
            .expect("token");
        cache.invalidate(&a).await;
        let still = cache
            .get(|| async { Ok(issued("c", 3600)) })
            .await
            .expect("token");
        assert_eq!(still.expose(), b.expose());
    }

    #[test]
    fn expires_in_is_read_as_number_or_string() {
        assert_eq!(
            parse_expires_in(&serde_json::json!("2591887")),
            Some(Duration::from_secs(2_591_887))
        );
        assert_eq!(
            parse_expires_in(&serde_json::json!(3600)),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(parse_expires_in(&serde_json::json!("soon")), None);
    }
}
