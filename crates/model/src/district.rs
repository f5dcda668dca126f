//! A district (the tenant): its connector configuration, settings (SPEC §4) and time zone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::error::ValidationErrors;
use crate::ids::DistrictId;
use crate::limits;
use crate::roster::{ContactType, PhoneType, Relationship};
use crate::secret::Secret;

/// A district as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub id: DistrictId,
    pub name: String,
    pub connector: ConnectorConfig,
    pub settings: DistrictSettings,
    pub time_zone: chrono_tz::Tz,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every stored update: an update names the revision it was made from, and
    /// is refused when the district moved on since (the district's etag).
    pub revision: u64,
    /// Who created the district and who changed it last (a caller's key name; empty for
    /// a district created before callers were named).
    pub created_by: String,
    pub updated_by: String,
}

/// Which connector a district uses and how it reaches its source. The kind selects a
/// connector from the registry; each connector validates `settings` and `secrets` against
/// its own settings description, so the model knows no connector by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ConnectorConfig {
    pub kind: String,
    /// Plain settings, by name (`base_url`, `client_id`, …).
    pub settings: BTreeMap<String, String>,
    /// Secret settings, by name (`client_secret`, `district_token`, …). Write-only.
    pub secrets: BTreeMap<String, Secret>,
}

impl ConnectorConfig {
    /// The names of the secrets that are set, for responses that must not carry them.
    pub fn secret_names(&self) -> Vec<String> {
        self.secrets.keys().cloned().collect()
    }
}

/// Which of a student's ids becomes the id shown in the product (seed 004, Clever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentIdSource {
    /// The district's student number (`student_number`, PowerSchool `local_id`).
    #[default]
    StudentNumber,
    /// The source system's own id of the student (Clever id, OneRoster sourcedId, DCID).
    SourceId,
}

/// What happens to a student who leaves the roster (seed 004, "Archived students").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchivedStudents {
    /// Archive them: their links and history stay, they no longer appear as active.
    #[default]
    Archive,
    /// Leave them exactly as they are.
    Keep,
}

/// A selection of source types to sync: every value, or only those listed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection<T: Ord> {
    #[default]
    All,
    Only(BTreeSet<T>),
}

impl<T: Ord> Selection<T> {
    pub fn includes(&self, value: &T) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(set) => set.contains(value),
        }
    }

    /// A selection as a caller writes it: `all`, or at most
    /// [`limits::SELECTION_VALUES`] values, each a short one-line text, none empty and
    /// none naming a type another names too (`Parent` and ` parent` are one). Problems
    /// are named under `path`.
    pub fn from_list(
        path: &str,
        all: bool,
        values: &[String],
        parse: impl Fn(&str) -> T,
        errors: &mut ValidationErrors,
    ) -> Option<Self> {
        if all {
            if values.is_empty() {
                return Some(Selection::All);
            }
            errors.push(path, "set either all or values, not both");
            return None;
        }
        let values_path = format!("{path}.values");
        if let Err(e) = limits::count(&values_path, values.len(), limits::SELECTION_VALUES) {
            errors.0.push(e);
            return None;
        }
        let before = errors.0.len();
        for (i, v) in values.iter().enumerate() {
            let at = format!("{values_path}[{i}]");
            if v.trim().is_empty() {
                errors.push(at, "is empty");
            } else if let Err(e) = limits::text(&at, v, limits::SELECTION_VALUE) {
                errors.0.push(e);
            }
        }
        if errors.0.len() > before {
            return None;
        }
        let parsed: Vec<T> = values.iter().map(|v| parse(v)).collect();
        // Keyed by the type each names: `Parent` and ` parent` are one.
        let named = parsed.iter().zip(values.iter().map(|v| limits::echo(v)));
        limits::unique(&values_path, named, errors);
        (errors.0.len() == before).then(|| Selection::Only(parsed.into_iter().collect()))
    }
}

