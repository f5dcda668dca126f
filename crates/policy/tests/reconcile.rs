//! Seed 001's reconciliation cases, each asserting the exact outcome and rule id.

mod common;

use std::collections::BTreeSet;

use common::account;
use model::ids::{GuardianId, SourceId};
use model::link::{AccessTier, Decision, LinkOrigin, RuleId};
use rostersync_policy::reconcile::{
    self as r, GuardianRef, HeldLink, KnownGuardian, LinkChange, SisRelationship,
};
use rostersync_policy::{explain, reconcile, Verdict};

const PAT: &str = "pat@family.example";

fn held(
    guardian: GuardianId,
    source: Option<&str>,
    email: &str,
    origin: LinkOrigin,
    tier: AccessTier,
) -> HeldLink {
    HeldLink {
        guardian,
        guardian_source_id: source.map(SourceId::new),
        guardian_email: email.into(),
        origin,
        tier,
        rule: RuleId::new(match origin {
            LinkOrigin::Sis => "ps.link.full",
            LinkOrigin::Local => "local",
            LinkOrigin::Form => r::FORM_KEPT,
            LinkOrigin::Import => "guardians_csv.link.full",
        }),
    }
}

fn linked(id: &str, email: &str, tier: AccessTier, rule: &str) -> SisRelationship {
    SisRelationship {
        account: account(id, "501", email, &["100"]),
        verdict: Verdict::Link {
            tier,
            decision: Decision::new(rule).fact("account", id),
        },
    }
}

fn ignored(id: &str, email: &str, rule: &str) -> SisRelationship {
    SisRelationship {
        account: account(id, "501", email, &["100"]),
        verdict: Verdict::Ignore(Decision::new(rule).fact("account", id)),
    }
}

fn reconciliation_fact(o: &r::LinkOutcome) -> &str {
    o.decision
        .facts
        .get("reconciliation")
        .map_or("", String::as_str)
}

#[test]
fn a_link_in_our_product_only_is_kept_with_its_access() {
    let g = GuardianId::new();
    let out = reconcile(
        &[held(g, None, PAT, LinkOrigin::Local, AccessTier::Full)],
        &[],
        &BTreeSet::new(),
        &[],
    );
    assert_eq!(out.links.len(), 1);
    let o = &out.links[0];
    assert_eq!(
        (o.change.clone(), o.origin, o.tier),
        (LinkChange::Unchanged, LinkOrigin::Local, AccessTier::Full)
    );
    assert_eq!(o.decision.rule.as_str(), r::LOCAL_ONLY);
    assert!(explain(&o.decision).contains("source of truth"));
}

#[test]
fn a_link_from_guardians_csv_is_kept_by_a_sis_that_does_not_list_it() {
    let g = GuardianId::new();
    let out = reconcile(
        &[held(
            g,
            Some("csv:pat@example.net"),
            PAT,
            LinkOrigin::Import,
            AccessTier::Full,
        )],
        &[],
        &BTreeSet::new(),
        &[],
    );
    let o = &out.links[0];
    assert_eq!(
        (o.change.clone(), o.origin, o.tier),
        (LinkChange::Unchanged, LinkOrigin::Import, AccessTier::Full)
    );
    assert_eq!(o.decision.rule.as_str(), r::IMPORT_KEPT);
    assert!(explain(&o.decision).contains("guardians.csv"));
}

#[test]
fn a_local_link_for_a_guardian_the_sis_also_lists_stays_local() {
    let g = GuardianId::new();
    let held = [held(
        g,
        Some("700"),
        PAT,
        LinkOrigin::Local,
        AccessTier::Full,
    )];
    let sis = [linked(
        "700",
        PAT,
        AccessTier::Restricted,
        "ps.rule4.not_decision_making",
    )];
    let out = reconcile(&held, &sis, &BTreeSet::new(), &[]);
    assert_eq!(
        out.links.len(),
        1,
        "one link, not a second one from the SIS"
    );
    let o = &out.links[0];
    assert_eq!(
        (o.change.clone(), o.origin, o.tier),
        (LinkChange::Unchanged, LinkOrigin::Local, AccessTier::Full)
    );
    assert_eq!(o.decision.rule.as_str(), r::LOCAL_ALSO_IN_SIS);
    assert_eq!(o.decision.facts["sis_tier"], "restricted");
    // Matched by e-mail when our guardian holds no SIS account.
    let held_by_email = [self::held(
        g,
        None,
        " PAT@family.example",
        LinkOrigin::Local,
        AccessTier::ReadOnly,
    )];
    let out = reconcile(&held_by_email, &sis, &BTreeSet::new(), &[]);
    assert_eq!(out.links.len(), 1);
    assert_eq!(
        (out.links[0].origin, out.links[0].tier),
        (LinkOrigin::Local, AccessTier::ReadOnly)
    );
}

