//! The access-tier matrix (SPEC §3) and the district settings (SPEC §4), one case each.

use std::collections::BTreeSet;

use model::district::{
    AccessOverride, AccessRow, Capability, DistrictSettings, Scope, Selection, StaffPermission,
};
use model::link::AccessTier;
use model::roster::{AccountStatus, Phone, PhoneType};
use rostersync_policy::settings::{
    contact_details_update, phone_fields, staff_permissions, ContactDetails, PhoneFields,
    ACTIVE_CONTACT_DETAILS_KEPT,
};
use rostersync_policy::AccessMatrix;

#[test]
fn each_tier_may_do_what_spec_section_3_says() {
    use Capability::*;
    use Scope::*;
    let m = AccessMatrix::default();
    let active = AccountStatus::Active;
    let table = [
        (AccessTier::Full, [All, All, All, All]),
        (
            AccessTier::Restricted,
            [
                StarterFormsOnly,
                StarterFormsOnly,
                StarterFormsOnly,
                StarterFormsOnly,
            ],
        ),
        (
            AccessTier::ReadOnly,
            [
                OwnFormsOnly,
                StarterFormsOnly,
                StarterFormsOnly,
                OwnFormsOnly,
            ],
        ),
    ];
    for (tier, scopes) in table {
        for (cap, scope) in [ViewForms, CreateForms, EditForms, ReceiveEmails]
            .into_iter()
            .zip(scopes)
        {
            assert_eq!(m.scope(tier, active, cap), scope, "{tier:?} {cap:?}");
        }
    }
}

#[test]
fn an_incomplete_account_is_limited_whatever_its_tier() {
    let m = AccessMatrix::default();
    for tier in [
        AccessTier::Full,
        AccessTier::Restricted,
        AccessTier::ReadOnly,
    ] {
        assert_eq!(
            m.scope(tier, AccountStatus::Incomplete, Capability::ReceiveEmails),
            Scope::Nothing
        );
        assert_eq!(
            m.scope(tier, AccountStatus::Incomplete, Capability::ViewForms),
            Scope::StarterFormsOnly
        );
    }
    assert_eq!(
        m.scope(
            AccessTier::Full,
            AccountStatus::Pending,
            Capability::ViewForms
        ),
        Scope::All
    );
}

#[test]
fn a_district_overrides_one_cell() {
    let m = AccessMatrix::with_overrides(&[AccessOverride {
        row: AccessRow::ReadOnly,
        capability: Capability::ReceiveEmails,
        scope: Scope::All,
    }]);
    assert_eq!(
        m.scope(
            AccessTier::ReadOnly,
            AccountStatus::Active,
            Capability::ReceiveEmails
        ),
        Scope::All
    );
    assert_eq!(
        m.scope(
            AccessTier::ReadOnly,
            AccountStatus::Active,
            Capability::ViewForms
        ),
        Scope::OwnFormsOnly
    );
    let untouched = AccessMatrix::with_overrides(&DistrictSettings::default().access_overrides);
    assert_eq!(
        untouched,
        AccessMatrix::default(),
        "no overrides by default"
    );
    assert_ne!(m, untouched);
}

fn phones() -> Vec<Phone> {
    vec![
        Phone {
            number: "403-555-0001".into(),
            kind: PhoneType::Work,
        },
        Phone {
            number: "403-555-0002".into(),
            kind: PhoneType::Home,
        },
        Phone {
            number: "403-555-0003".into(),
            kind: PhoneType::Cell,
        },
        Phone {
            number: "403-555-0004".into(),
            kind: PhoneType::Cell,
        },
    ]
}

fn only(types: &[PhoneType]) -> Selection<PhoneType> {
    Selection::Only(types.iter().cloned().collect())
}

#[test]
fn phones_go_to_the_sms_and_phone_fields() {
    let f = |home: &str, mobile: &str| PhoneFields {
        home_phone: home.into(),
        mobile_phone: mobile.into(),
    };
    assert_eq!(
        phone_fields(&phones(), &Selection::All),
        f("403-555-0002", "403-555-0003"),
        "home → phone field, cell → SMS field"
    );
    assert_eq!(
        phone_fields(&phones(), &only(&[PhoneType::Home])),
        f("403-555-0002", ""),
        "Clever: Home goes to the phone field"
    );
    assert_eq!(
        phone_fields(&phones(), &only(&[PhoneType::Cell])),
        f("", "403-555-0003"),
        "Clever: another type goes to the SMS field"
    );
    assert_eq!(
        phone_fields(&phones(), &only(&[PhoneType::Work])),
        f("", "403-555-0001"),
        "Clever: Work goes to the SMS field"
    );
    assert_eq!(
        phone_fields(&phones(), &only(&[PhoneType::Home, PhoneType::Work])),
        f("403-555-0002", ""),
        "unselected cell phones are not synced"
    );
    assert_eq!(phone_fields(&[], &Selection::All), f("", ""));
}

#[test]
fn active_users_keep_their_contact_details_unless_the_district_allows_updates() {
    let current = ContactDetails {
        email: "old@x.example".into(),
        phones: PhoneFields {
            home_phone: "1".into(),
            mobile_phone: "2".into(),
        },
    };
    let incoming = ContactDetails {
        email: "new@x.example".into(),
        phones: PhoneFields {
            home_phone: "3".into(),
            mobile_phone: "4".into(),
        },
    };
    let off = DistrictSettings::default();
    let (kept, why) =
        contact_details_update(AccountStatus::Active, &current, incoming.clone(), &off);
    assert_eq!(kept, current);
    let why = why.expect("a decision says why");
    assert_eq!(why.rule.as_str(), ACTIVE_CONTACT_DETAILS_KEPT);
    assert_eq!(why.facts["source_email"], "new@x.example");
    let on = DistrictSettings {
        update_active_contact_details: true,
        ..DistrictSettings::default()
    };
    assert_eq!(
        contact_details_update(AccountStatus::Active, &current, incoming.clone(), &on),
        (incoming.clone(), None)
    );
    assert_eq!(
        contact_details_update(AccountStatus::Pending, &current, incoming.clone(), &off),
        (incoming, None),
        "not yet in use: the source wins"
    );
}

#[test]
fn the_sync_grants_the_staff_permissions_the_district_chose() {
    let chosen = BTreeSet::from([
        StaffPermission::FamilyAccess,
        StaffPermission::EngagementVisibility,
    ]);
    let s = DistrictSettings {
        staff_permissions: chosen.clone(),
        ..DistrictSettings::default()
    };
    assert_eq!(staff_permissions(&s), chosen);
    assert!(staff_permissions(&DistrictSettings::default()).is_empty());
}
