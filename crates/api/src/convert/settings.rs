//! District settings: to the proto and back, a setting at a time, each refusal naming the
//! field path.

use std::collections::BTreeSet;

use model::district::{
    AccessOverride, AccessRow, ArchivedStudents, Capability, DistrictSettings, Limit, Scope,
    Selection, StaffPermission, StudentIdSource, Thresholds, RECORD_KINDS,
};
use model::limits;
use model::notify::{Subscriber, MAX_SUBSCRIBERS};
use model::roster::{ContactType, PhoneType, Relationship};
use model::ValidationErrors;
use proto::v1 as pb;

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
        subscribers,
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
        subscribers: Some(pb::Subscribers {
            values: subscribers
                .iter()
                .map(|s| pb::Subscriber {
                    name: s.name.clone(),
                    webhook_url: s.webhook_url.clone(),
                    emails: s.emails.clone(),
                    secret: String::new(),
                    secret_set: s.secret.as_ref().is_some_and(|x| !x.is_empty()),
                })
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
    Selection::from_list(path, all, &values, parse, errors)
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
        subscribers,
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
    if let Some(given) = subscribers {
        let n = given.values.len();
        match limits::count("settings.subscribers.values", n, MAX_SUBSCRIBERS) {
            Ok(()) => target.subscribers = subscribers_from_proto(&target.subscribers, given),
            Err(e) => errors.0.push(e),
        }
    }
    if let Some(limits) = max_rejected_percent {
        let n = limits.max_percent.len();
        match limits::count("settings.max_rejected_percent", n, RECORD_KINDS.len()) {
            Ok(()) => target.max_rejected_percent = limits.max_percent.into_iter().collect(),
            Err(e) => errors.0.push(e),
        }
    }
    let n = access_overrides.as_ref().map_or(0, |o| o.values.len());
    if let Err(e) = limits::count(
        "settings.access_overrides.values",
        n,
        limits::ACCESS_OVERRIDES,
    ) {
        errors.0.push(e);
    } else if let Some(o) = access_overrides {
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
    let n = staff_permissions.as_ref().map_or(0, |p| p.values.len());
    let path = "settings.staff_permissions.values";
    if let Err(e) = limits::count(path, n, StaffPermission::ALL.len()) {
        errors.0.push(e);
    } else if let Some(p) = staff_permissions {
        let named = p.values.iter().map(|v| (*v, format!("permission {v}")));
        limits::unique(path, named, &mut errors);
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

/// The subscribers a caller gave, each keeping the stored secret of the subscriber of the
/// same name and URL when it gives none (a secret is write-only: a caller that read the
/// district cannot send it back).
fn subscribers_from_proto(stored: &[Subscriber], given: pb::Subscribers) -> Vec<Subscriber> {
    given
        .values
        .into_iter()
        .map(|s| {
            let name = s.name.trim().to_owned();
            let webhook_url = s.webhook_url.trim().to_owned();
            let secret = if s.secret.is_empty() {
                stored
                    .iter()
                    .find(|old| old.name == name && old.webhook_url == webhook_url)
                    .and_then(|old| old.secret.clone())
            } else {
                Some(model::Secret::new(s.secret))
            };
            Subscriber {
                name,
                webhook_url,
                emails: s.emails.iter().map(|e| e.trim().to_owned()).collect(),
                secret,
            }
        })
        .collect()
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
