//! Planning one batch: the source's students, contacts and guardian accounts against what
//! the store holds, through the policy, into plan items. Pure: the caller loads
//! [`BatchState`] from the store and stores the items.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use model::change::{Entity, Operation};
use model::district::DistrictSettings;
use model::ids::{GuardianId, SourceId, StudentId};
use model::link::{Link, LinkOrigin};
use model::roster::{AccountStatus, Address, Contact, Guardian, Phone, PhoneType, Student};
use model::run::PlanItem;
use model::source::{GuardianAccount, SourceStudent};
use policy::reconcile::{
    GuardianRef, HeldLink, KnownGuardian, LinkChange, LinkOutcome, SisRelationship,
};
use policy::settings::{contact_details_update, phone_fields, ContactDetails, PhoneFields};
use sha2::{Digest, Sha256};
use store::Synced;

use super::diff::{changes, guardian_fields, link_fields, student_fields};

/// One page of the source: students with their contacts and guardian accounts.
#[derive(Debug, Default)]
pub struct Batch {
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub accounts: Vec<GuardianAccount>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.students.is_empty() && self.contacts.is_empty() && self.accounts.is_empty()
    }
}

/// What the store holds about one batch.
#[derive(Debug, Default)]
pub struct BatchState {
    pub students: HashMap<SourceId, Synced<Student>>,
    /// Our guardians holding the batch's SIS accounts, by account id.
    pub guardians: HashMap<SourceId, Synced<Guardian>>,
    /// The links of the batch's known students.
    pub links: Vec<Link>,
    /// The guardians of those links.
    pub linked_guardians: HashMap<GuardianId, Guardian>,
    /// (guardian, student) pairs where the guardian created a form for the student.
    pub form_authors: HashSet<(GuardianId, StudentId)>,
}

/// Plans a run batch by batch; remembers what earlier batches planned.
#[derive(Debug)]
pub struct Planner {
    settings: DistrictSettings,
    now: DateTime<Utc>,
    /// Guardians planned (or found unchanged) so far, by SIS account id.
    guardians: HashMap<SourceId, Guardian>,
    /// Students the source listed.
    seen: HashSet<SourceId>,
}

/// A content hash: the same source record always hashes the same.
pub fn content_hash<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..16])
}

