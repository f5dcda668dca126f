//! Guardians: the SIS accounts of the pull against the guardians we hold, with the notes
//! the students' links left ([`super::marks`]): accounts a new link needs are created;
//! held ones are brought up to date, marked incomplete, connected, archived when their
//! last link goes, unarchived when a link comes back.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use model::change::{Entity, Operation};
use model::district::DistrictSettings;
use model::ids::{GuardianId, SourceId};
use model::roster::{AccountStatus, Address, Guardian, Phone, PhoneType};
use model::run::PlanItem;
use model::source::GuardianAccount;
use model::staging::StagedRecord;
use model::Synced;
use policy::settings::{contact_details_update, phone_fields, ContactDetails, PhoneFields};
use policy::Authority;

use crate::marks::{account_group, guardian_group, Mark};
use crate::{content_hash, usable, Ctx, PagePlan, Planned};
use model::fields::{changes, guardian_fields};

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
pub fn plan_guardian(facts: &GuardianFacts<'_>, ctx: &Ctx<'_>) -> Option<PlanItem> {
    let settings = ctx.settings;
    let authority = ctx.authority();
    let needed = facts.marks.iter().any(|m| matches!(m, Mark::Need(_)));
    let Some(held) = facts.held else {
        let account = facts.account.filter(|_| needed)?;
        let mut g = guardian_from_account(None, account, settings, authority);
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
            guardian_from_account(Some(&held.value), a, settings, authority)
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
/// e-mail and phones left alone unless the district allows updating them; connected to
/// the SIS when the source is the district's system of record. Whether the account is
/// archived is the caller's to decide.
pub fn guardian_from_account(
    current: Option<&Guardian>,
    account: &GuardianAccount,
    settings: &DistrictSettings,
    authority: Authority,
) -> Guardian {
    let phones = if account.phones.is_empty() {
        vec![
            Phone {
                number: account.home_phone.clone(),
                kind: PhoneType::Home,
            },
            Phone {
                number: account.mobile_phone.clone(),
                kind: PhoneType::Cell,
            },
        ]
    } else {
        account.phones.clone()
    };
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
        sis_connected: authority.sis_connected(),
        ..base
    }
}

/// The note groups to read for a page of accounts: each account's, and each held
/// guardian's.
pub fn account_page_groups(
    accounts: &[SourceId],
    held: &HashMap<SourceId, Synced<Guardian>>,
) -> Vec<String> {
    let mut groups: Vec<String> = accounts.iter().map(account_group).collect();
    groups.extend(held.values().map(|h| guardian_group(h.value.id)));
    groups
}

/// Guardians of ours taking an account over (matched form authors, re-keyed guardians),
/// by the account: those the notes connect to an account we hold no guardian for.
pub fn takers(
    marks: &[Mark],
    held: &HashMap<SourceId, Synced<Guardian>>,
) -> BTreeMap<SourceId, BTreeSet<GuardianId>> {
    let mut takers: BTreeMap<SourceId, BTreeSet<GuardianId>> = BTreeMap::new();
    for m in marks {
        if let Mark::Connect(source, g) = m {
            if !held.contains_key(source) {
                takers.entry(source.clone()).or_default().insert(*g);
            }
        }
    }
    takers
}

/// The guardians the notes unlink: whose links the driver counts.
pub fn unlinked(marks: &[Mark]) -> Vec<GuardianId> {
    let set: BTreeSet<GuardianId> = marks
        .iter()
        .filter_map(|m| match m {
            Mark::Unlink(g, _) => Some(*g),
            _ => None,
        })
        .collect();
    set.into_iter().collect()
}

/// A page of SIS accounts with what the guardians' pass knows of them.
#[derive(Debug, Clone, Copy)]
pub struct AccountPage<'a> {
    /// The staged accounts of the page.
    pub records: &'a [StagedRecord],
    /// The guardians we hold of the page's accounts, by source id.
    pub held: &'a HashMap<SourceId, Synced<Guardian>>,
    /// The notes of the accounts, of the held guardians and of the takers.
    pub marks: &'a [Mark],
    /// The guardians the notes connect to accounts we hold no guardian for.
    pub taken: &'a HashMap<GuardianId, Synced<Guardian>>,
    /// How many links each unlinked guardian holds now.
    pub links_now: &'a BTreeMap<GuardianId, u64>,
}

