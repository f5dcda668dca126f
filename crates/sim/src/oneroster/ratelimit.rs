//! A per-client fixed-window rate limit (ClassLink publishes no numbers): each consumer
//! key or bearer token may make `limit` requests per window; past that the server answers
//! 429 `server_busy` with `Retry-After`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(super) struct RateLimiter {
    limit: u32,
    window: Duration,
    /// client → (window start, requests counted in it)
    buckets: HashMap<String, (Instant, u32)>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window: window.max(Duration::from_millis(1)),
            buckets: HashMap::new(),
        }
    }

    /// Counts one request of `client` at `now`; answers `Some(retry_after_secs)` when it is
    /// over the limit.
    pub fn hit(&mut self, client: &str, now: Instant) -> Option<u64> {
        let bucket = self.buckets.entry(client.to_owned()).or_insert((now, 0));
        if now.saturating_duration_since(bucket.0) >= self.window {
            *bucket = (now, 0);
        }
        bucket.1 = bucket.1.saturating_add(1);
        if bucket.1 <= self.limit {
            return None;
        }
        let left = self
            .window
            .saturating_sub(now.saturating_duration_since(bucket.0));
        Some((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
    }

    pub fn reset(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_the_limit_then_refuses_until_it_resets() {
        let mut limiter = RateLimiter::new(2, Duration::from_secs(10));
        let now = Instant::now();
        assert_eq!(limiter.hit("k", now), None);
        assert_eq!(limiter.hit("k", now), None);
        assert_eq!(limiter.hit("k", now), Some(10));
        assert_eq!(limiter.hit("other", now), None);
        assert_eq!(limiter.hit("k", now + Duration::from_secs(10)), None);
    }
}
