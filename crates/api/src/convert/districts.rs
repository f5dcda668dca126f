//! Districts, their connector configuration and settings.

use std::collections::BTreeSet;

use engine::Registry;
use engine::{CheckOutcome, CheckReport};
use engine::{ConnectorDraft, ConnectorEdit, DistrictUpdate};
use model::district::{
    AccessOverride, AccessRow, ArchivedStudents, Capability, District, DistrictSettings, Limit,
    Scope, Selection, StaffPermission, StudentIdSource, Thresholds,
};
use model::roster::{ContactType, PhoneType, Relationship};
use model::ValidationErrors;
use proto::v1 as pb;

use super::time;

/// A district as callers see it: plain settings, the names of the secrets that are set,
/// never a secret's value.
pub fn district_to_proto(d: &District) -> pb::District {
    pb::District {
        district_id: d.id.to_string(),
        name: d.name.clone(),
        connector: Some(pb::ConnectorConfig {
            kind: d.connector.kind.clone(),
            settings: d.connector.settings.clone(),
            secrets_set: d.connector.secret_names(),
            secrets: Default::default(),
        }),
        settings: Some(settings_to_proto(&d.settings)),
        time_zone: d.time_zone.name().to_owned(),
        create_time: time(d.created_at),
        update_time: time(d.updated_at),
        etag: d.revision.to_string(),
        created_by: d.created_by.clone(),
        updated_by: d.updated_by.clone(),
    }
}

/// The revision an etag names, if it is one this server gave.
pub fn parse_etag(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) || raw.len() > 19 {
        return None;
    }
    raw.parse().ok()
}

/// The caller's connector as a draft; `secrets_set` is output only and ignored.
pub fn connector_draft(c: pb::ConnectorConfig) -> ConnectorDraft {
    let pb::ConnectorConfig {
        kind,
        settings,
        secrets_set: _,
        secrets,
    } = c;
    ConnectorDraft {
        kind,
        settings: settings.into_iter().collect(),
        secrets: secrets.into_iter().collect(),
    }
}

/// The district settings' fields by name, as `settings.FIELD` paths name them.
const SETTINGS_FIELDS: [&str; 13] = [
    "daily_sync_enabled",
    "manage_guardians",
    "unarchive_classrooms",
    "update_active_contact_details",
    "student_id_source",
    "archived_students",
    "contact_types",
    "contact_relationships",
    "phone_types",
    "staff_permissions",
    "thresholds",
    "access_overrides",
    "max_rejected_percent",
];

const THRESHOLDS: [&str; 6] = [
    "students_archived",
    "guardians_archived",
    "links_removed",
    "links_downgraded",
    "staff_archived",
    "classrooms_archived",
];

/// Copies field `name` of `from` into `to`.
fn copy_setting(name: &str, from: &pb::DistrictSettings, to: &mut pb::DistrictSettings) {
    match name {
        "daily_sync_enabled" => to.daily_sync_enabled = from.daily_sync_enabled,
        "manage_guardians" => to.manage_guardians = from.manage_guardians,
        "unarchive_classrooms" => to.unarchive_classrooms = from.unarchive_classrooms,
        "update_active_contact_details" => {
            to.update_active_contact_details = from.update_active_contact_details
        }
        "student_id_source" => to.student_id_source = from.student_id_source,
        "archived_students" => to.archived_students = from.archived_students,
        "contact_types" => to.contact_types = from.contact_types.clone(),
        "contact_relationships" => to.contact_relationships = from.contact_relationships.clone(),
        "phone_types" => to.phone_types = from.phone_types.clone(),
        "staff_permissions" => to.staff_permissions = from.staff_permissions.clone(),
        "thresholds" => to.thresholds = from.thresholds,
        "access_overrides" => to.access_overrides = from.access_overrides.clone(),
        "max_rejected_percent" => to.max_rejected_percent = from.max_rejected_percent.clone(),
        _ => {}
    }
}

fn copy_threshold(name: &str, from: &pb::Thresholds, to: &mut pb::Thresholds) {
    match name {
        "students_archived" => to.students_archived = from.students_archived,
        "guardians_archived" => to.guardians_archived = from.guardians_archived,
        "links_removed" => to.links_removed = from.links_removed,
        "links_downgraded" => to.links_downgraded = from.links_downgraded,
        "staff_archived" => to.staff_archived = from.staff_archived,
        "classrooms_archived" => to.classrooms_archived = from.classrooms_archived,
        _ => {}
    }
}

