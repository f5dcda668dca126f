//! What a district gives us to reach its ClassLink Roster Server (seed 002): the tenant id
//! and application id that pick its record, the OneRoster version, and either an OAuth 1.0a
//! key and secret (requests signed directly) or OAuth 2 client credentials.

use connector::{SettingSpec, SettingsReader};
use model::district::ConnectorConfig;
use model::{Secret, ValidationErrors};

pub const KIND: &str = "classlink";

pub const SPECS: &[SettingSpec] = &[
    SettingSpec::required("tenant_id", "the district's ClassLink tenant id (a number)"),
    SettingSpec::required(
        "application_id",
        "the district's application id for rostersync, as ClassLink gives it",
    ),
    SettingSpec::required(
        "base_url",
        "the Roster Server endpoint, e.g. https://district-vn-v2.oneroster.com",
    ),
    SettingSpec::optional(
        "oneroster_version",
        "the OneRoster version the server speaks",
    )
    .with_default("1.1")
    .with_choices(&["1.1", "1.2"]),
    SettingSpec::optional(
        "auth",
        "oauth1: requests signed with key and secret; oauth2: client-credentials bearer token",
    )
    .with_default("oauth1")
    .with_choices(&["oauth1", "oauth2"]),
    SettingSpec::required("client_id", "the OAuth key (oauth1) or client id (oauth2)"),
    SettingSpec::secret("client_secret", "the OAuth secret"),
    SettingSpec::optional(
        "token_url",
        "the OAuth 2 token endpoint (required with auth = oauth2)",
    ),
];

/// How requests to the Roster Server are authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassLinkAuth {
    /// OAuth 1.0a HMAC-SHA256 signing with the key and secret (OneRoster 1.1 direct).
    OAuth1,
    /// OAuth 2 client credentials from `token_url` (OneRoster 1.2 standard).
    OAuth2 { token_url: url::Url },
}

/// The OneRoster version spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneRosterVersion {
    V1_1,
    V1_2,
}

/// A ClassLink connection, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassLinkSettings {
    pub tenant_id: u64,
    pub application_id: String,
    pub base_url: url::Url,
    pub version: OneRosterVersion,
    pub auth: ClassLinkAuth,
    pub client_id: String,
    pub client_secret: Secret,
}

impl TryFrom<&ConnectorConfig> for ClassLinkSettings {
    type Error = ValidationErrors;

    fn try_from(config: &ConnectorConfig) -> Result<Self, Self::Error> {
        let mut r = SettingsReader::new(KIND, SPECS, config);
        let tenant_raw = r.text("tenant_id");
        let tenant_id = tenant_raw.parse::<u64>().unwrap_or_else(|_| {
            if !tenant_raw.is_empty() {
                r.invalid("tenant_id", format!("{tenant_raw:?} is not a number"));
            }
            0
        });
        let application_id = r.text("application_id");
        let base_url = r.url("base_url");
        let version = match r.text("oneroster_version").as_str() {
            "1.2" => OneRosterVersion::V1_2,
            _ => OneRosterVersion::V1_1,
        };
        let auth_kind = r.text("auth");
        let token_url = if config.settings.contains_key("token_url") {
            r.url("token_url")
        } else {
            None
        };
        let auth = match (auth_kind.as_str(), token_url) {
            ("oauth2", Some(token_url)) => Some(ClassLinkAuth::OAuth2 { token_url }),
            ("oauth2", None) => {
                if !config.settings.contains_key("token_url") {
                    r.invalid("token_url", "is required when auth is oauth2");
                }
                None
            }
            _ => Some(ClassLinkAuth::OAuth1),
        };
        let client_id = r.text("client_id");
        let client_secret = r.secret("client_secret");
        match (base_url, auth) {
            (Some(base_url), Some(auth)) => r.finish(Self {
                tenant_id,
                application_id,
                base_url,
                version,
                auth,
                client_id,
                client_secret,
            }),
            _ => Err(r.finish(()).err().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> ConnectorConfig {
        ConnectorConfig {
            kind: KIND.into(),
            settings: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            secrets: [("client_secret".to_owned(), Secret::new("s"))].into(),
        }
    }

    const BASE: &[(&str, &str)] = &[
        ("tenant_id", "2"),
        ("application_id", "57"),
        ("base_url", "https://example-vn-v2.oneroster.com"),
        ("client_id", "key"),
    ];

    #[test]
    fn oneroster_1_1_with_oauth1_is_the_default() {
        let s = ClassLinkSettings::try_from(&config(BASE)).expect("valid");
        assert_eq!(s.version, OneRosterVersion::V1_1);
        assert_eq!(s.auth, ClassLinkAuth::OAuth1);
        assert_eq!(s.tenant_id, 2);
    }

    #[test]
    fn oauth2_needs_a_token_url() {
        let mut pairs = BASE.to_vec();
        pairs.push(("auth", "oauth2"));
        let err = ClassLinkSettings::try_from(&config(&pairs)).expect_err("must be refused");
        assert_eq!(err.errors()[0].path, "connector.settings.token_url");
        pairs.push(("token_url", "https://auth.example.com/token"));
        pairs.push(("oneroster_version", "1.2"));
        let s = ClassLinkSettings::try_from(&config(&pairs)).expect("valid");
        assert!(matches!(s.auth, ClassLinkAuth::OAuth2 { .. }));
        assert_eq!(s.version, OneRosterVersion::V1_2);
    }

    #[test]
    fn a_non_numeric_tenant_is_named() {
        let mut pairs = BASE.to_vec();
        pairs[0] = ("tenant_id", "two");
        let err = ClassLinkSettings::try_from(&config(&pairs)).expect_err("must be refused");
        assert_eq!(err.errors()[0].path, "connector.settings.tenant_id");
    }
}