impl Planner {
    pub fn new(settings: DistrictSettings, now: DateTime<Utc>) -> Self {
        Planner {
            settings,
            now,
            guardians: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    /// Whether the source listed this student in this run.
    pub fn saw(&self, source_id: &SourceId) -> bool {
        self.seen.contains(source_id)
    }

    /// The plan items of one batch.
    pub fn plan_batch(&mut self, batch: &Batch, state: &BatchState) -> Vec<PlanItem> {
        let mut items = Vec::new();

        // Students.
        let mut ids: HashMap<SourceId, StudentId> = HashMap::new();
        for src in &batch.students {
            if !self.seen.insert(src.source_id.clone()) {
                continue;
            }
            let existing = state.students.get(&src.source_id);
            let hash = content_hash(src);
            let id = existing.map_or_else(StudentId::new, |s| s.value.id);
            ids.insert(src.source_id.clone(), id);
            if let Some(e) = existing {
                if e.source_hash == hash && !e.value.archived {
                    continue;
                }
            }
            let student = student_from_source(src, id);
            let operation = match existing {
                None => Operation::Create,
                Some(e) if e.value.archived => Operation::Unarchive,
                Some(_) => Operation::Update,
            };
            let old = existing.map(|e| student_fields(&e.value));
            let record = student.id.to_string();
            items.push(PlanItem::Student {
                operation,
                changes: changes(
                    Entity::Student,
                    &record,
                    operation,
                    old.as_ref(),
                    &student_fields(&student),
                ),
                student,
                source_hash: hash,
            });
        }

        // Links: the rules on every SIS relationship, reconciled with the held links.
        let accounts: BTreeMap<&SourceId, &GuardianAccount> =
            batch.accounts.iter().map(|a| (&a.source_id, a)).collect();
        // Our guardians holding this batch's accounts: the store's, or planned earlier in
        // the run. Reconciliation looks up only the batch's accounts.
        let mut known: Vec<KnownGuardian> = accounts
            .keys()
            .filter_map(|source| {
                let id = self
                    .guardians
                    .get(*source)
                    .map(|g| g.id)
                    .or_else(|| state.guardians.get(*source).map(|g| g.value.id))?;
                Some(KnownGuardian {
                    id,
                    source_id: (*source).clone(),
                })
            })
            .collect();
        let mut guardian_edits: BTreeMap<GuardianId, Guardian> = BTreeMap::new();
        let mut link_items = Vec::new();
        let mut new_accounts: Vec<&GuardianAccount> = Vec::new();
        for src in &batch.students {
            let Some(&student_id) = ids.get(&src.source_id) else {
                continue;
            };
            let sis: Vec<SisRelationship> = accounts
                .values()
                .filter(|a| a.student_source_ids.contains(&src.source_id))
                .map(|a| SisRelationship {
                    account: (*a).clone(),
                    verdict: policy::evaluate(src, &batch.contacts, a, &self.settings),
                })
                .collect();
            let held_links: Vec<&Link> = state
                .links
                .iter()
                .filter(|l| l.student_id == student_id)
                .collect();
            let held = held_links_of(&held_links, &state.linked_guardians);
            let authors = state
                .form_authors
                .iter()
                .filter(|(_, s)| *s == student_id)
                .map(|(g, _)| *g)
                .collect();
            let out = policy::reconcile(&held, &sis, &authors, &known);
            for o in out.links {
                let guardian_id = match &o.guardian {
                    GuardianRef::Existing(id) => *id,
                    GuardianRef::New(source) => match self.guardians.get(source) {
                        Some(g) => g.id,
                        None => {
                            let Some(account) = accounts.get(source) else {
                                continue;
                            };
                            let g = guardian_from_account(None, account, &self.settings);
                            let id = g.id;
                            self.guardians.insert(source.clone(), g);
                            new_accounts.push(account);
                            known.push(KnownGuardian {
                                id,
                                source_id: source.clone(),
                            });
                            id
                        }
                    },
                };
                let held = held_links
                    .iter()
                    .find(|l| l.guardian_id == guardian_id)
                    .copied();
                if let Some(item) = link_item(&o, student_id, guardian_id, held, self.now) {
                    link_items.push(item);
                }
            }
            for (guardian, _) in out.incomplete {
                if let Some(g) = self.current_guardian(guardian, state, &guardian_edits) {
                    if g.status != AccountStatus::Incomplete {
                        guardian_edits.insert(
                            guardian,
                            Guardian {
                                status: AccountStatus::Incomplete,
                                ..g
                            },
                        );
                    }
                }
            }
            for (guardian, source) in out.connect {
                if let Some(g) = self.current_guardian(guardian, state, &guardian_edits) {
                    guardian_edits.insert(
                        guardian,
                        Guardian {
                            source_id: Some(source),
                            sis_connected: true,
                            ..g
                        },
                    );
                }
            }
        }

        // Guardians: new accounts the links need, and the batch's accounts we hold.
        for account in new_accounts {
            let Some(g) = self.guardians.get(&account.source_id).cloned() else {
                continue;
            };
            let g = guardian_edits.remove(&g.id).unwrap_or(g);
            self.guardians.insert(account.source_id.clone(), g.clone());
            let record = g.id.to_string();
            items.push(PlanItem::Guardian {
                operation: Operation::Create,
                changes: changes(
                    Entity::Guardian,
                    &record,
                    Operation::Create,
                    None,
                    &guardian_fields(&g),
                ),
                source_hash: self.account_hash(account),
                guardian: g,
            });
        }
        for account in accounts.values() {
            let Some(existing) = state.guardians.get(&account.source_id) else {
                continue;
            };
            if self.guardians.contains_key(&account.source_id) {
                continue;
            }
            let hash = self.account_hash(account);
            let edited = guardian_edits.remove(&existing.value.id);
            let updated = if existing.source_hash == hash && edited.is_none() {
                self.guardians
                    .insert(account.source_id.clone(), existing.value.clone());
                continue;
            } else {
                let base = edited.unwrap_or_else(|| existing.value.clone());
                guardian_from_account(Some(&base), account, &self.settings)
            };
            self.guardians
                .insert(account.source_id.clone(), updated.clone());
            let record = updated.id.to_string();
            let c = changes(
                Entity::Guardian,
                &record,
                Operation::Update,
                Some(&guardian_fields(&existing.value)),
                &guardian_fields(&updated),
            );
            items.push(PlanItem::Guardian {
                operation: Operation::Update,
                changes: c,
                source_hash: hash,
                guardian: updated,
            });
        }
        for (id, edited) in guardian_edits {
            let before = state
                .linked_guardians
                .get(&id)
                .cloned()
                .or_else(|| self.guardians.values().find(|g| g.id == id).cloned());
            let Some(before) = before else { continue };
            if let Some(source) = &edited.source_id {
                self.guardians.insert(source.clone(), edited.clone());
            }
            let record = id.to_string();
            let c = changes(
                Entity::Guardian,
                &record,
                Operation::Update,
                Some(&guardian_fields(&before)),
                &guardian_fields(&edited),
            );
            if c.is_empty() {
                continue;
            }
            let source_hash = state
                .guardians
                .values()
                .find(|g| g.value.id == id)
                .map(|g| g.source_hash.clone())
                .unwrap_or_default();
            items.push(PlanItem::Guardian {
                operation: Operation::Update,
                changes: c,
                source_hash,
                guardian: edited,
            });
        }
        items.extend(link_items);
        items
    }

    fn current_guardian(
        &self,
        id: GuardianId,
        state: &BatchState,
        edits: &BTreeMap<GuardianId, Guardian>,
    ) -> Option<Guardian> {
        edits
            .get(&id)
            .cloned()
            .or_else(|| state.linked_guardians.get(&id).cloned())
            .or_else(|| self.guardians.values().find(|g| g.id == id).cloned())
    }

    /// The account's hash, with the settings that shape the guardian record; the students
    /// listed vary by batch and are left out.
    fn account_hash(&self, account: &GuardianAccount) -> String {
        let mut a = account.clone();
        a.student_source_ids.clear();
        content_hash(&(
            a,
            &self.settings.phone_types,
            self.settings.update_active_contact_details,
        ))
    }
}

/// A guardian as a SIS account makes it: a new account (`current` none) or the account
/// we hold brought up to date — names, the access account's e-mail, phones mapped to the
/// SMS and phone fields, the mailing-else-physical address — with an active user's
/// e-mail and phones left alone unless the district allows updating them.
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
        archived: false,
        ..base
    }
}