#[test]
fn in_the_sis_only_with_a_matching_form_author_updates_that_link() {
    let g = GuardianId::new();
    let held = [held(g, None, PAT, LinkOrigin::Form, AccessTier::Full)];
    let sis = [linked("700", PAT, AccessTier::Full, "ps.link.full")];
    let out = reconcile(&held, &sis, &BTreeSet::from([g]), &[]);
    assert_eq!(out.links.len(), 1);
    let o = &out.links[0];
    assert_eq!(o.guardian, GuardianRef::Existing(g));
    assert_eq!(
        o.change,
        LinkChange::Updated {
            from_origin: LinkOrigin::Form,
            from_tier: AccessTier::Full
        }
    );
    assert_eq!(o.origin, LinkOrigin::Sis);
    assert_eq!(reconciliation_fact(o), r::SIS_ONLY_FORM_AUTHOR);
    assert_eq!(out.connect, vec![(g, SourceId::new("700"))]);
}

#[test]
fn in_the_sis_only_without_a_match_creates_the_link_and_account() {
    let sis = [linked(
        "700",
        PAT,
        AccessTier::Restricted,
        "ps.rule4.not_decision_making",
    )];
    let out = reconcile(&[], &sis, &BTreeSet::new(), &[]);
    let o = &out.links[0];
    assert_eq!(o.guardian, GuardianRef::New(SourceId::new("700")));
    assert_eq!(
        (o.change.clone(), o.origin, o.tier),
        (LinkChange::Created, LinkOrigin::Sis, AccessTier::Restricted)
    );
    assert_eq!(o.decision.rule.as_str(), "ps.rule4.not_decision_making");
    assert_eq!(reconciliation_fact(o), r::SIS_ONLY_CREATED);
    // An account we already hold (linked to a sibling) is reused, not duplicated.
    let g = GuardianId::new();
    let out = reconcile(
        &[],
        &sis,
        &BTreeSet::new(),
        &[KnownGuardian {
            id: g,
            source_id: SourceId::new("700"),
        }],
    );
    assert_eq!(out.links[0].guardian, GuardianRef::Existing(g));
}

#[test]
fn on_both_sides_the_link_syncs_as_normal() {
    let g = GuardianId::new();
    let same = [held(g, Some("700"), PAT, LinkOrigin::Sis, AccessTier::Full)];
    let out = reconcile(
        &same,
        &[linked("700", PAT, AccessTier::Full, "ps.link.full")],
        &BTreeSet::new(),
        &[],
    );
    assert_eq!(out.links[0].change, LinkChange::Unchanged);
    assert_eq!(reconciliation_fact(&out.links[0]), r::BOTH_SIDES);
    let out = reconcile(
        &same,
        &[linked(
            "700",
            PAT,
            AccessTier::ReadOnly,
            "ps.rule5.release_of_information",
        )],
        &BTreeSet::new(),
        &[],
    );
    let o = &out.links[0];
    assert_eq!(
        o.change,
        LinkChange::Updated {
            from_origin: LinkOrigin::Sis,
            from_tier: AccessTier::Full
        }
    );
    assert_eq!(
        (o.tier, o.decision.rule.as_str()),
        (AccessTier::ReadOnly, "ps.rule5.release_of_information")
    );
    assert_eq!(reconciliation_fact(o), r::SIS_RETIERED);
}

