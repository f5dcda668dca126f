//! Guardians: the SIS accounts of the pull against the guardians we hold, with the notes
//! the students' links left ([`super::marks`]): accounts a new link needs are created;
//! held ones are brought up to date, marked incomplete, connected, archived when their
//! last link goes, unarchived when a link comes back.

use model::change::{Entity, Operation};
use model::district::DistrictSettings;
use model::ids::GuardianId;
use model::roster::{AccountStatus, Address, Guardian, Phone, PhoneType};
use model::run::PlanItem;
use model::source::GuardianAccount;
use policy::settings::{contact_details_update, phone_fields, ContactDetails, PhoneFields};
use store::Synced;

use super::marks::Mark;
use crate::sync::diff::{changes, guardian_fields};
use crate::sync::stage::content_hash;

/// The account's hash, with the settings that shape the guardian record.
pub fn account_hash(account: &GuardianAccount, settings: &DistrictSettings) -> String {
    let mut a = account.clone();
    a.student_source_ids.clear();
    content_hash(&(
        a,
        &settings.phone_types,
        settings.update_active_contact_details,
    ))
}

/// What the guardian pass knows of one guardian.
#[derive(Debug)]
pub struct GuardianFacts<'a> {
    /// The guardian we hold, if any.
    pub held: Option<&'a Synced<Guardian>>,
    /// Its SIS account in this pull (usable), if any.
    pub account: Option<&'a GuardianAccount>,
    /// The notes the students' links left about it.
    pub marks: Vec<&'a Mark>,
    /// How many links it holds now.
    pub links_now: u64,
    /// The id a new guardian gets.
    pub new_id: GuardianId,
}

/// The plan item for one guardian, if anything changes.
pub fn plan_guardian(facts: &GuardianFacts<'_>, settings: &DistrictSettings) -> Option<PlanItem> {
    let needed = facts.marks.iter().any(|m| matches!(m, Mark::Need(_)));
    let Some(held) = facts.held else {
        let account = facts.account.filter(|_| needed)?;
        let mut g = guardian_from_account(None, account, settings);
        g.id = facts.new_id;
        let record = g.id.to_string();
        return Some(PlanItem::Guardian {
            operation: Operation::Create,
            changes: changes(
                Entity::Guardian,
                &record,
                Operation::Create,
                None,
                &guardian_fields(&g),
            ),
            source_hash: account_hash(account, settings),
            guardian: g,
        });
    };
    let hash = facts
        .account
        .map_or_else(|| held.source_hash.clone(), |a| account_hash(a, settings));
    let mut g = match facts.account {
        Some(a)
            if hash != held.source_hash
                || facts.marks.iter().any(|m| matches!(m, Mark::Connect(..))) =>
        {
            guardian_from_account(Some(&held.value), a, settings)
        }
        _ => held.value.clone(),
    };
    let mut unlinks = 0u64;
    let mut relinks = 0u64;
    for m in &facts.marks {
        match m {
            Mark::Incomplete(_) => g.status = AccountStatus::Incomplete,
            Mark::Connect(source, _) => {
                g.source_id = Some(source.clone());
                g.sis_connected = true;
            }
            Mark::Unlink(..) => unlinks += 1,
            Mark::Relink(..) => relinks += 1,
            Mark::Need(_) | Mark::Done(_) => {}
        }
    }
    if relinks > 0 {
        g.archived = false;
    } else if unlinks > 0 && facts.links_now <= unlinks {
        // Its last link goes (no local or form link holds it): archived with it.
        g.archived = true;
    }
    let operation = match (held.value.archived, g.archived) {
        (false, true) => Operation::Archive,
        (true, false) => Operation::Unarchive,
        _ => Operation::Update,
    };
    let record = g.id.to_string();
    let c = changes(
        Entity::Guardian,
        &record,
        operation,
        Some(&guardian_fields(&held.value)),
        &guardian_fields(&g),
    );
    if c.is_empty() && hash == held.source_hash {
        return None;
    }
    Some(PlanItem::Guardian {
        operation,
        changes: c,
        source_hash: hash,
        guardian: g,
    })
}

/// A guardian as a SIS account makes it: a new account (`current` none) or the account
/// we hold brought up to date — names, the access account's e-mail, phones mapped to the
/// SMS and phone fields, the mailing-else-physical address — with an active user's
/// e-mail and phones left alone unless the district allows updating them. Whether the
/// account is archived is the caller's to decide.
pub fn guardian_from_account(
    current: Option<&Guardian>,
    account: &GuardianAccount,
    settings: &DistrictSettings,
) -> Guardian {
    let phones = [
        Phone {
            number: account.home_phone.clone(),
            kind: PhoneType::Home,
        },
        Phone {
            number: account.mobile_phone.clone(),
            kind: PhoneType::Cell,
        },
    ];
    let incoming = ContactDetails {
        email: account.email.trim().to_owned(),
        phones: phone_fields(&phones, &settings.phone_types),
    };
    let address = account.preferred_address().cloned().unwrap_or_default();
    let base = match current {
        Some(current) => current.clone(),
        None => Guardian {
            id: GuardianId::new(),
            source_id: Some(account.source_id.clone()),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            home_phone: String::new(),
            mobile_phone: String::new(),
            address: Address::default(),
            status: AccountStatus::Pending,
            sis_connected: true,
            archived: false,
        },
    };
    let details = match current {
        Some(current) => {
            let held = ContactDetails {
                email: current.email.clone(),
                phones: PhoneFields {
                    home_phone: current.home_phone.clone(),
                    mobile_phone: current.mobile_phone.clone(),
                },
            };
            contact_details_update(current.status, &held, incoming, settings).0
        }
        None => incoming,
    };
    Guardian {
        first_name: account.first_name.trim().to_owned(),
        last_name: account.last_name.trim().to_owned(),
        email: details.email,
        home_phone: details.phones.home_phone,
        mobile_phone: details.phones.mobile_phone,
        address,
        sis_connected: true,
        ..base
    }
}
