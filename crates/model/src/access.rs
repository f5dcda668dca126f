//! Who may call the service: API keys, their scope (which districts, which abilities)
//! and the caller a request acts as.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{FieldError, ValidationErrors};
use crate::ids::DistrictId;

/// What a key lets its holder do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Ability {
    /// Every read: districts, runs, plans, the change feed, students, guardians, links.
    Read,
    /// Bring one user up to date now.
    SpotSync,
    /// Start, approve and cancel runs; import a guardians.csv.
    Run,
    /// Create, change, delete and test districts.
    Configure,
    /// Create, list and revoke API keys (never wider than the admin's own).
    Admin,
}

impl Ability {
    pub const ALL: [Ability; 5] = [
        Ability::Read,
        Ability::SpotSync,
        Ability::Run,
        Ability::Configure,
        Ability::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ability::Read => "read",
            Ability::SpotSync => "spot_sync",
            Ability::Run => "run",
            Ability::Configure => "configure",
            Ability::Admin => "admin",
        }
    }
}

impl fmt::Display for Ability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ability {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ability::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "abilities",
                    format!(
                        "{} is not an ability (read, spot_sync, run, configure, admin)",
                        crate::limits::echo(s)
                    ),
                )
            })
    }
}

/// The districts a key reaches: all of them, or those named.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Districts {
    All,
    Only(BTreeSet<DistrictId>),
}

impl Districts {
    pub fn contains(&self, district: &DistrictId) -> bool {
        match self {
            Districts::All => true,
            Districts::Only(ids) => ids.contains(district),
        }
    }

    /// Whether every district `other` reaches, this reaches too.
    pub fn covers(&self, other: &Districts) -> bool {
        match (self, other) {
            (Districts::All, _) => true,
            (Districts::Only(_), Districts::All) => false,
            (Districts::Only(mine), Districts::Only(theirs)) => theirs.is_subset(mine),
        }
    }
}

/// What a key may do, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    pub districts: Districts,
    pub abilities: BTreeSet<Ability>,
}

impl Scope {
    /// Everything, everywhere: the scope of an open server's anonymous caller and of the
    /// service's own work.
    pub fn everything() -> Self {
        Self {
            districts: Districts::All,
            abilities: Ability::ALL.into_iter().collect(),
        }
    }

    /// Whether `other` asks for nothing this scope does not hold.
    pub fn covers(&self, other: &Scope) -> bool {
        self.districts.covers(&other.districts) && other.abilities.is_subset(&self.abilities)
    }

    /// The scope as words: `read, run on districts a, b` / `… on every district`.
    pub fn describe(&self) -> String {
        let abilities: Vec<&str> = self.abilities.iter().map(|a| a.as_str()).collect();
        let districts = match &self.districts {
            Districts::All => "every district".to_owned(),
            Districts::Only(ids) => format!(
                "district{} {}",
                if ids.len() == 1 { "" } else { "s" },
                ids.iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!("{} on {districts}", abilities.join(", "))
    }
}

/// The most characters a key's name has.
pub const MAX_KEY_NAME: usize = 64;

/// A key's name: what support reads in "who did what" (`support-desk`, `nightly-ops`).
pub fn parse_key_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_KEY_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if valid {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new(
            "name",
            format!(
                "{} is not a key name: 1 to {MAX_KEY_NAME} letters, digits, '-', '_', '.' or '@'",
                crate::limits::echo(raw)
            ),
        ))
    }
}

/// A scope from its parts as a caller writes them (named as CreateApiKey names them):
/// district ids (none means every
/// district; at most [`crate::limits::KEY_DISTRICTS`]) and ability names (at least one),
/// neither repeated. Whether the districts exist is the engine's to check.
pub fn parse_scope(districts: &[String], abilities: &[String]) -> Result<Scope, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let counts = [
        crate::limits::count(
            "district_ids",
            districts.len(),
            crate::limits::KEY_DISTRICTS,
        ),
        crate::limits::count("abilities", abilities.len(), Ability::ALL.len()),
    ];
    for e in counts.into_iter().filter_map(Result::err) {
        errors.0.push(e);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut ids = BTreeSet::new();
    for (i, raw) in districts.iter().enumerate() {
        match raw.trim().parse::<DistrictId>() {
            Ok(id) => {
                ids.insert(id);
            }
            Err(e) => errors.push(format!("district_ids[{i}]"), e.message),
        }
    }
    let mut set = BTreeSet::new();
    for (i, raw) in abilities.iter().enumerate() {
        match raw.parse::<Ability>() {
            Ok(a) => {
                set.insert(a);
            }
            Err(e) => errors.push(format!("abilities[{i}]"), e.message),
        }
    }
    let named = |list: &'_ [String]| {
        list.iter()
            .map(|s| (s.trim().to_owned(), crate::limits::echo(s.trim())))
            .collect::<Vec<_>>()
    };
    crate::limits::unique("district_ids", named(districts), &mut errors);
    crate::limits::unique("abilities", named(abilities), &mut errors);
    if abilities.is_empty() {
        errors.push(
            "abilities",
            "name at least one: read, spot_sync, run, configure, admin",
        );
    }
    errors.into_result(Scope {
        districts: if ids.is_empty() {
            Districts::All
        } else {
            Districts::Only(ids)
        },
        abilities: set,
    })
}