/// Held links as the reconciliation sees them, with their guardians' SIS ids and e-mails.
pub fn held_links_of(links: &[&Link], guardians: &HashMap<GuardianId, Guardian>) -> Vec<HeldLink> {
    links
        .iter()
        .map(|l| {
            let g = guardians.get(&l.guardian_id);
            HeldLink {
                guardian: l.guardian_id,
                guardian_source_id: g.and_then(|g| g.source_id.clone()),
                guardian_email: g.map(|g| g.email.clone()).unwrap_or_default(),
                origin: l.origin,
                tier: l.tier,
                rule: l.decision.rule.clone(),
            }
        })
        .collect()
}

/// The plan item of one reconciliation outcome, given the link held before (if any);
/// none when nothing changes.
pub fn link_item(
    outcome: &LinkOutcome,
    student: StudentId,
    guardian: GuardianId,
    held: Option<&Link>,
    now: DateTime<Utc>,
) -> Option<PlanItem> {
    let (operation, link, old) = match (&outcome.change, held) {
        (LinkChange::Unchanged, _) | (LinkChange::Removed, None) => return None,
        (LinkChange::Removed, Some(h)) => (Operation::Delete, h.clone(), None),
        (LinkChange::Created | LinkChange::Updated { .. }, held) => {
            let link = Link {
                student_id: student,
                guardian_id: guardian,
                origin: outcome.origin,
                tier: outcome.tier,
                decision: outcome.decision.clone(),
                updated_at: now,
            };
            match held {
                Some(h) => (Operation::Update, link, Some(link_fields(h))),
                None => (Operation::Create, link, None),
            }
        }
    };
    let record = format!("{student}/{guardian}");
    Some(PlanItem::Link {
        operation,
        changes: changes(
            Entity::Link,
            &record,
            operation,
            old.as_ref(),
            &link_fields(&link),
        ),
        link,
    })
}

