//! Districts and their connector configuration; their settings are in
//! [`super::settings`].

use engine::Registry;
use engine::{CheckOutcome, CheckReport};
use engine::{ConnectorDraft, ConnectorEdit, DistrictUpdate};
use model::district::{District, DistrictSettings};
use model::ValidationErrors;
use proto::v1 as pb;

use super::settings::{apply_settings, settings_to_proto};
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
const SETTINGS_FIELDS: [&str; 14] = [
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
    "subscribers",
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
        "subscribers" => to.subscribers = from.subscribers.clone(),
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
    if let Err(e) =
        model::limits::count("update_mask.paths", paths.len(), model::limits::MASK_PATHS)
    {
        errors.0.push(e);
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
        if let Err(e) = model::limits::text(&at, path, model::limits::MASK_PATH) {
            errors.0.push(e);
            continue;
        }
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
                format!(
                    "{} is not a field of District that can be updated",
                    model::limits::echo(path)
                ),
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
                CheckOutcome::Limited { problem, cause } => {
                    (pb::CheckOutcome::Limited, problem, cause.as_str())
                }
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
        None => {
            let connected = format!(
                "connected to {}: {} schools, {} students",
                report.source_version.as_deref().unwrap_or("the source"),
                report.schools.map_or("?".into(), |n| n.to_string()),
                report.students.map_or("?".into(), |n| n.to_string()),
            );
            let limited: Vec<&str> = report
                .steps
                .iter()
                .filter(|s| matches!(s.outcome, CheckOutcome::Limited { .. }))
                .map(|s| s.name.as_str())
                .collect();
            if limited.is_empty() {
                connected
            } else {
                format!("{connected}; not synced: {}", limited.join(", "))
            }
        }
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