/// Pass 2a: a page of SIS accounts against the guardians we hold, with the notes the
/// links left about them. Notes `Done` for each held guardian whose notes it planned.
pub fn plan_account_page(ctx: &Ctx<'_>, page: &AccountPage<'_>) -> PagePlan {
    let mut out = PagePlan::default();
    let takers = takers(page.marks, page.held);
    for (a, _) in usable::<GuardianAccount>(page.records) {
        let (held_g, gid) = match page.held.get(&a.source_id) {
            Some(h) => (Some(h), h.value.id),
            None => match takers.get(&a.source_id).and_then(|t| t.first()) {
                Some(g) => {
                    if takers.get(&a.source_id).is_some_and(|t| t.len() > 1) {
                        out.warnings.push(format!("guardian account {}: several of our guardians without a SIS account match it; guardian {g} takes it over", a.source_id));
                    }
                    (page.taken.get(g), *g)
                }
                None => (None, GuardianId::derived(ctx.district, &a.source_id)),
            },
        };
        let mut mine: Vec<&Mark> = page
            .marks
            .iter()
            .filter(|m| match m {
                Mark::Need(s) => *s == a.source_id,
                Mark::Connect(s, g) => *s == a.source_id && *g == gid,
                other => other.guardian() == Some(gid),
            })
            .collect();
        mine.sort();
        mine.dedup();
        if held_g.is_some() && mine.iter().any(|m| m.guardian() == Some(gid)) {
            out.marks.push(Mark::Done(gid));
        }
        let facts = GuardianFacts {
            held: held_g,
            account: Some(&a),
            marks: mine,
            links_now: page.links_now.get(&gid).copied().unwrap_or(0),
            new_id: gid,
        };
        if let Some(item) = plan_guardian(&facts, ctx) {
            out.push(item);
        }
    }
    out
}

/// The guardians a page of notes names and the guardians' pass did not plan (no `Done`),
/// each with its notes. The driver reads notes a guardian at a time: a page never cuts one
/// guardian's notes.
pub fn marked_guardians(records: &[StagedRecord]) -> BTreeMap<GuardianId, Vec<Mark>> {
    let mut by_guardian: BTreeMap<GuardianId, Vec<Mark>> = BTreeMap::new();
    for m in records.iter().filter_map(Mark::read) {
        if let Some(g) = m.guardian() {
            by_guardian.entry(g).or_default().push(m);
        }
    }
    for marks in by_guardian.values_mut() {
        marks.sort();
    }
    by_guardian.retain(|_, marks| !marks.iter().any(|m| matches!(m, Mark::Done(_))));
    by_guardian
}

/// Pass 2b: guardians only the notes name (no SIS account in this pull): marked
/// incomplete, or losing their last link.
pub fn plan_marked_guardians(
    ctx: &Ctx<'_>,
    marked: &BTreeMap<GuardianId, Vec<Mark>>,
    held: &HashMap<GuardianId, Synced<Guardian>>,
    links_now: &BTreeMap<GuardianId, u64>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for (g, marks) in marked {
        let Some(h) = held.get(g) else { continue };
        let facts = GuardianFacts {
            held: Some(h),
            account: None,
            marks: marks.iter().collect(),
            links_now: links_now.get(g).copied().unwrap_or(0),
            new_id: *g,
        };
        if let Some(item) = plan_guardian(&facts, ctx) {
            out.push(Planned::new(item));
        }
    }
    out
}