/// Permissions the sync grants to staff it creates (seeds 002, 004).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum StaffPermission {
    PermissionsAdmin,
    SchoolWideCommunications,
    RosteringAdministrator,
    ContentModerator,
    UsersManager,
    FamilyAccess,
    EngagementVisibility,
}

impl StaffPermission {
    pub const ALL: [StaffPermission; 7] = [
        StaffPermission::PermissionsAdmin,
        StaffPermission::SchoolWideCommunications,
        StaffPermission::RosteringAdministrator,
        StaffPermission::ContentModerator,
        StaffPermission::UsersManager,
        StaffPermission::FamilyAccess,
        StaffPermission::EngagementVisibility,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffPermission::PermissionsAdmin => "permissions_admin",
            StaffPermission::SchoolWideCommunications => "school_wide_communications",
            StaffPermission::RosteringAdministrator => "rostering_administrator",
            StaffPermission::ContentModerator => "content_moderator",
            StaffPermission::UsersManager => "users_manager",
            StaffPermission::FamilyAccess => "family_access",
            StaffPermission::EngagementVisibility => "engagement_visibility",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A limit on how much of one kind of record a single run may remove or downgrade.
/// A run over either bound pauses for approval (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limit {
    /// Largest share, in percent of the records held before the run (0–100).
    pub max_percent: Option<f64>,
    /// Largest absolute number.
    pub max_count: Option<u64>,
}

impl Limit {
    pub const fn percent(p: f64) -> Self {
        Self {
            max_percent: Some(p),
            max_count: None,
        }
    }

    fn validate(&self, path: &str, errors: &mut ValidationErrors) {
        if let Some(p) = self.max_percent {
            if !(0.0..=100.0).contains(&p) || p.is_nan() {
                errors.push(
                    format!("{path}.max_percent"),
                    format!("{p} is not a percentage between 0 and 100"),
                );
            }
        }
    }
}

/// A row of the access-tier matrix (SPEC §3): a link tier, or an incomplete account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessRow {
    Full,
    Restricted,
    ReadOnly,
    IncompleteAccount,
}

/// What a guardian does with forms and e-mails for a student (SPEC §3's columns).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    ViewForms,
    CreateForms,
    EditForms,
    ReceiveEmails,
}

/// How far a capability reaches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    All,
    StarterFormsOnly,
    /// Only forms the guardian created.
    OwnFormsOnly,
    Nothing,
}

/// One cell of the access matrix a district sets differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessOverride {
    pub row: AccessRow,
    pub capability: Capability,
    pub scope: Scope,
}

/// Import thresholds (seed 003), evaluated on a run's plan.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    pub students_archived: Limit,
    pub guardians_archived: Limit,
    pub links_removed: Limit,
    pub links_downgraded: Limit,
    #[serde(default = "ten_percent")]
    pub staff_archived: Limit,
    #[serde(default = "ten_percent")]
    pub classrooms_archived: Limit,
}

fn ten_percent() -> Limit {
    Limit::percent(10.0)
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            students_archived: Limit::percent(10.0),
            guardians_archived: Limit::percent(10.0),
            links_removed: Limit::percent(10.0),
            links_downgraded: Limit::percent(10.0),
            staff_archived: Limit::percent(10.0),
            classrooms_archived: Limit::percent(10.0),
        }
    }
}

/// A district's sync settings (SPEC §4, seeds 002 and 004).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DistrictSettings {
    /// Off: no nightly run (spot sync and manual runs still work). New districts start
    /// with it off, as the set-up guides ask ("do not enable the sync yet").
    pub daily_sync_enabled: bool,
    /// Off: guardians are not pulled from the connector but imported from `guardians.csv`.
    pub manage_guardians: bool,
    pub unarchive_classrooms: bool,
    /// Off: e-mail and phones of guardians who already use the product are left alone.
    pub update_active_contact_details: bool,
    pub student_id_source: StudentIdSource,
    pub archived_students: ArchivedStudents,
    pub contact_types: Selection<ContactType>,
    pub contact_relationships: Selection<Relationship>,
    /// Phone types to sync. Clever allows exactly one.
    pub phone_types: Selection<PhoneType>,
    pub staff_permissions: BTreeSet<StaffPermission>,
    pub thresholds: Thresholds,
    /// Changes to the access-tier matrix (SPEC §3) for this district.
    #[serde(default)]
    pub access_overrides: Vec<AccessOverride>,
    /// The largest share (percent) of each kind of record a pull may refuse as malformed
    /// before the run fails, by kind (`students`, `contacts`, …); kinds left out allow
    /// [`DEFAULT_MAX_REJECTED_PERCENT`].
    #[serde(default)]
    pub max_rejected_percent: BTreeMap<String, f64>,
    /// Who is told when a run ends or is held ([`crate::notify`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers: Vec<crate::notify::Subscriber>,
}

