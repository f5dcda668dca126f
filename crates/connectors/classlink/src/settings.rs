//! What a district gives us to reach its ClassLink Roster Server (seed 002): the tenant id
//! and application id that pick its record, the OneRoster version, and how requests are
//! authenticated.
//!
//! Two ways to the server (reference §1):
//! - **discovery** (no `base_url`): our partner key reads ClassLink's `/applications` list,
//!   the tenant id and application id pick the district's record, and its `/server`
//!   answer gives the Roster Server's endpoint and OAuth 1.0a key and secret;
//! - **direct**: `base_url`, `client_id` and `client_secret` as the district gives them.

use connector::{SettingSpec, SettingsReader};
use model::district::ConnectorConfig;
use model::{Secret, ValidationErrors};

pub const KIND: &str = "classlink";

/// ClassLink's OneRoster proxy, where `/applications` discovery lives.
pub const DEFAULT_DISCOVERY_URL: &str = "https://oneroster-proxy.apis.classlink.com";

/// Records per page: ClassLink accepts up to 10,000.
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// Requests a minute when the district sets none (ClassLink publishes no number).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;

pub const SPECS: &[SettingSpec] = &[
    SettingSpec::required("tenant_id", "the district's ClassLink tenant id (a number)").target(),
    SettingSpec::required(
        "application_id",
        "the district's application id for rostersync, as ClassLink gives it (a number)",
    )
    .target(),
    SettingSpec::optional(
        "base_url",
        "the Roster Server endpoint, e.g. https://district-vn-v2.oneroster.com; leave out to find it through ClassLink's discovery",
    )
    .target(),
    SettingSpec::optional(
        "discovery_url",
        "where ClassLink's /applications discovery answers (used when base_url is left out)",
    )
    .with_default(DEFAULT_DISCOVERY_URL)
    .target(),
    SettingSpec {
        required: false,
        ..SettingSpec::secret(
            "partner_token",
            "the ClassLink developer access token that reads /applications (discovery)",
        )
    },
    SettingSpec::optional(
        "oneroster_version",
        "the OneRoster version the server speaks",
    )
    .with_default("1.1")
    .with_choices(&["1.1", "1.2"]),
    SettingSpec::optional(
        "api_root",
        "the path of the OneRoster API on the server; default /ims/oneroster/v1p1 for 1.1 and /ims/oneroster/rostering/v1p2 for 1.2",
    ),
    SettingSpec::optional(
        "auth",
        "oauth1: requests signed with key and secret; oauth2: client-credentials bearer token",
    )
    .with_default("oauth1")
    .with_choices(&["oauth1", "oauth2"]),
    SettingSpec::optional(
        "client_id",
        "the OAuth key (oauth1) or client id (oauth2); required with base_url",
    ),
    SettingSpec {
        required: false,
        ..SettingSpec::secret(
            "client_secret",
            "the OAuth secret; required with base_url",
        )
    },
    SettingSpec::optional(
        "token_url",
        "the OAuth 2 token endpoint (required with auth = oauth2)",
    )
    .target(),
    SettingSpec::optional(
        "page_size",
        "records per request (1-10000); default 10000, ClassLink's maximum",
    ),
    SettingSpec::optional(
        "max_requests_per_minute",
        "the most requests a minute rostersync sends to this Roster Server (1-6000)",
    )
    .with_default("600"),
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

impl OneRosterVersion {
    /// The API root the version's standard puts its rostering paths under.
    pub fn default_root(self) -> &'static str {
        match self {
            OneRosterVersion::V1_1 => "/ims/oneroster/v1p1",
            OneRosterVersion::V1_2 => "/ims/oneroster/rostering/v1p2",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OneRosterVersion::V1_1 => "1.1",
            OneRosterVersion::V1_2 => "1.2",
        }
    }

    /// The OAuth 2 scope that reads rosters in this version.
    pub fn roster_scope(self) -> &'static str {
        match self {
            OneRosterVersion::V1_1 => {
                "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"
            }
            OneRosterVersion::V1_2 => {
                "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
            }
        }
    }
}

