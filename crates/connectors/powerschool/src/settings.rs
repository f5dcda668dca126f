//! What a district gives us to reach its PowerSchool: the server's URL and the OAuth
//! client id and secret from the plugin's Data Provider Configuration page (seed 003).

use connector::{SettingSpec, SettingsReader};
use model::district::ConnectorConfig;
use model::{Secret, ValidationErrors};

pub const KIND: &str = "powerschool";

pub const SPECS: &[SettingSpec] = &[
    SettingSpec::required(
        "base_url",
        "the district's PowerSchool server, e.g. https://myschool.powerschool.com",
    )
    .target(),
    SettingSpec::required(
        "client_id",
        "the plugin's OAuth client id (System > System Settings > Plugin Management Configuration > Data Configuration)",
    ),
    SettingSpec::secret("client_secret", "the plugin's OAuth client secret"),
    SettingSpec::optional(
        "page_size",
        "rows per request (1-1000); default: the maxima the server states in /ws/v1/metadata",
    ),
    SettingSpec::optional(
        "min_request_interval_ms",
        "the plugin's \"minimum interval between API requests\" if the district set one (0-60000 ms)",
    ),
    SettingSpec::optional(
        "max_concurrent_requests",
        "the most requests rostersync has in flight to this district at once during a run (1-64); default: 12",
    ),
    SettingSpec::optional(
        "max_requests_per_minute",
        "the most requests a minute rostersync sends this district, shared by runs, spot syncs and connection tests (1-100000); default: no limit beyond the plugin's interval",
    ),
];

/// A PowerSchool connection, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSchoolSettings {
    pub base_url: url::Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// Caps the server's page sizes (tests force small pages with it).
    pub page_size: Option<u32>,
    /// Spacing between requests the district's throttle asks for.
    pub min_request_interval: std::time::Duration,
    /// The district's request budget per minute.
    pub max_requests_per_minute: Option<u32>,
    /// Requests of one run in flight at once, when the district sets it.
    pub max_concurrent_requests: Option<usize>,
}

impl TryFrom<&ConnectorConfig> for PowerSchoolSettings {
    type Error = ValidationErrors;

    fn try_from(config: &ConnectorConfig) -> Result<Self, Self::Error> {
        let mut r = SettingsReader::new(KIND, SPECS, config);
        let base_url = r.url("base_url");
        let client_id = r.text("client_id");
        let client_secret = r.secret("client_secret");
        let page_size = r.number("page_size", 1..=1000).map(|n| n as u32);
        let interval = r.number("min_request_interval_ms", 0..=60_000).unwrap_or(0);
        let budget = r
            .number("max_requests_per_minute", 1..=100_000)
            .map(|n| n as u32);
        let concurrent = r
            .number("max_concurrent_requests", 1..=64)
            .map(|n| n as usize);
        match base_url {
            Some(base_url) => r.finish(Self {
                base_url,
                client_id,
                client_secret,
                page_size,
                min_request_interval: std::time::Duration::from_millis(interval),
                max_requests_per_minute: budget,
                max_concurrent_requests: concurrent,
            }),
            None => Err(r.finish(()).err().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)], secret: Option<&str>) -> ConnectorConfig {
        ConnectorConfig {
            kind: KIND.into(),
            settings: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            secrets: secret
                .map(|s| [("client_secret".to_owned(), Secret::new(s))].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_complete_configuration_parses() {
        let cfg = config(
            &[
                ("base_url", "https://cbe.powerschool.com"),
                ("client_id", "abc"),
            ],
            Some("s3cret"),
        );
        let s = PowerSchoolSettings::try_from(&cfg).expect("valid");
        assert_eq!(s.base_url.as_str(), "https://cbe.powerschool.com/");
        assert_eq!(s.client_secret.expose(), "s3cret");
    }

    #[test]
    fn a_missing_base_url_is_named() {
        let cfg = config(&[("client_id", "abc")], Some("s3cret"));
        let err = PowerSchoolSettings::try_from(&cfg).expect_err("must be refused");
        assert_eq!(err.errors().len(), 1);
        assert_eq!(err.errors()[0].path, "connector.settings.base_url");
    }

    #[test]
    fn every_problem_is_reported_together() {
        let err = PowerSchoolSettings::try_from(&config(&[], None)).expect_err("must be refused");
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "connector.settings.base_url",
                "connector.settings.client_id",
                "connector.settings.client_secret"
            ]
        );
    }
}