#[test]
fn a_form_kept_link_that_the_sis_now_lists_becomes_a_sis_link() {
    let g = GuardianId::new();
    let held = [held(
        g,
        Some("700"),
        PAT,
        LinkOrigin::Form,
        AccessTier::Full,
    )];
    let out = reconcile(
        &held,
        &[linked(
            "700",
            PAT,
            AccessTier::Restricted,
            "ps.rule4.not_decision_making",
        )],
        &BTreeSet::from([g]),
        &[],
    );
    let o = &out.links[0];
    assert_eq!(
        (o.origin, o.tier),
        (LinkOrigin::Sis, AccessTier::Restricted)
    );
    assert_eq!(reconciliation_fact(o), r::FORM_REPLACED_BY_SIS);
    assert!(out.incomplete.is_empty());
}

#[test]
fn a_sis_link_the_sis_dropped_is_removed() {
    let g = GuardianId::new();
    let held = [held(g, Some("700"), PAT, LinkOrigin::Sis, AccessTier::Full)];
    let out = reconcile(&held, &[], &BTreeSet::new(), &[]);
    assert_eq!(out.links[0].change, LinkChange::Removed);
    assert_eq!(out.links[0].decision.rule.as_str(), r::SIS_REMOVED);
    // Listed but no longer counting: the rule that failed is the reason.
    let out = reconcile(
        &held,
        &[ignored("700", PAT, "ps.rule3.no_matching_contact")],
        &BTreeSet::new(),
        &[],
    );
    assert_eq!(out.links[0].change, LinkChange::Removed);
    assert_eq!(
        out.links[0].decision.rule.as_str(),
        "ps.rule3.no_matching_contact"
    );
    assert_eq!(reconciliation_fact(&out.links[0]), r::SIS_REMOVED);
}

#[test]
fn a_guardian_on_both_sides_not_linked_in_the_sis_keeps_the_link_through_a_form() {
    let g = GuardianId::new();
    // The SIS link went away, but the guardian created a form for the student.
    let held_sis = [held(g, Some("700"), PAT, LinkOrigin::Sis, AccessTier::Full)];
    let out = reconcile(&held_sis, &[], &BTreeSet::from([g]), &[]);
    let o = &out.links[0];
    assert_eq!(
        o.change,
        LinkChange::Updated {
            from_origin: LinkOrigin::Sis,
            from_tier: AccessTier::Full
        }
    );
    assert_eq!((o.origin, o.tier), (LinkOrigin::Form, AccessTier::Full));
    assert_eq!(o.decision.rule.as_str(), r::FORM_KEPT_INCOMPLETE);
    assert_eq!(out.incomplete.len(), 1);
    assert_eq!(out.incomplete[0].0, g);
    // A link a form made for a guardian who has a SIS account but is not linked there.
    let held_form = [held(
        g,
        Some("700"),
        PAT,
        LinkOrigin::Form,
        AccessTier::Full,
    )];
    let out = reconcile(&held_form, &[], &BTreeSet::from([g]), &[]);
    assert_eq!(out.links[0].change, LinkChange::Unchanged);
    assert_eq!(out.links[0].decision.rule.as_str(), r::FORM_KEPT_INCOMPLETE);
    assert_eq!(out.incomplete.len(), 1);
    assert!(explain(&out.links[0].decision).contains("incomplete"));
}

#[test]
fn a_form_link_of_a_guardian_with_no_sis_account_is_kept_as_it_is() {
    let g = GuardianId::new();
    let out = reconcile(
        &[held(g, None, PAT, LinkOrigin::Form, AccessTier::ReadOnly)],
        &[],
        &BTreeSet::from([g]),
        &[],
    );
    assert_eq!(out.links[0].change, LinkChange::Unchanged);
    assert_eq!(out.links[0].decision.rule.as_str(), r::FORM_KEPT);
    assert!(out.incomplete.is_empty());
}

#[test]
fn ignored_sis_relationships_create_nothing() {
    let out = reconcile(
        &[],
        &[ignored("700", PAT, "ps.rule1.web_access_account")],
        &BTreeSet::new(),
        &[],
    );
    assert!(out.links.is_empty());
}
