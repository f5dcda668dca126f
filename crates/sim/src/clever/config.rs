//! What a simulated Clever district looks like and how its server behaves.

use std::time::Duration;

/// The size and seed of a generated district, its token, and the server's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct CleverSimConfig {
    /// Same seed and sizes, same district.
    pub seed: u64,
    /// At least one school is generated.
    pub schools: usize,
    /// Every student the district shares.
    pub students: usize,
    /// Average number of contact users per student (siblings share theirs).
    pub contacts_per_student: f64,
    /// The largest `limit` a list takes; above it Clever answers 413.
    pub max_limit: u32,
    /// The district-app bearer token every request must carry.
    pub token: String,
    /// The district's Clever id (24 lowercase hex characters).
    pub district_id: String,
    /// Requests one token may make in one window.
    pub rate_limit: u32,
    /// The fixed window the rate limit counts in (a minute at Clever; tests shorten it).
    pub rate_window: Duration,
    /// Whether a 429 sends `Retry-After` (no public source says Clever does).
    pub retry_after_on_429: bool,
    /// Whether a 429 has an HTML body instead of `{"message": …}` (Clever's old client
    /// library assumed a non-JSON one).
    pub html_429_body: bool,
    /// Where the server departs from the plain reading of the docs, as real servers do.
    pub quirks: Quirks,
}

/// The ways a real Clever server (or one written from Clever's documents) is known to
/// page and refuse that a plain one does not, each from the reference
/// (`reference/clever.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Pages hold at most this many records whatever `limit` asked, with a `next` link
    /// while more remain: "a page shorter than `limit` that carries a `next` link is not
    /// the end" (§2 [PAG]).
    pub page_cap: Option<usize>,
    /// Paths (after the version, e.g. `/sections`) answered with this status and
    /// `{"message": …}`: 404 "resource unavailable (unshared…)" or another refusal
    /// (§5 [ERR]), as a district that shares no sections answers.
    pub refused: Vec<(String, u16)>,
    /// The district holds a value outside Clever's vocabularies (a `Probation Officer`
    /// contact relationship). Clever validates relationships and types against its
    /// published enums (§2, §4.3 [SW]) and never sends such a value; a tolerant reader
    /// must still keep one as "other", and the tests that prove it turn this on.
    pub unknown_values: bool,
}

impl Default for CleverSimConfig {
    fn default() -> Self {
        CleverSimConfig {
            seed: 1,
            schools: 4,
            students: 60,
            contacts_per_student: 1.6,
            max_limit: 10_000,
            token: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            district_id: "66f0a1b2c3d4e5f6a7b80001".to_owned(),
            rate_limit: 1200,
            rate_window: Duration::from_secs(60),
            retry_after_on_429: false,
            html_429_body: false,
            quirks: Quirks::default(),
        }
    }
}