/// Copies setting `name` of `from` into `to`, or of `defaults` when `from` leaves it out; a
/// named `thresholds` takes each limit it leaves out from `defaults` too.
fn take_setting(
    name: &str,
    from: &pb::DistrictSettings,
    defaults: &pb::DistrictSettings,
    to: &mut pb::DistrictSettings,
) {
    copy_setting(name, from, to);
    let mut probe = pb::DistrictSettings::default();
    copy_setting(name, to, &mut probe);
    if probe == pb::DistrictSettings::default() {
        copy_setting(name, defaults, to);
    } else if name == "thresholds" {
        let given = to.thresholds.unwrap_or_default();
        let fallback = defaults.thresholds.unwrap_or_default();
        let limits = to.thresholds.get_or_insert_with(Default::default);
        for limit in THRESHOLDS {
            take_threshold(limit, &given, &fallback, limits);
        }
    }
}

/// Copies limit `name` of `from` into `to`, or of `defaults` when `from` leaves it out.
fn take_threshold(
    name: &str,
    from: &pb::Thresholds,
    defaults: &pb::Thresholds,
    to: &mut pb::Thresholds,
) {
    copy_threshold(name, from, to);
    let mut probe = pb::Thresholds::default();
    copy_threshold(name, to, &mut probe);
    if probe == pb::Thresholds::default() {
        copy_threshold(name, defaults, to);
    }
}

