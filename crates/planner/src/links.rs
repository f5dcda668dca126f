//! Links: one student's SIS relationships through the source's rules, reconciled with the
//! links we hold (seed 001 "Parent Student Connection").

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use model::change::{Entity, Operation};
use model::ids::{GuardianId, StudentId};
use model::link::{Link, LinkOrigin};
use model::roster::{Contact, Guardian};
use model::run::PlanItem;
use model::source::{GuardianAccount, SourceStudent};
use policy::reconcile::{
    GuardianRef, HeldLink, KnownGuardian, LinkChange, LinkOutcome, SisRelationship,
};

use crate::marks::Mark;
use crate::Ctx;
use model::fields::{changes, link_fields};

/// Everything about one student the link rules and reconciliation need.
#[derive(Debug)]
pub struct StudentLinks<'a> {
    pub student: &'a SourceStudent,
    pub student_id: StudentId,
    /// The student's source contacts.
    pub contacts: &'a [Contact],
    /// The SIS accounts related to the student (each listing the student).
    pub accounts: &'a [GuardianAccount],
    /// The links we hold for the student.
    pub held: Vec<&'a Link>,
    /// The guardians of those links.
    pub linked_guardians: &'a HashMap<GuardianId, Guardian>,
    /// Guardians who created a form for the student.
    pub authors: BTreeSet<GuardianId>,
    /// Our guardians holding the accounts' SIS ids.
    pub known: &'a [KnownGuardian],
}

/// The link items of one student, and the notes they leave for the guardian pass.
pub fn plan_student_links(ctx: &Ctx<'_>, s: &StudentLinks<'_>) -> (Vec<PlanItem>, Vec<Mark>) {
    let sis: Vec<SisRelationship> = s
        .accounts
        .iter()
        .map(|a| SisRelationship {
            account: a.clone(),
            verdict: ctx.rules.evaluate(s.student, s.contacts, a, ctx.settings),
        })
        .collect();
    let mut held = held_links_of(&s.held, s.linked_guardians);
    let no_authors = BTreeSet::new();
    let origin = ctx.authority().link_origin();
    let authors = if ctx.authority().owns_roster() {
        &s.authors
    } else {
        // A supplement stands where the SIS would for its own links: they are reconciled
        // as the SIS's are, and only they are in play (forms and local links are the
        // system of record's business, and are not even seen here).
        for h in &mut held {
            h.origin = LinkOrigin::Sis;
        }
        &no_authors
    };
    let mut out = policy::reconcile(&held, &sis, authors, s.known);
    for o in &mut out.links {
        if o.origin == LinkOrigin::Sis {
            o.origin = origin;
        }
    }
    let mut items = Vec::new();
    let mut marks = Vec::new();
    for o in &out.links {
        let guardian_id = match &o.guardian {
            GuardianRef::Existing(id) => *id,
            GuardianRef::New(source) => {
                marks.push(Mark::Need(source.clone()));
                GuardianId::derived(ctx.district, source)
            }
        };
        let held_link = s
            .held
            .iter()
            .find(|l| l.guardian_id == guardian_id)
            .copied();
        let Some(item) = link_item(o, s.student_id, guardian_id, held_link, ctx.now) else {
            continue;
        };
        match (&item, &o.guardian) {
            (
                PlanItem::Link {
                    operation: Operation::Delete,
                    ..
                },
                _,
            ) => marks.push(Mark::Unlink(guardian_id, s.student_id)),
            (
                PlanItem::Link {
                    operation: Operation::Create,
                    ..
                },
                GuardianRef::Existing(_),
            ) => marks.push(Mark::Relink(guardian_id, s.student_id)),
            _ => {}
        }
        items.push(item);
    }
    for (guardian, _) in out.incomplete {
        let already = s
            .linked_guardians
            .get(&guardian)
            .is_some_and(|g| g.status == model::roster::AccountStatus::Incomplete);
        if !already {
            marks.push(Mark::Incomplete(guardian));
        }
    }
    for (guardian, source) in out.connect {
        marks.push(Mark::Connect(source, guardian));
    }
    (items, marks)
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
    matches!(item, PlanItem::Link { operation: Operation::Delete, link, .. } if matches!(link.origin, LinkOrigin::Sis | LinkOrigin::Import))
}
