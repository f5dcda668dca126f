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

use std::collections::{BTreeMap, BTreeSet};

use model::ids::SourceId;
use model::run::SyncRun;
use model::staging::{compound_key, StagedKind};

use super::marks::{account_group, guardian_group, Mark};
use super::{parse, Ctx, Phase, Writer, PAGE};
use crate::sync::stage::content_hash;
use crate::sync::{RunControl, Stop};
use crate::Engine;
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
        // A guardian from a district's guardians.csv is not connected to the SIS.
        sis_connected: !model::link::is_import_source(account.source_id.as_str()),
        ..base
    }
}

impl Engine {
    /// Pass 2a: the SIS accounts in key order against the guardians we hold, with the
    /// notes the links left about them.
    pub(super) async fn plan_guardians(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let d = ctx.district;
        let mut after: Option<String> = None;
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let page = self
                .store
                .staged_page(
                    d,
                    run.id,
                    StagedKind::GuardianAccount,
                    after.as_deref(),
                    PAGE,
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            let accounts: Vec<GuardianAccount> = page
                .iter()
                .filter(|r| r.usable())
                .filter_map(parse)
                .collect();
            let sources: Vec<SourceId> = accounts.iter().map(|a| a.source_id.clone()).collect();
            let held = self.store.guardians_by_source(d, &sources).await?;
            let mut groups: Vec<String> = sources.iter().map(account_group).collect();
            groups.extend(held.values().map(|h| guardian_group(h.value.id)));
            let mut marks: Vec<Mark> = self
                .store
                .staged_of_groups(d, run.id, StagedKind::Mark, &groups)
                .await?
                .iter()
                .filter_map(Mark::read)
                .collect();
            // Guardians of ours taking an account over (matched form authors), with
            // their own notes.
            let mut takers: BTreeMap<SourceId, BTreeSet<GuardianId>> = BTreeMap::new();
            for m in &marks {
                if let Mark::Connect(source, g) = m {
                    if !held.contains_key(source) {
                        takers.entry(source.clone()).or_default().insert(*g);
                    }
                }
            }
            let taker_ids: Vec<GuardianId> = takers.values().flatten().copied().collect();
            let taken = self.store.synced_guardians_by_id(d, &taker_ids).await?;
            let taker_groups: Vec<String> = taker_ids.iter().map(|g| guardian_group(*g)).collect();
            marks.extend(
                self.store
                    .staged_of_groups(d, run.id, StagedKind::Mark, &taker_groups)
                    .await?
                    .iter()
                    .filter_map(Mark::read),
            );
            let unlinked: Vec<GuardianId> = marks
                .iter()
                .filter_map(|m| match m {
                    Mark::Unlink(g, _) => Some(*g),
                    _ => None,
                })
                .collect();
            let links_now = self.store.count_links_of_guardians(d, &unlinked).await?;
            for a in &accounts {
                let (held_g, gid) = match held.get(&a.source_id) {
                    Some(h) => (Some(h), h.value.id),
                    None => match takers.get(&a.source_id).and_then(|t| t.first()) {
                        Some(g) => {
                            if takers.get(&a.source_id).is_some_and(|t| t.len() > 1) {
                                Self::warn(run, format!("guardian account {}: several of our guardians without a SIS account match it; guardian {g} takes it over", a.source_id));
                            }
                            (taken.get(g), *g)
                        }
                        None => (None, GuardianId::derived(d, &a.source_id)),
                    },
                };
                let mine: Vec<&Mark> = marks
                    .iter()
                    .filter(|m| match m {
                        Mark::Need(s) => *s == a.source_id,
                        Mark::Connect(s, g) => *s == a.source_id && *g == gid,
                        other => other.guardian() == Some(gid),
                    })
                    .collect();
                if held_g.is_some() && mine.iter().any(|m| m.guardian() == Some(gid)) {
                    w.marks.insert(Mark::Done(gid));
                }
                let facts = GuardianFacts {
                    held: held_g,
                    account: Some(a),
                    marks: mine,
                    links_now: links_now.get(&gid).copied().unwrap_or(0),
                    new_id: gid,
                };
                if let Some(item) = plan_guardian(&facts, ctx.settings) {
                    let phase = match item.operation() {
                        Operation::Archive => Phase::Archives,
                        _ => Phase::Guardians,
                    };
                    w.push(run, phase, item, None);
                }
            }
            self.flush(ctx, run, w).await?;
        }
        Ok(())
    }

    /// Pass 2b: guardians only the notes name (no SIS account in this pull): marked
    /// incomplete, or losing their last link.
    pub(super) async fn plan_marked_guardians(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        control: &RunControl,
    ) -> Result<(), Stop> {
        let d = ctx.district;
        let prefix = compound_key(&["guardian", ""]);
        let mut after = Some(compound_key(&["guardian"]));
        loop {
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            let mut page = self
                .store
                .staged_page(d, run.id, StagedKind::Mark, after.as_deref(), PAGE)
                .await?;
            page.retain(|r| r.key.starts_with(&prefix));
            let Some(last_group) = page.last().map(|r| r.group.clone()) else {
                break;
            };
            // A guardian's notes are read together: one cut by the page end waits.
            if page.len() as u64 == PAGE && page.iter().any(|r| r.group != last_group) {
                page.retain(|r| r.group != last_group);
            }
            after = page.last().map(|r| r.key.clone());
            let mut by_guardian: BTreeMap<GuardianId, Vec<Mark>> = BTreeMap::new();
            for m in page.iter().filter_map(Mark::read) {
                if let Some(g) = m.guardian() {
                    by_guardian.entry(g).or_default().push(m);
                }
            }
            by_guardian.retain(|_, marks| !marks.iter().any(|m| matches!(m, Mark::Done(_))));
            let ids: Vec<GuardianId> = by_guardian.keys().copied().collect();
            let held = self.store.synced_guardians_by_id(d, &ids).await?;
            let links_now = self.store.count_links_of_guardians(d, &ids).await?;
            for (g, marks) in &by_guardian {
                let Some(h) = held.get(g) else { continue };
                let facts = GuardianFacts {
                    held: Some(h),
                    account: None,
                    marks: marks.iter().collect(),
                    links_now: links_now.get(g).copied().unwrap_or(0),
                    new_id: *g,
                };
                if let Some(item) = plan_guardian(&facts, ctx.settings) {
                    let phase = match item.operation() {
                        Operation::Archive => Phase::Archives,
                        _ => Phase::Guardians,
                    };
                    w.push(run, phase, item, None);
                }
            }
            self.flush(ctx, run, w).await?;
        }
        Ok(())
    }
}