/// Where the Roster Server is and which credentials it takes.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerTarget {
    /// Given directly.
    Direct {
        base_url: url::Url,
        client_id: String,
        client_secret: Secret,
    },
    /// Found through ClassLink's `/applications` with our partner key.
    Discovered {
        discovery_url: url::Url,
        partner_token: Secret,
    },
}

/// A ClassLink connection, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassLinkSettings {
    pub tenant_id: u64,
    pub application_id: u64,
    pub target: ServerTarget,
    pub version: OneRosterVersion,
    /// The API root on the server (`/ims/oneroster/v1p1`).
    pub api_root: String,
    pub auth: ClassLinkAuth,
    pub page_size: u32,
    pub requests_per_minute: u32,
}

impl TryFrom<&ConnectorConfig> for ClassLinkSettings {
    type Error = ValidationErrors;

    fn try_from(config: &ConnectorConfig) -> Result<Self, Self::Error> {
        let mut r = SettingsReader::new(KIND, SPECS, config);
        let number = |r: &mut SettingsReader<'_>, name: &str| {
            let raw = r.text(name);
            raw.parse::<u64>().unwrap_or_else(|_| {
                if !raw.is_empty() {
                    r.invalid(
                        name,
                        format!("{} is not a number", model::limits::echo(&raw)),
                    );
                }
                0
            })
        };
        let tenant_id = number(&mut r, "tenant_id");
        let application_id = number(&mut r, "application_id");
        let version = match r.text("oneroster_version").as_str() {
            "1.2" => OneRosterVersion::V1_2,
            _ => OneRosterVersion::V1_1,
        };
        let root = r.text("api_root");
        let api_root = if root.is_empty() {
            version.default_root().to_owned()
        } else if !root.starts_with('/') || root.contains(['?', '#']) || root.contains("..") {
            r.invalid(
                "api_root",
                format!(
                    "{} must be a path starting with /",
                    model::limits::echo(&root)
                ),
            );
            String::new()
        } else {
            root.trim_end_matches('/').to_owned()
        };
        let has = |name: &str| {
            config
                .settings
                .get(name)
                .is_some_and(|v| !v.trim().is_empty())
        };
        let target = if has("base_url") {
            let base_url = r.url("base_url");
            let client_id = r.text("client_id");
            if client_id.is_empty() {
                r.invalid("client_id", "is required with base_url");
            }
            let client_secret = r.secret("client_secret");
            if client_secret.is_empty() {
                r.invalid("client_secret", "is required with base_url");
            }
            base_url.map(|base_url| ServerTarget::Direct {
                base_url,
                client_id,
                client_secret,
            })
        } else {
            let discovery_url = r.url("discovery_url");
            let partner_token = r.secret("partner_token");
            if partner_token.is_empty() {
                r.invalid(
                    "partner_token",
                    "is required to find the Roster Server through discovery (or give base_url, client_id and client_secret)",
                );
            }
            discovery_url.map(|discovery_url| ServerTarget::Discovered {
                discovery_url,
                partner_token,
            })
        };
        let auth = match r.text("auth").as_str() {
            "oauth2" => match has("token_url").then(|| r.url("token_url")).flatten() {
                Some(token_url) => Some(ClassLinkAuth::OAuth2 { token_url }),
                None => {
                    if !has("token_url") {
                        r.invalid("token_url", "is required when auth is oauth2");
                    }
                    None
                }
            },
            _ => Some(ClassLinkAuth::OAuth1),
        };
        let page_size = if has("page_size") {
            r.number("page_size", 1..=u64::from(MAX_PAGE_SIZE))
                .map_or(MAX_PAGE_SIZE, |n| n as u32)
        } else {
            MAX_PAGE_SIZE
        };
        let requests_per_minute = r
            .number("max_requests_per_minute", 1..=6000)
            .map_or(DEFAULT_REQUESTS_PER_MINUTE, |n| n as u32);
        match (target, auth) {
            (Some(target), Some(auth)) => r.finish(Self {
                tenant_id,
                application_id,
                target,
                version,
                api_root,
                auth,
                page_size,
                requests_per_minute,
            }),
            _ => Err(r.finish(()).err().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)], secrets: &[(&str, &str)]) -> ConnectorConfig {
        ConnectorConfig {
            kind: KIND.into(),
            settings: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            secrets: secrets
                .iter()
                .map(|(k, v)| ((*k).into(), Secret::new(*v)))
                .collect(),
        }
    }

    const DIRECT: &[(&str, &str)] = &[
        ("tenant_id", "2"),
        ("application_id", "57"),
        ("base_url", "https://example-vn-v2.oneroster.com"),
        ("client_id", "key"),
    ];

    #[test]
    fn oneroster_1_1_with_oauth1_is_the_default() {
        let s =
            ClassLinkSettings::try_from(&config(DIRECT, &[("client_secret", "s")])).expect("valid");
        assert_eq!(s.version, OneRosterVersion::V1_1);
        assert_eq!(s.api_root, "/ims/oneroster/v1p1");
        assert_eq!(s.auth, ClassLinkAuth::OAuth1);
        assert_eq!((s.tenant_id, s.application_id), (2, 57));
        assert!(matches!(s.target, ServerTarget::Direct { .. }));
        assert_eq!(s.page_size, MAX_PAGE_SIZE);
    }

    #[test]
    fn a_direct_server_needs_its_secret() {
        let err = ClassLinkSettings::try_from(&config(DIRECT, &[])).expect_err("refused");
        assert_eq!(err.errors()[0].path, "connector.settings.client_secret");
    }

    #[test]
    fn without_base_url_the_partner_token_finds_the_server() {
        let pairs = [("tenant_id", "2"), ("application_id", "57")];
        let err = ClassLinkSettings::try_from(&config(&pairs, &[])).expect_err("refused");
        assert_eq!(err.errors()[0].path, "connector.settings.partner_token");
        let s =
            ClassLinkSettings::try_from(&config(&pairs, &[("partner_token", "p")])).expect("valid");
        match s.target {
            ServerTarget::Discovered { discovery_url, .. } => {
                assert_eq!(
                    discovery_url.as_str(),
                    "https://oneroster-proxy.apis.classlink.com/"
                )
            }
            other => panic!("expected discovery, got {other:?}"),
        }
    }

    #[test]
    fn oauth2_needs_a_token_url_and_1_2_has_its_own_root() {
        let mut pairs = DIRECT.to_vec();
        pairs.push(("auth", "oauth2"));
        let secrets = [("client_secret", "s")];
        let err = ClassLinkSettings::try_from(&config(&pairs, &secrets)).expect_err("refused");
        assert_eq!(err.errors()[0].path, "connector.settings.token_url");
        pairs.push(("token_url", "https://auth.example.com/token"));
        pairs.push(("oneroster_version", "1.2"));
        let s = ClassLinkSettings::try_from(&config(&pairs, &secrets)).expect("valid");
        assert!(matches!(s.auth, ClassLinkAuth::OAuth2 { .. }));
        assert_eq!(s.version, OneRosterVersion::V1_2);
        assert_eq!(s.api_root, "/ims/oneroster/rostering/v1p2");
    }

    #[test]
    fn a_non_numeric_tenant_and_a_bad_root_are_named() {
        let mut pairs = DIRECT.to_vec();
        pairs[0] = ("tenant_id", "two");
        pairs.push(("api_root", "ims/../x"));
        let err = ClassLinkSettings::try_from(&config(&pairs, &[("client_secret", "s")]))
            .expect_err("refused");
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "connector.settings.tenant_id",
                "connector.settings.api_root"
            ]
        );
    }
}
