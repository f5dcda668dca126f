//! Reconciling one student's SIS relationships with the links we already hold (seed 001
//! "Parent Student Connection").
//!
//! > **Guardians is in SchoolEngage only** — "SchoolEngage is considered the source of
//! > truth. As a result, the guardian(s) will always have access to the student".
//! >
//! > **Guardians is in PowerSchool only** — "the system will search for users linked to
//! > the student who have created forms. If a matching user is found, the system updates
//! > the student-guardian relationship record … If no matching user is found, a new record
//! > is created."
//! >
//! > **Parent is in SE and PS but not linked to the student** — "as long as the guardian has
//! > created the form on behalf of the student, the guardian will retain a connection to
//! > the student. However, the guardian's account will be marked as 'Incomplete'".
//! >
//! > **Existing relationship** — "If both the parent and student are connected to
//! > PowerSchool, they will sync as normal."
//!
//! Our readings: a link made in our product (`local`) is never dropped, re-tiered or taken
//! over by the SIS — when the SIS lists the same guardian too, the link stays local with
//! its access and the decision records what the SIS would have given. A "matching user"
//! is a guardian linked to the student with no SIS account of its own whose e-mail is the
//! SIS account's. Only links of SIS origin are ever removed, and only when the SIS no
//! longer lists them (the engine removes nothing from an incomplete pull).

use std::collections::{BTreeSet, HashSet};

use model::ids::{GuardianId, SourceId};
use model::link::{AccessTier, Decision, LinkOrigin, RuleId};
use model::source::GuardianAccount;

use crate::email::same_email;
use crate::rules::Verdict;

pub const LOCAL_ONLY: &str = "reconcile.local_only";
pub const LOCAL_ALSO_IN_SIS: &str = "reconcile.local_also_in_sis";
pub const BOTH_SIDES: &str = "reconcile.both_sides";
pub const SIS_RETIERED: &str = "reconcile.sis_retiered";
pub const SIS_ONLY_FORM_AUTHOR: &str = "reconcile.sis_only_matched_form_author";
pub const SIS_ONLY_CREATED: &str = "reconcile.sis_only_created";
pub const FORM_REPLACED_BY_SIS: &str = "reconcile.form_link_now_in_sis";
pub const FORM_KEPT_INCOMPLETE: &str = "reconcile.form_kept_incomplete";
pub const FORM_KEPT: &str = "reconcile.form_kept";
pub const SIS_REMOVED: &str = "reconcile.sis_removed";
pub const IMPORT_KEPT: &str = "reconcile.import_kept";

/// A link we hold for the student, with what we know of its guardian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLink {
    pub guardian: GuardianId,
    /// The guardian's SIS account, if it has one.
    pub guardian_source_id: Option<SourceId>,
    pub guardian_email: String,
    pub origin: LinkOrigin,
    pub tier: AccessTier,
    /// The rule that decided the link last time.
    pub rule: RuleId,
}

/// One of our guardian accounts that holds a SIS account id (found by the engine by the
/// SIS accounts' ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGuardian {
    pub id: GuardianId,
    pub source_id: SourceId,
}

/// A SIS relationship of the student with the rules' verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SisRelationship {
    pub account: GuardianAccount,
    pub verdict: Verdict,
}

/// The guardian a link outcome is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardianRef {
    /// An account we hold.
    Existing(GuardianId),
    /// A SIS account we do not hold yet: the engine creates it.
    New(SourceId),
}

/// What happens to one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    Unchanged,
    Created,
    Updated {
        from_origin: LinkOrigin,
        from_tier: AccessTier,
    },
    Removed,
}

/// The outcome for one student–guardian link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOutcome {
    pub guardian: GuardianRef,
    pub change: LinkChange,
    /// The origin and tier after reconciliation (for `Removed`, as they were).
    pub origin: LinkOrigin,
    pub tier: AccessTier,
    pub decision: Decision,
}

/// Everything reconciliation decides for one student.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciled {
    pub links: Vec<LinkOutcome>,
    /// Guardian accounts to mark `incomplete`, with why.
    pub incomplete: Vec<(GuardianId, Decision)>,
    /// Guardian accounts to connect to a SIS account (a matched form author).
    pub connect: Vec<(GuardianId, SourceId)>,
}

