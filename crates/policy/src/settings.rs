//! District settings that shape what the sync writes (SPEC §4, seeds 002 and 004).

use std::collections::BTreeSet;

use model::district::{DistrictSettings, Selection, StaffPermission};
use model::link::{Decision, RuleId};
use model::roster::{AccountStatus, Contact, Phone, PhoneType};

/// Rule id: the contacts behind an account are of a type or relationship the district
/// does not sync.
pub const CONTACT_NOT_SYNCED: &str = "settings.contact_not_synced";
/// Rule id: an active guardian's e-mail and phones are left as they are.
pub const ACTIVE_CONTACT_DETAILS_KEPT: &str = "settings.active_contact_details_kept";

/// > "Check the boxes of the relevant Contact Types to sync, Contact Relationships to
/// > sync, and Phone Types to sync." (seed 004)
///
/// A contact counts when both its type and its relationship are selected. A value the
/// source vocabulary did not define (`Other`) counts only under "all".
pub fn contact_selected(contact: &Contact, settings: &DistrictSettings) -> bool {
    settings.contact_types.includes(&contact.contact_type)
        && settings
            .contact_relationships
            .includes(&contact.relationship)
}

/// A guardian's two phone fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneFields {
    /// The phone field: the home phone, never used for login or messages.
    pub home_phone: String,
    /// The SMS field: the mobile — the login method and where SMS and calls go.
    pub mobile_phone: String,
}

/// Which source phone goes to which field.
///
/// > "Phone numbers from the SMS field are saved as the user's mobile phone … Phone
/// > number from the phone field are saved as user's Home Phone Number" (seed 002)
/// >
/// > "Using Clever only one phone type can be selected and if the phone type Home is
/// > selected, it will be added to the Phone Field and not the SMS field." (seed 004)
///
/// With exactly one phone type selected, that type's first number goes to the phone
/// field if it is Home and to the SMS field otherwise. With several (or all), the first
/// selected Home number goes to the phone field and the first selected Cell number to the
/// SMS field; other types fill neither.
pub fn phone_fields(phones: &[Phone], selection: &Selection<PhoneType>) -> PhoneFields {
    let selected: Vec<&Phone> = phones
        .iter()
        .filter(|p| !p.number.trim().is_empty() && selection.includes(&p.kind))
        .collect();
    let first = |kind: &PhoneType| {
        selected
            .iter()
            .find(|p| &p.kind == kind)
            .map(|p| p.number.trim().to_owned())
            .unwrap_or_default()
    };
    if let Selection::Only(set) = selection {
        if set.len() == 1 {
            let only = set.iter().next().cloned().unwrap_or(PhoneType::Cell);
            let number = first(&only);
            return if only == PhoneType::Home {
                PhoneFields {
                    home_phone: number,
                    mobile_phone: String::new(),
                }
            } else {
                PhoneFields {
                    home_phone: String::new(),
                    mobile_phone: number,
                }
            };
        }
    }
    PhoneFields {
        home_phone: first(&PhoneType::Home),
        mobile_phone: first(&PhoneType::Cell),
    }
}

/// The contact details a sync may write to a guardian account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDetails {
    pub email: String,
    pub phones: PhoneFields,
}

/// What of `incoming` the sync may write over `current`.
///
/// > "Allow the sync to update contact details of active users: If your … data is the
/// > most up-to-date source of user contact details, you may choose to enable this
/// > option." (seeds 002, 004)
///
/// Off, an active guardian (one who uses the product) keeps the e-mail and phones they
/// have; the decision says so. Accounts not yet in use always take the source's details.
pub fn contact_details_update(
    status: AccountStatus,
    current: &ContactDetails,
    incoming: ContactDetails,
    settings: &DistrictSettings,
) -> (ContactDetails, Option<Decision>) {
    if status != AccountStatus::Active || settings.update_active_contact_details {
        return (incoming, None);
    }
    if &incoming == current {
        return (incoming, None);
    }
    let decision = Decision {
        rule: RuleId::new(ACTIVE_CONTACT_DETAILS_KEPT),
        facts: Default::default(),
    }
    .fact("source_email", &incoming.email)
    .fact("source_home_phone", &incoming.phones.home_phone)
    .fact("source_mobile_phone", &incoming.phones.mobile_phone);
    (current.clone(), Some(decision))
}

/// The permissions the sync grants a staff member it creates (seeds 002, 004).
pub fn staff_permissions(settings: &DistrictSettings) -> BTreeSet<StaffPermission> {
    settings.staff_permissions.clone()
}