pub use crate::kinds::RECORD_KINDS;

/// The share of a kind a pull may refuse when the district sets none.
pub const DEFAULT_MAX_REJECTED_PERCENT: f64 = 1.0;

impl Default for DistrictSettings {
    fn default() -> Self {
        Self {
            daily_sync_enabled: false,
            manage_guardians: true,
            unarchive_classrooms: true,
            update_active_contact_details: false,
            student_id_source: StudentIdSource::default(),
            archived_students: ArchivedStudents::default(),
            contact_types: Selection::All,
            contact_relationships: Selection::All,
            phone_types: Selection::All,
            staff_permissions: BTreeSet::new(),
            thresholds: Thresholds::default(),
            access_overrides: Vec::new(),
            max_rejected_percent: BTreeMap::new(),
            subscribers: Vec::new(),
        }
    }
}

impl DistrictSettings {
    /// Checks what the settings can check on their own; a connector adds its own rules
    /// (Clever: one phone type).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let t = &self.thresholds;
        t.students_archived
            .validate("thresholds.students_archived", &mut errors);
        t.guardians_archived
            .validate("thresholds.guardians_archived", &mut errors);
        t.links_removed
            .validate("thresholds.links_removed", &mut errors);
        t.links_downgraded
            .validate("thresholds.links_downgraded", &mut errors);
        t.staff_archived
            .validate("thresholds.staff_archived", &mut errors);
        t.classrooms_archived
            .validate("thresholds.classrooms_archived", &mut errors);
        if let Selection::Only(set) = &self.phone_types {
            if set.is_empty() {
                errors.push("phone_types", "select at least one phone type, or all");
            }
        }
        for (kind, p) in &self.max_rejected_percent {
            if !RECORD_KINDS.contains(&kind.as_str()) {
                errors.push(
                    "max_rejected_percent",
                    format!(
                        "{} is not one of {}",
                        limits::echo(kind),
                        RECORD_KINDS.join(", ")
                    ),
                );
            } else if !(0.0..=100.0).contains(p) || p.is_nan() {
                errors.push(
                    format!("max_rejected_percent.{kind}"),
                    format!("{p} is not a percentage between 0 and 100"),
                );
            }
        }
        crate::notify::validate_subscribers(&self.subscribers, &mut errors);
        // One value per cell of the matrix: a repeat would leave which one holds to chance.
        limits::unique(
            "access_overrides.values",
            self.access_overrides.iter().map(|o| {
                let cell = (o.row, o.capability);
                (cell, format!("the cell {:?} × {:?}", o.row, o.capability))
            }),
            &mut errors,
        );
        errors.into_result(())
    }

    /// The share of `kind` (plural name) a pull may refuse, in percent.
    pub fn max_rejected(&self, kind: &str) -> f64 {
        self.max_rejected_percent
            .get(kind)
            .copied()
            .unwrap_or(DEFAULT_MAX_REJECTED_PERCENT)
    }
}

/// Parses an IANA time zone name (`America/Edmonton`).
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, crate::FieldError> {
    limits::text("time_zone", name, limits::TIME_ZONE)?;
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        crate::FieldError::new(
            "time_zone",
            format!(
                "{} is not an IANA time zone name (for example America/Edmonton)",
                limits::echo(name)
            ),
        )
    })
}