/// Reconciles `sis` (the student's SIS relationships and their verdicts) with `held` (the
/// links we hold), given who authored forms for the student and which of our guardians
/// hold which SIS accounts.
pub fn reconcile(
    held: &[HeldLink],
    sis: &[SisRelationship],
    form_authors: &BTreeSet<GuardianId>,
    known: &[KnownGuardian],
) -> Reconciled {
    let mut out = Reconciled::default();
    let mut consumed: HashSet<GuardianId> = HashSet::new();
    let mut linked: HashSet<GuardianRef> = HashSet::new();

    for rel in sis {
        let Verdict::Link { tier, decision } = &rel.verdict else {
            continue;
        };
        let account = &rel.account;
        let by_account = held.iter().find(|h| {
            h.guardian_source_id.as_ref() == Some(&account.source_id)
                && !consumed.contains(&h.guardian)
        });
        let outcome = if let Some(h) = by_account {
            consumed.insert(h.guardian);
            both_sides(h, *tier, decision)
        } else if let Some(h) = held.iter().find(|h| {
            !consumed.contains(&h.guardian)
                && h.guardian_source_id.is_none()
                && same_email(&h.guardian_email, &account.email)
        }) {
            consumed.insert(h.guardian);
            matched_by_email(h, account, *tier, decision, form_authors, &mut out)
        } else {
            let guardian = known
                .iter()
                .find(|k| k.source_id == account.source_id)
                .map_or_else(
                    || GuardianRef::New(account.source_id.clone()),
                    |k| GuardianRef::Existing(k.id),
                );
            LinkOutcome {
                guardian,
                change: LinkChange::Created,
                origin: LinkOrigin::Sis,
                tier: *tier,
                decision: decision.clone().fact("reconciliation", SIS_ONLY_CREATED),
            }
        };
        if linked.insert(outcome.guardian.clone()) {
            out.links.push(outcome);
        }
    }

    for h in held.iter().filter(|h| !consumed.contains(&h.guardian)) {
        let base = Decision::new("")
            .fact("guardian", h.guardian)
            .fact("previous_rule", h.rule.as_str());
        let keep = |rule: &str| LinkOutcome {
            guardian: GuardianRef::Existing(h.guardian),
            change: LinkChange::Unchanged,
            origin: h.origin,
            tier: h.tier,
            decision: Decision {
                rule: RuleId::new(rule),
                ..base.clone()
            },
        };
        let authored = form_authors.contains(&h.guardian);
        let on_both_sides = h.guardian_source_id.is_some();
        let outcome = match h.origin {
            LinkOrigin::Local => keep(LOCAL_ONLY),
            LinkOrigin::Import => keep(IMPORT_KEPT),
            LinkOrigin::Form if on_both_sides => {
                let o = keep(FORM_KEPT_INCOMPLETE);
                out.incomplete.push((h.guardian, o.decision.clone()));
                o
            }
            LinkOrigin::Form => keep(FORM_KEPT),
            LinkOrigin::Sis if authored => {
                let why = sis_reason(h, sis);
                let decision = Decision {
                    rule: RuleId::new(FORM_KEPT_INCOMPLETE),
                    ..base.clone()
                }
                .fact("sis", why);
                out.incomplete.push((h.guardian, decision.clone()));
                LinkOutcome {
                    guardian: GuardianRef::Existing(h.guardian),
                    change: LinkChange::Updated {
                        from_origin: h.origin,
                        from_tier: h.tier,
                    },
                    origin: LinkOrigin::Form,
                    tier: h.tier,
                    decision,
                }
            }
            LinkOrigin::Sis => {
                let decision = match sis_verdict(h, sis) {
                    Some(d) => d.clone().fact("reconciliation", SIS_REMOVED),
                    None => Decision {
                        rule: RuleId::new(SIS_REMOVED),
                        ..base.clone()
                    }
                    .fact("sis", "the SIS no longer lists the relationship"),
                };
                LinkOutcome {
                    guardian: GuardianRef::Existing(h.guardian),
                    change: LinkChange::Removed,
                    origin: h.origin,
                    tier: h.tier,
                    decision,
                }
            }
        };
        out.links.push(outcome);
    }
    out
}