/// A stored API key, as an admin sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public part of the token (`rsk_<id>_…`), how the key is found.
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    /// Who created it: a key's name, or `cli` for the admin command.
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// What "who did what" records: a key's name, `anonymous` on a server without keys,
    /// `schedule` for nightly runs, `drop-folder` for files dropped in a district's folder.
    pub name: String,
    pub scope: Scope,
}

impl Caller {
    /// The caller of a server that has no keys: may do everything.
    pub fn anonymous() -> Self {
        Self::service("anonymous")
    }

    /// The service's own work (the schedule, the drop folder, the CLI on the host).
    pub fn service(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            scope: Scope::everything(),
        }
    }

    pub fn may(&self, ability: Ability) -> bool {
        self.scope.abilities.contains(&ability)
    }

    pub fn reaches(&self, district: &DistrictId) -> bool {
        self.scope.districts.contains(district)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_scope_parses_and_names_each_bad_part() {
        let scope = parse_scope(&ids(&["a", "b"]), &ids(&["read", "run"])).expect("valid");
        assert!(scope.districts.contains(&"a".parse().expect("id")));
        assert!(!scope.districts.contains(&"c".parse().expect("id")));
        assert_eq!(scope.describe(), "read, run on districts a, b");
        let all = parse_scope(&[], &ids(&["read"])).expect("valid");
        assert_eq!(all.districts, Districts::All);

        let errors = parse_scope(&ids(&["Bad Id"]), &ids(&["read", "write"]))
            .expect_err("two problems")
            .to_string();
        assert!(errors.contains("district_ids[0]"), "{errors}");
        assert!(errors.contains("abilities[1]"), "{errors}");
        assert!(parse_scope(&[], &[]).is_err(), "an empty scope is refused");
    }

    #[test]
    fn a_scope_names_no_district_or_ability_twice_and_few_districts() {
        let errors = parse_scope(&ids(&["a", "b", "a"]), &ids(&["read", "run", " read"]))
            .expect_err("repeats")
            .to_string();
        assert!(
            errors.contains("district_ids[2]: \"a\" repeats district_ids[0]"),
            "{errors}"
        );
        assert!(
            errors.contains("abilities[2]: \"read\" repeats abilities[0]"),
            "{errors}"
        );
        let many: Vec<String> = (0..10_000).map(|i| format!("d{i}")).collect();
        let errors = parse_scope(&many, &ids(&["read"])).expect_err("too many");
        assert_eq!(
            errors.to_string(),
            "district_ids: holds 10000 entries; at most 100 are accepted"
        );
        let many = ids(&["read"; 6]);
        assert!(parse_scope(&[], &many).is_err_and(|e| e.to_string().contains("at most 5")));
    }

    #[test]
    fn a_scope_covers_only_what_it_holds() {
        let wide = parse_scope(&[], &ids(&["read", "run", "admin"])).expect("valid");
        let narrow = parse_scope(&ids(&["a"]), &ids(&["read"])).expect("valid");
        assert!(wide.covers(&narrow));
        assert!(!narrow.covers(&wide));
        let more = parse_scope(&ids(&["a"]), &ids(&["read", "configure"])).expect("valid");
        assert!(!wide.covers(&more), "configure is not held");
        let other = parse_scope(&ids(&["a", "b"]), &ids(&["read"])).expect("valid");
        assert!(!narrow.covers(&other), "district b is not held");
    }

    #[test]
    fn key_names_are_short_and_plain() {
        assert_eq!(
            parse_key_name(" support-desk ").expect("ok"),
            "support-desk"
        );
        assert!(parse_key_name("").is_err());
        assert!(parse_key_name("two words").is_err());
        assert!(parse_key_name(&"x".repeat(65)).is_err());
    }
}
