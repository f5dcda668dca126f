//! Clever's rate limit: per bearer token, a fixed window (a minute at Clever) holding a
//! number of requests, reported on every answer by four `X-Ratelimit-*` headers.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The windows of every token, aligned on the moment the server started.
#[derive(Debug)]
pub(super) struct RateLimiter {
    limit: u32,
    window: Duration,
    started: Instant,
    started_unix: Duration,
    /// token → (window number, requests counted in it)
    buckets: HashMap<String, (u128, u32)>,
}

/// Where a token stands after one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RateState {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset_unix: u64,
    /// Whole seconds until then (at least 1).
    pub retry_after: u64,
    /// The request is over the limit.
    pub over: bool,
}

impl RateState {
    /// The four headers every answer carries.
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            ("x-ratelimit-bucket", "bearer".to_owned()),
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset_unix.to_string()),
        ]
    }
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window: window.max(Duration::from_millis(1)),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            buckets: HashMap::new(),
        }
    }

    /// Counts one request of `token` made at `now`.
    pub fn hit(&mut self, token: &str, now: Instant) -> RateState {
        let since = now.saturating_duration_since(self.started);
        let number = since.as_nanos() / self.window.as_nanos();
        let bucket = self.buckets.entry(token.to_owned()).or_insert((number, 0));
        if bucket.0 != number {
            *bucket = (number, 0);
        }
        bucket.1 = bucket.1.saturating_add(1);
        let used = bucket.1;
        let ends = self
            .window
            .saturating_mul(u32::try_from(number + 1).unwrap_or(u32::MAX));
        let left = ends.saturating_sub(since);
        let reset = self.started_unix + ends;
        RateState {
            limit: self.limit,
            remaining: self.limit.saturating_sub(used),
            reset_unix: reset.as_secs() + u64::from(reset.subsec_nanos() > 0),
            retry_after: (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1),
            over: used > self.limit,
        }
    }

    /// Forgets every count, as if a new window had begun for every token.
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
        let now = limiter.started;
        let states: Vec<(u32, bool)> = (0..3)
            .map(|_| limiter.hit("t", now))
            .map(|s| (s.remaining, s.over))
            .collect();
        assert_eq!(states, vec![(1, false), (0, false), (0, true)]);
        assert!(!limiter.hit("other", now).over, "tokens count apart");
        let later = limiter.hit("t", now + Duration::from_secs(10));
        assert_eq!((later.remaining, later.over), (1, false));
        assert!(later.retry_after <= 10);
    }
}