/// A district's name: required, at most [`limits::NAME`] characters of one visible line.
/// The same check on create and on update.
pub fn parse_name(raw: &str) -> Result<String, crate::FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(crate::FieldError::new("name", "is required"));
    }
    limits::text("name", name, limits::NAME)?;
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            parse_time_zone("America/Edmonton").ok(),
            Some(chrono_tz::America::Edmonton)
        );
        assert_eq!(
            parse_time_zone("MST7MDT-ish")
                .expect_err("must be refused")
                .path,
            "time_zone"
        );
    }

    #[test]
    fn thresholds_outside_0_to_100_are_rejected_by_path() {
        let mut s = DistrictSettings::default();
        s.thresholds.links_removed.max_percent = Some(140.0);
        let err = s.validate().expect_err("must be refused");
        assert_eq!(err.errors()[0].path, "thresholds.links_removed.max_percent");
    }

    #[test]
    fn names_are_one_visible_line() {
        assert_eq!(parse_name("  Calgary  ").ok().as_deref(), Some("Calgary"));
        for bad in ["", "  ", "a\0b", "red\u{1b}[31m", "two\r\nlines"] {
            assert_eq!(parse_name(bad).expect_err(bad).path, "name");
        }
        assert!(parse_name(&"n".repeat(201)).is_err());
    }

    #[test]
    fn selections_are_short_lists_of_distinct_types() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut errors = ValidationErrors::new();
        let s = Selection::from_list(
            "contact_types",
            false,
            &list(&["Parent", "Emergency"]),
            ContactType::parse,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(
            s,
            Some(Selection::Only(
                [ContactType::Parent, ContactType::Emergency].into()
            ))
        );
        for (values, want) in [
            (
                list(&["Parent", " parent"]),
                "contact_types.values[1]: \" parent\" repeats contact_types.values[0]",
            ),
            (
                list(&["Par\r\nent"]),
                "contact_types.values[0]: \"Par\\r\\nent\" holds the control character",
            ),
            (list(&[""]), "contact_types.values[0]: is empty"),
            (
                vec!["x".into(); 100_000],
                "contact_types.values: holds 100000 entries; at most 50",
            ),
        ] {
            let mut errors = ValidationErrors::new();
            let s = Selection::from_list(
                "contact_types",
                false,
                &values,
                ContactType::parse,
                &mut errors,
            );
            assert_eq!(s, None);
            assert!(errors.to_string().starts_with(want), "{errors}");
        }
        let long = list(&[&"x".repeat(65)]);
        let mut errors = ValidationErrors::new();
        assert_eq!(
            Selection::from_list("p", false, &long, PhoneType::parse, &mut errors),
            None
        );
        assert!(errors.to_string().contains("at most 64"), "{errors}");
    }

    #[test]
    fn an_access_cell_is_overridden_once() {
        let cell = AccessOverride {
            row: AccessRow::ReadOnly,
            capability: Capability::ViewForms,
            scope: Scope::All,
        };
        let s = DistrictSettings {
            access_overrides: vec![
                cell,
                AccessOverride {
                    scope: Scope::Nothing,
                    ..cell
                },
            ],
            ..DistrictSettings::default()
        };
        let err = s.validate().expect_err("a repeated cell");
        assert_eq!(err.errors()[0].path, "access_overrides.values[1]");
    }

    #[test]
    fn unknown_record_kinds_are_quoted_cut() {
        let mut s = DistrictSettings::default();
        s.max_rejected_percent.insert("k".repeat(100_000), 5.0);
        let err = s.validate().expect_err("unknown kind").to_string();
        assert!(err.len() < 300, "{err}");
        assert!(err.starts_with("max_rejected_percent: \"kkk"), "{err}");
    }

    #[test]
    fn staff_permissions_round_trip_by_name() {
        for p in StaffPermission::ALL {
            assert_eq!(StaffPermission::parse(p.as_str()), Some(p));
        }
    }
}
