//! What a simulated ClassLink district looks like, the credentials its Roster Server and
//! the discovery API take, and the server's limits.

use std::time::Duration;

/// The size and seed of a generated district, its credentials, and the server's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct OneRosterSimConfig {
    /// Same seed and sizes, same district.
    pub seed: u64,
    /// School orgs (at least one); the district org comes on top.
    pub schools: usize,
    /// Every student the district shares.
    pub students: usize,
    /// Average number of guardian/parent/relative users per student (siblings share).
    pub guardians_per_student: f64,
    pub teachers_per_school: usize,
    pub classes_per_school: usize,
    /// The largest `limit` honoured; larger values are clamped to it.
    pub max_limit: u32,
    /// The OAuth1 consumer key / OAuth2 client id.
    pub client_id: String,
    /// The OAuth1 consumer secret / OAuth2 client secret (see
    /// [`super::Simulator::rotate_secret`]).
    pub client_secret: String,
    pub tenant_id: u64,
    pub tenant_name: String,
    pub application_id: u64,
    /// The discovery path segment, pre-escaped and compared verbatim.
    pub oneroster_application_id: String,
    /// The partner key `GET /applications` takes as its Bearer.
    pub partner_token: String,
    /// How far an OAuth1 `oauth_timestamp` may be from now; also how long nonces are
    /// remembered.
    pub timestamp_window: Duration,
    /// Requests one client (consumer key or token) may make in one window.
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Where the server departs from the plain reading of the spec, as real servers do.
    pub quirks: super::quirks::Quirks,
}

impl Default for OneRosterSimConfig {
    fn default() -> Self {
        OneRosterSimConfig {
            seed: 1,
            schools: 4,
            students: 60,
            guardians_per_student: 1.6,
            teachers_per_school: 3,
            classes_per_school: 6,
            max_limit: 10_000,
            client_id: "b008c8e9a1b2c3d4e5f60718".to_owned(),
            client_secret: "5ec2e7a1f0d94b7c8e3a6b2d1c0f9e8d".to_owned(),
            tenant_id: 2,
            tenant_name: "Example USD".to_owned(),
            application_id: 57,
            oneroster_application_id: "Xy12AbCdEf0%3D".to_owned(),
            partner_token: "partner-0123456789abcdef".to_owned(),
            timestamp_window: Duration::from_secs(300),
            rate_limit: 1_000_000,
            rate_window: Duration::from_secs(60),
            quirks: super::quirks::Quirks::default(),
        }
    }
}