/// Our student record of a source student.
pub fn student_from_source(src: &SourceStudent, id: StudentId) -> Student {
    Student {
        id,
        source_id: src.source_id.clone(),
        student_number: src.student_number.trim().to_owned(),
        state_id: src.state_id.trim().to_owned(),
        legal_first_name: src.legal_first_name.trim().to_owned(),
        legal_last_name: src.legal_last_name.trim().to_owned(),
        middle_name: src.middle_name.trim().to_owned(),
        birth_date: src.birth_date,
        gender: src.gender.clone(),
        school_source_id: src.school_source_id.clone(),
        grade: src.grade.trim().to_owned(),
        enrollment_status: src.enrollment_status.clone(),
        independent_student: src.independent_student,
        org_email: src.org_email.trim().to_owned(),
        personal_email: src.personal_email.trim().to_owned(),
        web_id: src.web_id.trim().to_owned(),
        archived: false,
    }
}

/// Whether a link change lowers access: from Full to anything less.
pub fn is_downgrade(item: &PlanItem) -> bool {
    match item {
        PlanItem::Link {
            operation: Operation::Update,
            link,
            changes,
        } => {
            link.tier != model::link::AccessTier::Full
                && changes
                    .iter()
                    .any(|c| c.field == "tier" && c.old_value.as_deref() == Some("full"))
        }
        _ => false,
    }
}

