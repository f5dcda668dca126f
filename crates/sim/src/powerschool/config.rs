//! What a simulated district looks like and how its server behaves.

use std::time::Duration;

/// The size and seed of a generated district, and the server's plugin settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Same seed and sizes, same district.
    pub seed: u64,
    /// At least one school is generated.
    pub schools: usize,
    /// Every student, whatever the enrollment status.
    pub students: usize,
    /// Average number of parent contacts per family (most of whom hold a portal account).
    pub guardians_per_student: f64,
    /// The maximum page size of `/ws/v1` lists and table reads.
    pub max_page_size: u32,
    pub client_id: String,
    pub client_secret: String,
    /// How long an access token lives after it is issued.
    pub token_lifetime: Duration,
    /// Whether table reads take a list of values in `q` (`col==(a,b,…)`). Public
    /// clients show that form only on `/ws/v1`; off, a table read with a list answers 400
    /// naming `q`, as a server that does not take it would.
    pub table_value_lists: bool,
    /// Strict paging: every page (students, schools, staff, sections, section
    /// enrollments, table reads, PowerQueries) holds at most this many rows, below the
    /// `pagesize` asked and below what `/ws/v1/metadata` advertises, and a PowerQuery's
    /// `pagesize=0` is capped too. Our choice, to prove a client reads the server's page
    /// size from the pages themselves: reference powerschool.md §2 and §11 leave what a
    /// server does above its maxima unknown [U] (SPEC §2c: the server decides the page
    /// size).
    pub page_cap: Option<u32>,
}

impl SimConfig {
    /// The most rows a `/ws/v1` or table page holds: the advertised maximum, or the
    /// strict cap below it.
    pub fn page_max(&self) -> u32 {
        self.page_cap
            .map_or(self.max_page_size, |cap| cap.min(self.max_page_size))
            .max(1)
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            schools: 4,
            students: 60,
            guardians_per_student: 1.6,
            max_page_size: 100,
            client_id: "rostersync-demo".to_owned(),
            client_secret: "demo-secret-0000".to_owned(),
            token_lifetime: Duration::from_secs(30 * 24 * 60 * 60),
            table_value_lists: true,
            page_cap: None,
        }
    }
}