/// A held link whose guardian holds the SIS account.
fn both_sides(h: &HeldLink, tier: AccessTier, decision: &Decision) -> LinkOutcome {
    let guardian = GuardianRef::Existing(h.guardian);
    match h.origin {
        LinkOrigin::Local => LinkOutcome {
            guardian,
            change: LinkChange::Unchanged,
            origin: LinkOrigin::Local,
            tier: h.tier,
            decision: Decision::new(LOCAL_ALSO_IN_SIS)
                .fact("guardian", h.guardian)
                .fact("sis_tier", tier.as_str())
                .fact("sis_rule", decision.rule.as_str()),
        },
        // A file's guardian never holds a SIS account (its id is the file's).
        LinkOrigin::Import => LinkOutcome {
            guardian,
            change: LinkChange::Unchanged,
            origin: LinkOrigin::Import,
            tier: h.tier,
            decision: Decision::new(IMPORT_KEPT).fact("guardian", h.guardian),
        },
        LinkOrigin::Sis if h.tier == tier && h.rule == decision.rule => LinkOutcome {
            guardian,
            change: LinkChange::Unchanged,
            origin: LinkOrigin::Sis,
            tier,
            decision: decision.clone().fact("reconciliation", BOTH_SIDES),
        },
        LinkOrigin::Sis => LinkOutcome {
            guardian,
            change: LinkChange::Updated {
                from_origin: h.origin,
                from_tier: h.tier,
            },
            origin: LinkOrigin::Sis,
            tier,
            decision: decision.clone().fact("reconciliation", SIS_RETIERED),
        },
        LinkOrigin::Form => LinkOutcome {
            guardian,
            change: LinkChange::Updated {
                from_origin: h.origin,
                from_tier: h.tier,
            },
            origin: LinkOrigin::Sis,
            tier,
            decision: decision
                .clone()
                .fact("reconciliation", FORM_REPLACED_BY_SIS),
        },
    }
}

/// A held link of a guardian without a SIS account whose e-mail is the SIS account's.
fn matched_by_email(
    h: &HeldLink,
    account: &GuardianAccount,
    tier: AccessTier,
    decision: &Decision,
    form_authors: &BTreeSet<GuardianId>,
    out: &mut Reconciled,
) -> LinkOutcome {
    let guardian = GuardianRef::Existing(h.guardian);
    if matches!(h.origin, LinkOrigin::Local | LinkOrigin::Import) {
        return LinkOutcome {
            guardian,
            change: LinkChange::Unchanged,
            origin: LinkOrigin::Local,
            tier: h.tier,
            decision: Decision::new(LOCAL_ALSO_IN_SIS)
                .fact("guardian", h.guardian)
                .fact("sis_account", account.source_id.as_str())
                .fact("sis_tier", tier.as_str())
                .fact("sis_rule", decision.rule.as_str()),
        };
    }
    let rule = if form_authors.contains(&h.guardian) {
        SIS_ONLY_FORM_AUTHOR
    } else {
        FORM_REPLACED_BY_SIS
    };
    out.connect.push((h.guardian, account.source_id.clone()));
    LinkOutcome {
        guardian,
        change: LinkChange::Updated {
            from_origin: h.origin,
            from_tier: h.tier,
        },
        origin: LinkOrigin::Sis,
        tier,
        decision: decision.clone().fact("reconciliation", rule),
    }
}

/// The rules' verdict on a held link's guardian, when the SIS still lists its account.
fn sis_verdict<'a>(h: &HeldLink, sis: &'a [SisRelationship]) -> Option<&'a Decision> {
    let id = h.guardian_source_id.as_ref()?;
    sis.iter()
        .find(|r| &r.account.source_id == id)
        .map(|r| r.verdict.decision())
}

fn sis_reason(h: &HeldLink, sis: &[SisRelationship]) -> String {
    match sis_verdict(h, sis) {
        Some(d) => format!("the SIS relationship no longer counts ({})", d.rule),
        None => "the SIS no longer lists the relationship".to_owned(),
    }
}
