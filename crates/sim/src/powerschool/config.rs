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
        }
    }
}