/// Whether a link removal takes away a link the SIS made.
pub fn is_link_removal(item: &PlanItem) -> bool {
    matches!(item, PlanItem::Link { operation: Operation::Delete, link, .. } if link.origin == LinkOrigin::Sis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::roster::EnrollmentStatus;
    use model::roster::{ContactType, Gender, Relationship};

    fn src(id: &str) -> SourceStudent {
        SourceStudent {
            source_id: SourceId::new(id),
            student_number: format!("20{id}"),
            state_id: "123456789".into(),
            legal_first_name: "Jamie".into(),
            legal_last_name: "Doe".into(),
            middle_name: String::new(),
            birth_date: None,
            gender: Gender::Female,
            school_source_id: Some(SourceId::new("17")),
            grade: "7".into(),
            enrollment_status: EnrollmentStatus::Active,
            independent_student: false,
            org_email: String::new(),
            personal_email: String::new(),
            web_id: String::new(),
            email: String::new(),
            home_phone: String::new(),
            mailing_address: None,
            physical_address: None,
        }
    }

    fn contact(student: &str, email: &str) -> Contact {
        Contact {
            source_id: SourceId::new("501"),
            student_source_id: SourceId::new(student),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            emails: vec![email.into()],
            relationship: Relationship::Mother,
            contact_type: ContactType::Guardian,
            phones: vec![],
            decision_making: Some(true),
        }
    }

    fn account(id: &str, email: &str, students: &[&str]) -> GuardianAccount {
        GuardianAccount {
            source_id: SourceId::new(id),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            email: email.into(),
            username: email.into(),
            home_phone: "403-555-0101".into(),
            mobile_phone: "403-555-0102".into(),
            mailing_address: None,
            physical_address: None,
            contact_source_ids: vec![SourceId::new("501")],
            student_source_ids: students.iter().map(|s| SourceId::new(*s)).collect(),
        }
    }

    fn ops(items: &[PlanItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| format!("{}.{}", i.entity().as_str(), i.operation().as_str()))
            .collect()
    }

    #[test]
    fn a_new_district_gets_students_linked_guardians_and_links_only() {
        let mut planner = Planner::new(DistrictSettings::default(), Utc::now());
        let batch = Batch {
            students: vec![src("1")],
            contacts: vec![contact("1", "pat@x.example")],
            accounts: vec![
                account("700", "pat@x.example", &["1"]),
                account("701", "nobody@x.example", &["1"]),
            ],
        };
        let items = planner.plan_batch(&batch, &BatchState::default());
        assert_eq!(
            ops(&items),
            ["student.create", "guardian.create", "link.create"]
        );
        let PlanItem::Link { link, .. } = &items[2] else {
            panic!("a link")
        };
        assert_eq!(
            (link.tier, link.decision.rule.as_str()),
            (model::link::AccessTier::Full, "ps.link.full")
        );
        let PlanItem::Guardian { guardian, .. } = &items[1] else {
            panic!("a guardian")
        };
        assert_eq!(
            (guardian.home_phone.as_str(), guardian.mobile_phone.as_str()),
            ("403-555-0101", "403-555-0102")
        );
    }

    #[test]
    fn an_account_in_two_batches_is_created_once_and_unchanged_records_plan_nothing() {
        let mut planner = Planner::new(DistrictSettings::default(), Utc::now());
        let first = Batch {
            students: vec![src("1")],
            contacts: vec![contact("1", "pat@x.example")],
            accounts: vec![account("700", "pat@x.example", &["1"])],
        };
        let second = Batch {
            students: vec![src("2")],
            contacts: vec![contact("2", "pat@x.example")],
            accounts: vec![account("700", "pat@x.example", &["2"])],
        };
        let a = planner.plan_batch(&first, &BatchState::default());
        let b = planner.plan_batch(&second, &BatchState::default());
        assert_eq!(
            ops(&a),
            ["student.create", "guardian.create", "link.create"]
        );
        assert_eq!(
            ops(&b),
            ["student.create", "link.create"],
            "the guardian is not created twice"
        );

        // The store now holds the first batch exactly: planning it again plans nothing.
        let (student, hash) = match &a[0] {
            PlanItem::Student {
                student,
                source_hash,
                ..
            } => (student.clone(), source_hash.clone()),
            _ => panic!("a student"),
        };
        let (guardian, ghash) = match &a[1] {
            PlanItem::Guardian {
                guardian,
                source_hash,
                ..
            } => (guardian.clone(), source_hash.clone()),
            _ => panic!("a guardian"),
        };
        let PlanItem::Link { link, .. } = &a[2] else {
            panic!("a link")
        };
        let state = BatchState {
            students: HashMap::from([(
                student.source_id.clone(),
                Synced {
                    value: student,
                    source_hash: hash,
                },
            )]),
            guardians: HashMap::from([(
                SourceId::new("700"),
                Synced {
                    value: guardian.clone(),
                    source_hash: ghash,
                },
            )]),
            links: vec![link.clone()],
            linked_guardians: HashMap::from([(guardian.id, guardian)]),
            form_authors: HashSet::new(),
        };
        let mut again = Planner::new(DistrictSettings::default(), Utc::now());
        assert!(again.plan_batch(&first, &state).is_empty());
    }
}
