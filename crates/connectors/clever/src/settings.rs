//! What a district gives us to reach Clever (seed 004): its Clever district id and the
//! district-app OAuth token.

use connector::{SettingSpec, SettingsReader};
use model::district::ConnectorConfig;
use model::{Secret, ValidationErrors};

pub const KIND: &str = "clever";

pub const SPECS: &[SettingSpec] = &[
    SettingSpec::required(
        "district_id",
        "the district's Clever id (24 hexadecimal characters)",
    )
    .target(),
    SettingSpec::secret(
        "district_token",
        "the district-app OAuth token Clever issued for this district",
    ),
    SettingSpec::optional("api_base_url", "the Clever Data API host")
        .with_default("https://api.clever.com")
        .target(),
    SettingSpec::optional("api_version", "the Data API version to read")
        .with_default("v3.0")
        .with_choices(&["v3.0", "v3.1"]),
    SettingSpec::optional(
        "page_size",
        "records per request (1-10000); default 10000, Clever's maximum",
    ),
    SettingSpec::optional(
        "max_requests_per_minute",
        "the most requests a minute rostersync sends with this token, shared by runs, spot syncs and connection tests (1-1200)",
    )
    .with_default("1200"),
];

/// Clever's documented budget: 1,200 requests a minute per bearer token.
pub const CLEVER_REQUESTS_PER_MINUTE: u32 = 1200;

/// A Clever connection, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CleverSettings {
    pub district_id: String,
    pub district_token: Secret,
    pub api_base_url: url::Url,
    pub api_version: String,
    /// Records per page (tests force small pages with it).
    pub page_limit: Option<u32>,
    /// The token's request budget a minute (at most Clever's 1,200).
    pub requests_per_minute: u32,
}

impl TryFrom<&ConnectorConfig> for CleverSettings {
    type Error = ValidationErrors;

    fn try_from(config: &ConnectorConfig) -> Result<Self, Self::Error> {
        let mut r = SettingsReader::new(KIND, SPECS, config);
        let district_id = r.text("district_id");
        let is_object_id =
            district_id.len() == 24 && district_id.chars().all(|c| c.is_ascii_hexdigit());
        if !district_id.is_empty() && !is_object_id {
            r.invalid(
                "district_id",
                format!(
                    "{} is not a Clever id (24 hexadecimal characters)",
                    model::limits::echo(&district_id)
                ),
            );
        }
        let district_token = r.secret("district_token");
        let api_base_url = r.url("api_base_url");
        let api_version = r.text("api_version");
        let page_limit = r.number("page_size", 1..=10_000).map(|n| n as u32);
        let requests_per_minute = r
            .number(
                "max_requests_per_minute",
                1..=u64::from(CLEVER_REQUESTS_PER_MINUTE),
            )
            .map_or(CLEVER_REQUESTS_PER_MINUTE, |n| n as u32);
        match api_base_url {
            Some(api_base_url) => r.finish(Self {
                district_id,
                district_token,
                api_base_url,
                api_version,
                page_limit,
                requests_per_minute,
            }),
            None => Err(r.finish(()).err().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_the_host_and_version_and_ids_are_checked() {
        let mut cfg = ConnectorConfig {
            kind: KIND.into(),
            settings: [(
                "district_id".to_owned(),
                "5f3c1e2d4b6a7c8d9e0f1a2b".to_owned(),
            )]
            .into(),
            secrets: [("district_token".to_owned(), Secret::new("tok"))].into(),
        };
        let s = CleverSettings::try_from(&cfg).expect("valid");
        assert_eq!(s.api_base_url.as_str(), "https://api.clever.com/");
        assert_eq!(s.api_version, "v3.0");

        cfg.settings
            .insert("district_id".into(), "not-an-id".into());
        let err = CleverSettings::try_from(&cfg).expect_err("must be refused");
        assert_eq!(err.errors()[0].path, "connector.settings.district_id");
    }
}
