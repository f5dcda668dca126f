//! How fast requests go out: a minimum interval between their starts (PowerSchool's
//! per-plugin throttle), a budget per minute that also stops while the source says its
//! budget is spent, and how long `Retry-After` asks to wait.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::BUDGET_WAITS;

/// `Retry-After` as seconds or as an HTTP date (how long from `now`; a date past is
/// "now"); an unreadable value is read as one second.
pub(super) fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    match httpdate::parse_http_date(raw) {
        Ok(at) => Some(at.duration_since(now).unwrap_or(Duration::ZERO)),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

/// How long until the source's budget comes back when it says it is spent:
/// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset` as a Unix time in seconds (Clever)
/// or as seconds to wait.
fn spent_until(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if number("x-ratelimit-remaining")? > 0 {
        return None;
    }
    let reset = number("x-ratelimit-reset")?;
    let epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // A reset far beyond "now" in seconds is a Unix time; a small one is a wait.
    Some(Duration::from_secs(if reset > 1_000_000_000 {
        reset.saturating_sub(epoch)
    } else {
        reset
    }))
}

/// A request budget per minute, and a stop when the source says its budget is spent.
///
/// `governor`'s cell rate: a burst of a second's worth of requests, then the rest of the
/// minute's budget spread evenly, so no window of a minute ever holds more than the
/// budget (burst + the rest).
pub(super) struct Budget {
    source: String,
    limiter: Option<governor::DefaultDirectRateLimiter>,
    /// No request starts before this (the source said its budget is spent).
    resume_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    waits: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("limited", &self.limiter.is_some())
            .finish()
    }
}

impl Budget {
    fn waited(&self) {
        self.waits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!(BUDGET_WAITS, "source" => self.source.clone()).increment(1);
    }

    /// How many times a request waited for the budget.
    pub(super) fn waits(&self) -> u64 {
        self.waits.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn new(per_minute: Option<u32>, source: &str) -> Self {
        let limiter = per_minute
            .and_then(budget_quota)
            .map(governor::RateLimiter::direct);
        Budget {
            source: source.to_owned(),
            limiter,
            resume_at: std::sync::Mutex::new(None),
            waits: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub(super) async fn wait(&self) {
        let resume = *self.resume_at.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = resume {
            if at > tokio::time::Instant::now() {
                self.waited();
                tokio::time::sleep_until(at).await;
            }
        }
        if let Some(limiter) = &self.limiter {
            if limiter.check().is_err() {
                self.waited();
                limiter.until_ready().await;
            }
        }
    }

    /// Stops new requests until the source's reset when an answer says its budget is
    /// spent (at most `longest`).
    pub(super) fn heed(&self, headers: &HeaderMap, longest: Duration) {
        if let Some(wait) = spent_until(headers, std::time::SystemTime::now()) {
            let at = tokio::time::Instant::now() + wait.min(longest);
            let mut resume = self.resume_at.lock().unwrap_or_else(|p| p.into_inner());
            if resume.is_none_or(|r| r < at) {
                *resume = Some(at);
            }
        }
    }
}

/// The quota of `per_minute` requests a minute: a burst of one second's worth, and the
/// rest of the minute's budget spread over the minute.
pub fn budget_quota(per_minute: u32) -> Option<governor::Quota> {
    let per_minute = per_minute.max(1);
    let burst = (per_minute / 60).max(1);
    let rest = per_minute.saturating_sub(burst).max(1);
    let period = Duration::from_secs(60) / rest;
    governor::Quota::with_period(period).map(|q| {
        q.allow_burst(std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN))
    })
}

/// Spaces the starts of requests at least `interval` apart.
#[derive(Debug)]
pub(super) struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    pub(super) fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            next: tokio::sync::Mutex::new(None),
        }
    }

    pub(super) async fn wait(&self) {
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
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").expect("date");
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 02 Dec 2026 10:00:42 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(42)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 02 Dec 2026 09:59:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO), "a date past");
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn a_spent_budget_waits_for_its_reset() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").expect("date");
        let epoch = now
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("3"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&(epoch + 30).to_string()).expect("value"),
        );
        assert_eq!(spent_until(&h, now), None, "budget left: no wait");
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        assert_eq!(spent_until(&h, now), Some(Duration::from_secs(30)));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("12"));
        assert_eq!(spent_until(&h, now), Some(Duration::from_secs(12)));
    }

    #[test]
    fn a_budget_never_allows_more_than_its_minute_in_any_minute() {
        // Burst of a second's worth, the rest spread: the most a minute can hold is the
        // burst plus a minute of the spread rate, which is the budget.
        for per_minute in [60, 120, 600, 1200] {
            let quota = budget_quota(per_minute).expect("quota");
            let burst = u64::from(quota.burst_size().get());
            let period = quota.replenish_interval();
            let most = burst + (Duration::from_secs(60).as_nanos() / period.as_nanos()) as u64;
            assert!(most <= u64::from(per_minute), "{per_minute}: {most}");
            assert!(
                most + 2 >= u64::from(per_minute),
                "{per_minute}: {most}, not too strict"
            );
        }
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