/// The change an `UpdateDistrict` asks for: the fields of `district` its mask names, a
/// field the mask names but the message leaves out taking its default. Every bad path is
/// reported under `update_mask.paths[i]`.
pub fn masked_update(
    district: pb::District,
    paths: &[String],
) -> Result<DistrictUpdate, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if paths.is_empty() {
        errors.push(
            "update_mask",
            "is required: name the fields to change (name, time_zone, connector, \
             connector.settings.NAME, connector.secrets.NAME, settings, settings.FIELD)",
        );
        return Err(errors);
    }
    let given_settings = district.settings.clone().unwrap_or_default();
    let defaults = settings_to_proto(&DistrictSettings::default());
    let given_connector = district.connector.clone().unwrap_or_default();
    let mut update = DistrictUpdate::default();
    let mut patch = pb::DistrictSettings::default();
    let mut whole_settings = false;
    let mut settings_named = false;
    for (i, path) in paths.iter().enumerate() {
        let at = format!("update_mask.paths[{i}]");
        let path = path.trim();
        let parts: Vec<&str> = path.split('.').collect();
        match parts.as_slice() {
            ["name"] => update.name = Some(district.name.clone()),
            ["time_zone"] => update.time_zone = Some(district.time_zone.clone()),
            ["connector"] => update
                .connector
                .push(ConnectorEdit::Replace(connector_draft(
                    given_connector.clone(),
                ))),
            ["connector", "settings"] => update.connector.push(ConnectorEdit::Settings(
                given_connector
                    .settings
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
            ["connector", "settings", name] if !name.is_empty() => {
                update.connector.push(ConnectorEdit::Setting(
                    (*name).to_owned(),
                    given_connector
                        .settings
                        .get(*name)
                        .cloned()
                        .unwrap_or_default(),
                ))
            }
            ["connector", "secrets", name] if !name.is_empty() => {
                update.connector.push(ConnectorEdit::Secret(
                    (*name).to_owned(),
                    given_connector
                        .secrets
                        .get(*name)
                        .cloned()
                        .unwrap_or_default(),
                ))
            }
            ["settings"] => {
                whole_settings = true;
                settings_named = true;
                for field in SETTINGS_FIELDS {
                    take_setting(field, &given_settings, &defaults, &mut patch);
                }
            }
            ["settings", field] if SETTINGS_FIELDS.contains(field) => {
                settings_named = true;
                take_setting(field, &given_settings, &defaults, &mut patch);
            }
            ["settings", "thresholds", limit] if THRESHOLDS.contains(limit) => {
                settings_named = true;
                let from = given_settings.thresholds.unwrap_or_default();
                let to = patch.thresholds.get_or_insert_with(Default::default);
                take_threshold(limit, &from, &defaults.thresholds.unwrap_or_default(), to);
            }
            ["district_id" | "create_time" | "update_time" | "etag"] => {
                errors.push(at, format!("{path} cannot be changed"))
            }
            ["connector", "secrets_set"] => errors.push(at, "connector.secrets_set is output only"),
            _ => errors.push(
                at,
                format!("{path:?} is not a field of District that can be updated"),
            ),
        }
    }
    if settings_named {
        update.settings = Some(std::sync::Arc::new(move |s: &mut DistrictSettings| {
            if whole_settings {
                *s = DistrictSettings::default();
            }
            apply_settings(s, patch.clone())
        }));
    }
    errors.into_result(update)
}

fn selection_to_proto<T: Ord>(s: &Selection<T>, name: impl Fn(&T) -> String) -> pb::TypeSelection {
    match s {
        Selection::All => pb::TypeSelection {
            all: true,
            values: vec![],
        },
        Selection::Only(set) => pb::TypeSelection {
            all: false,
            values: set.iter().map(name).collect(),
        },
    }
}

fn limit_to_proto(l: &Limit) -> pb::Limit {
    pb::Limit {
        max_percent: l.max_percent,
        max_count: l.max_count,
    }
}

pub fn settings_to_proto(s: &DistrictSettings) -> pb::DistrictSettings {
    let DistrictSettings {
        daily_sync_enabled,
        manage_guardians,
        unarchive_classrooms,
        update_active_contact_details,
        student_id_source,
        archived_students,
        contact_types,
        contact_relationships,
        phone_types,
        staff_permissions,
        thresholds,
        access_overrides,
        max_rejected_percent,
    } = s;
    pb::DistrictSettings {
        daily_sync_enabled: Some(*daily_sync_enabled),
        manage_guardians: Some(*manage_guardians),
        unarchive_classrooms: Some(*unarchive_classrooms),
        update_active_contact_details: Some(*update_active_contact_details),
        student_id_source: Some(match student_id_source {
            StudentIdSource::StudentNumber => pb::StudentIdSource::StudentNumber,
            StudentIdSource::SourceId => pb::StudentIdSource::SourceId,
        } as i32),
        archived_students: Some(match archived_students {
            ArchivedStudents::Archive => pb::ArchivedStudents::Archive,
            ArchivedStudents::Keep => pb::ArchivedStudents::Keep,
        } as i32),
        contact_types: Some(selection_to_proto(contact_types, |t| t.as_str().to_owned())),
        contact_relationships: Some(selection_to_proto(contact_relationships, |t| {
            t.as_str().to_owned()
        })),
        phone_types: Some(selection_to_proto(phone_types, |t| t.as_str().to_owned())),
        staff_permissions: Some(pb::StaffPermissions {
            values: staff_permissions
                .iter()
                .map(|p| permission_to_proto(*p) as i32)
                .collect(),
        }),
        thresholds: Some(pb::Thresholds {
            students_archived: Some(limit_to_proto(&thresholds.students_archived)),
            guardians_archived: Some(limit_to_proto(&thresholds.guardians_archived)),
            links_removed: Some(limit_to_proto(&thresholds.links_removed)),
            links_downgraded: Some(limit_to_proto(&thresholds.links_downgraded)),
            staff_archived: Some(limit_to_proto(&thresholds.staff_archived)),
            classrooms_archived: Some(limit_to_proto(&thresholds.classrooms_archived)),
        }),
        access_overrides: Some(pb::AccessOverrides {
            values: access_overrides.iter().map(override_to_proto).collect(),
        }),
        max_rejected_percent: Some(pb::RejectedLimits {
            max_percent: max_rejected_percent
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }),
    }
}

fn override_to_proto(o: &AccessOverride) -> pb::AccessOverride {
    pb::AccessOverride {
        row: match o.row {
            AccessRow::Full => pb::AccessRow::Full,
            AccessRow::Restricted => pb::AccessRow::Restricted,
            AccessRow::ReadOnly => pb::AccessRow::ReadOnly,
            AccessRow::IncompleteAccount => pb::AccessRow::IncompleteAccount,
        } as i32,
        capability: match o.capability {
            Capability::ViewForms => pb::Capability::ViewForms,
            Capability::CreateForms => pb::Capability::CreateForms,
            Capability::EditForms => pb::Capability::EditForms,
            Capability::ReceiveEmails => pb::Capability::ReceiveEmails,
        } as i32,
        scope: match o.scope {
            Scope::All => pb::Scope::All,
            Scope::StarterFormsOnly => pb::Scope::StarterFormsOnly,
            Scope::OwnFormsOnly => pb::Scope::OwnFormsOnly,
            Scope::Nothing => pb::Scope::Nothing,
        } as i32,
    }
}

fn override_from_proto(
    o: &pb::AccessOverride,
    path: &str,
    errors: &mut ValidationErrors,
) -> Option<AccessOverride> {
    let row = match pb::AccessRow::try_from(o.row) {
        Ok(pb::AccessRow::Full) => Some(AccessRow::Full),
        Ok(pb::AccessRow::Restricted) => Some(AccessRow::Restricted),
        Ok(pb::AccessRow::ReadOnly) => Some(AccessRow::ReadOnly),
        Ok(pb::AccessRow::IncompleteAccount) => Some(AccessRow::IncompleteAccount),
        _ => None,
    };
    let capability = match pb::Capability::try_from(o.capability) {
        Ok(pb::Capability::ViewForms) => Some(Capability::ViewForms),
        Ok(pb::Capability::CreateForms) => Some(Capability::CreateForms),
        Ok(pb::Capability::EditForms) => Some(Capability::EditForms),
        Ok(pb::Capability::ReceiveEmails) => Some(Capability::ReceiveEmails),
        _ => None,
    };
    let scope = match pb::Scope::try_from(o.scope) {
        Ok(pb::Scope::All) => Some(Scope::All),
        Ok(pb::Scope::StarterFormsOnly) => Some(Scope::StarterFormsOnly),
        Ok(pb::Scope::OwnFormsOnly) => Some(Scope::OwnFormsOnly),
        Ok(pb::Scope::Nothing) => Some(Scope::Nothing),
        _ => None,
    };
    if row.is_none() {
        errors.push(
            format!("{path}.row"),
            "choose one of the ACCESS_ROW_ values",
        );
    }
    if capability.is_none() {
        errors.push(
            format!("{path}.capability"),
            "choose one of the CAPABILITY_ values",
        );
    }
    if scope.is_none() {
        errors.push(format!("{path}.scope"), "choose one of the SCOPE_ values");
    }
    Some(AccessOverride {
        row: row?,
        capability: capability?,
        scope: scope?,
    })
}

fn permission_to_proto(p: StaffPermission) -> pb::StaffPermission {
    match p {
        StaffPermission::PermissionsAdmin => pb::StaffPermission::PermissionsAdmin,
        StaffPermission::SchoolWideCommunications => pb::StaffPermission::SchoolWideCommunications,
        StaffPermission::RosteringAdministrator => pb::StaffPermission::RosteringAdministrator,
        StaffPermission::ContentModerator => pb::StaffPermission::ContentModerator,
        StaffPermission::UsersManager => pb::StaffPermission::UsersManager,
        StaffPermission::FamilyAccess => pb::StaffPermission::FamilyAccess,
        StaffPermission::EngagementVisibility => pb::StaffPermission::EngagementVisibility,
    }
}

fn permission_from_proto(v: i32) -> Option<StaffPermission> {
    Some(match pb::StaffPermission::try_from(v).ok()? {
        pb::StaffPermission::Unspecified => return None,
        pb::StaffPermission::PermissionsAdmin => StaffPermission::PermissionsAdmin,
        pb::StaffPermission::SchoolWideCommunications => StaffPermission::SchoolWideCommunications,
        pb::StaffPermission::RosteringAdministrator => StaffPermission::RosteringAdministrator,
        pb::StaffPermission::ContentModerator => StaffPermission::ContentModerator,
        pb::StaffPermission::UsersManager => StaffPermission::UsersManager,
        pb::StaffPermission::FamilyAccess => StaffPermission::FamilyAccess,
        pb::StaffPermission::EngagementVisibility => StaffPermission::EngagementVisibility,
    })
}

fn selection_from_proto<T: Ord>(
    s: pb::TypeSelection,
    path: &str,
    parse: impl Fn(&str) -> T,
    errors: &mut ValidationErrors,
) -> Option<Selection<T>> {
    let pb::TypeSelection { all, values } = s;
    match (all, values.is_empty()) {
        (true, true) => Some(Selection::All),
        (true, false) => {
            errors.push(path, "set either all or values, not both");
            None
        }
        (false, _) => {
            let mut set = BTreeSet::new();
            for (i, v) in values.iter().enumerate() {
                if v.trim().is_empty() {
                    errors.push(format!("{path}.values[{i}]"), "is empty");
                } else {
                    set.insert(parse(v));
                }
            }
            Some(Selection::Only(set))
        }
    }
}

fn limit_from_proto(l: pb::Limit) -> Limit {
    let pb::Limit {
        max_percent,
        max_count,
    } = l;
    Limit {
        max_percent,
        max_count,
    }
}

/// Applies the fields the caller set onto `target` (the defaults on create, the stored
/// settings on update); every problem is reported with its path under `settings`.
pub fn apply_settings(
    target: &mut DistrictSettings,
    patch: pb::DistrictSettings,
) -> Result<(), ValidationErrors> {
    let pb::DistrictSettings {
        daily_sync_enabled,
        manage_guardians,
        unarchive_classrooms,
        update_active_contact_details,
        student_id_source,
        archived_students,
        contact_types,
        contact_relationships,
        phone_types,
        staff_permissions,
        thresholds,
        access_overrides,
        max_rejected_percent,
    } = patch;
    let mut errors = ValidationErrors::new();
    if let Some(v) = daily_sync_enabled {
        target.daily_sync_enabled = v;
    }
    if let Some(v) = manage_guardians {
        target.manage_guardians = v;
    }
    if let Some(v) = unarchive_classrooms {
        target.unarchive_classrooms = v;
    }
    if let Some(v) = update_active_contact_details {
        target.update_active_contact_details = v;
    }
    if let Some(v) = student_id_source {
        match pb::StudentIdSource::try_from(v) {
            Ok(pb::StudentIdSource::StudentNumber) => {
                target.student_id_source = StudentIdSource::StudentNumber
            }
            Ok(pb::StudentIdSource::SourceId) => {
                target.student_id_source = StudentIdSource::SourceId
            }
            _ => errors.push(
                "settings.student_id_source",
                "choose STUDENT_ID_SOURCE_STUDENT_NUMBER or STUDENT_ID_SOURCE_SOURCE_ID",
            ),
        }
    }
    if let Some(v) = archived_students {
        match pb::ArchivedStudents::try_from(v) {
            Ok(pb::ArchivedStudents::Archive) => {
                target.archived_students = ArchivedStudents::Archive
            }
            Ok(pb::ArchivedStudents::Keep) => target.archived_students = ArchivedStudents::Keep,
            _ => errors.push(
                "settings.archived_students",
                "choose ARCHIVED_STUDENTS_ARCHIVE or ARCHIVED_STUDENTS_KEEP",
            ),
        }
    }
    if let Some(s) = contact_types {
        if let Some(s) =
            selection_from_proto(s, "settings.contact_types", ContactType::parse, &mut errors)
        {
            target.contact_types = s;
        }
    }
    if let Some(s) = contact_relationships {
        if let Some(s) = selection_from_proto(
            s,
            "settings.contact_relationships",
            Relationship::parse,
            &mut errors,
        ) {
            target.contact_relationships = s;
        }
    }
    if let Some(s) = phone_types {
        if let Some(s) =
            selection_from_proto(s, "settings.phone_types", PhoneType::parse, &mut errors)
        {
            target.phone_types = s;
        }
    }
    if let Some(limits) = max_rejected_percent {
        target.max_rejected_percent = limits.max_percent.into_iter().collect();
    }
    if let Some(o) = access_overrides {
        let mut values = Vec::with_capacity(o.values.len());
        for (i, v) in o.values.iter().enumerate() {
            if let Some(v) = override_from_proto(
                v,
                &format!("settings.access_overrides.values[{i}]"),
                &mut errors,
            ) {
                values.push(v);
            }
        }
        target.access_overrides = values;
    }
    if let Some(p) = staff_permissions {
        let mut set = BTreeSet::new();
        for (i, v) in p.values.into_iter().enumerate() {
            match permission_from_proto(v) {
                Some(p) => {
                    set.insert(p);
                }
                None => errors.push(
                    format!("settings.staff_permissions.values[{i}]"),
                    format!("{v} is not a staff permission"),
                ),
            }
        }
        target.staff_permissions = set;
    }
    if let Some(t) = thresholds {
        let pb::Thresholds {
            students_archived,
            guardians_archived,
            links_removed,
            links_downgraded,
            staff_archived,
            classrooms_archived,
        } = t;
        let Thresholds {
            students_archived: sa,
            guardians_archived: ga,
            links_removed: lr,
            links_downgraded: ld,
            staff_archived: sta,
            classrooms_archived: ca,
        } = &mut target.thresholds;
        for (given, slot) in [
            (students_archived, sa),
            (guardians_archived, ga),
            (links_removed, lr),
            (links_downgraded, ld),
            (staff_archived, sta),
            (classrooms_archived, ca),
        ] {
            if let Some(l) = given {
                *slot = limit_from_proto(l);
            }
        }
    }
    errors.into_result(())
}

/// Every connector kind and the settings it needs.
pub fn connectors_to_proto(registry: &Registry) -> pb::ListConnectorsResponse {
    let connectors = registry
        .list()
        .iter()
        .map(|f| pb::ConnectorKind {
            kind: f.kind().to_owned(),
            display_name: f.display_name().to_owned(),
            description: f.description().to_owned(),
            settings: f
                .settings()
                .iter()
                .map(|s| pb::SettingDescription {
                    name: s.name.to_owned(),
                    required: s.required,
                    secret: s.secret,
                    help: s.help.to_owned(),
                    default_value: s.default.unwrap_or_default().to_owned(),
                    choices: s.choices.iter().map(|c| (*c).to_owned()).collect(),
                })
                .collect(),
        })
        .collect();
    pb::ListConnectorsResponse { connectors }
}

/// A connector check as the API answers it.
pub fn check_to_proto(report: &CheckReport) -> pb::TestConnectionResponse {
    let steps: Vec<pb::ConnectionCheckStep> = report
        .steps
        .iter()
        .map(|step| {
            let (outcome, detail, cause) = match &step.outcome {
                CheckOutcome::Passed { detail } => (pb::CheckOutcome::Passed, detail, ""),
                CheckOutcome::Failed { problem, cause } => {
                    (pb::CheckOutcome::Failed, problem, cause.as_str())
                }
                CheckOutcome::Skipped { reason } => (pb::CheckOutcome::Skipped, reason, ""),
            };
            pb::ConnectionCheckStep {
                name: step.name.clone(),
                outcome: outcome as i32,
                detail: detail.clone(),
                cause: cause.to_owned(),
            }
        })
        .collect();
    let summary = match report.steps.iter().find_map(|s| match &s.outcome {
        CheckOutcome::Failed { problem, .. } => Some(format!("{}: {problem}", s.name)),
        _ => None,
    }) {
        Some(problem) => problem,
        None => format!(
            "connected to {}: {} schools, {} students",
            report.source_version.as_deref().unwrap_or("the source"),
            report.schools.map_or("?".into(), |n| n.to_string()),
            report.students.map_or("?".into(), |n| n.to_string()),
        ),
    };
    pb::TestConnectionResponse {
        ok: report.ok(),
        summary,
        steps,
        source_version: report.source_version.clone().unwrap_or_default(),
        schools: report.schools,
        students: report.students,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_round_trip_through_the_proto() {
        let mut s = DistrictSettings {
            phone_types: Selection::Only([PhoneType::Cell].into()),
            ..DistrictSettings::default()
        };
        s.staff_permissions.insert(StaffPermission::UsersManager);
        s.thresholds.links_removed.max_count = Some(25);
        s.access_overrides.push(AccessOverride {
            row: AccessRow::ReadOnly,
            capability: Capability::ReceiveEmails,
            scope: Scope::All,
        });
        let mut back = DistrictSettings {
            daily_sync_enabled: true,
            ..DistrictSettings::default()
        };
        apply_settings(&mut back, settings_to_proto(&s)).expect("valid");
        assert_eq!(back, s);
    }

    #[test]
    fn fields_left_out_keep_their_value_and_bad_ones_are_named() {
        let mut s = DistrictSettings {
            manage_guardians: false,
            ..DistrictSettings::default()
        };
        let patch = pb::DistrictSettings {
            daily_sync_enabled: Some(true),
            student_id_source: Some(0),
            staff_permissions: Some(pb::StaffPermissions { values: vec![99] }),
            access_overrides: Some(pb::AccessOverrides {
                values: vec![pb::AccessOverride {
                    row: pb::AccessRow::Full as i32,
                    capability: 0,
                    scope: pb::Scope::Nothing as i32,
                }],
            }),
            ..pb::DistrictSettings::default()
        };
        let err = apply_settings(&mut s, patch).expect_err("must be refused");
        assert!(s.daily_sync_enabled);
        assert!(!s.manage_guardians);
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "settings.student_id_source",
                "settings.access_overrides.values[0].capability",
                "settings.staff_permissions.values[0]"
            ]
        );
    }
}
