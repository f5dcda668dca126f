//! Clever's and OneRoster's link rules (SPEC §2b), a named case each, and the rule set
//! each source's connector names.

mod common;

use std::collections::BTreeSet;

use common::{account, contact, student};
use model::district::{DistrictSettings, Selection};
use model::link::{AccessTier, LinkRuleSet};
use model::roster::{ContactType, Relationship};
use policy::rules_for;
use policy::Verdict;
use rostersync_policy as policy;

fn tier_and_rule(v: &Verdict) -> (Option<AccessTier>, String) {
    (v.tier(), v.decision().rule.to_string())
}

/// A Clever contact user (id `c7`) related to student 4101 as a Guardian.
fn clever_contact() -> model::roster::Contact {
    model::roster::Contact {
        contact_type: ContactType::Guardian,
        relationship: Relationship::Guardian,
        ..contact("4101", "c7", &["pat@mail.example"], None)
    }
}

#[test]
fn clever_links_a_listed_contact_of_a_selected_type_with_full_access() {
    let rules = rules_for(LinkRuleSet::Clever);
    let v = rules.evaluate(
        &student("4101"),
        &[clever_contact()],
        &account("c7", "", "pat@mail.example", &["4101"]),
        &DistrictSettings::default(),
    );
    assert_eq!(
        tier_and_rule(&v),
        (Some(AccessTier::Full), "clever.link.full".into())
    );
    let words = policy::explain(v.decision());
    assert!(words.contains("Clever lists contact c7"), "{words}");
}

#[test]
fn clever_does_not_link_a_contact_the_student_relationships_do_not_list() {
    let rules = rules_for(LinkRuleSet::Clever);
    // Related to another student only: no relationship record for this one.
    let v = rules.evaluate(
        &student("4101"),
        &[clever_contact()],
        &account("c7", "", "pat@mail.example", &["4102"]),
        &DistrictSettings::default(),
    );
    assert_eq!(tier_and_rule(&v), (None, "clever.not_listed".into()));
    // Listed for the student, but no relationship record of its own.
    let v = rules.evaluate(
        &student("4101"),
        &[],
        &account("c7", "", "pat@mail.example", &["4101"]),
        &DistrictSettings::default(),
    );
    assert_eq!(tier_and_rule(&v), (None, "clever.not_listed".into()));
}

#[test]
fn clever_filters_contact_types_and_relationships_by_the_district_settings() {
    let rules = rules_for(LinkRuleSet::Clever);
    let settings = DistrictSettings {
        contact_types: Selection::Only(BTreeSet::from([ContactType::Parent])),
        ..DistrictSettings::default()
    };
    let v = rules.evaluate(
        &student("4101"),
        &[clever_contact()],
        &account("c7", "", "pat@mail.example", &["4101"]),
        &settings,
    );
    assert_eq!(
        tier_and_rule(&v),
        (None, "settings.contact_not_synced".into())
    );
}

#[test]
fn oneroster_links_users_tied_by_agents_of_a_selected_role() {
    let rules = rules_for(LinkRuleSet::OneRoster);
    let parent = model::roster::Contact {
        relationship: Relationship::Parent,
        ..contact("s1", "g9", &["lee@mail.example"], None)
    };
    let v = rules.evaluate(
        &student("s1"),
        std::slice::from_ref(&parent),
        &account("g9", "", "lee@mail.example", &["s1"]),
        &DistrictSettings::default(),
    );
    assert_eq!(
        tier_and_rule(&v),
        (Some(AccessTier::Full), "oneroster.link.full".into())
    );
    assert!(policy::explain(v.decision()).contains("OneRoster agents tie user g9"));

    let v = rules.evaluate(
        &student("s1"),
        &[],
        &account("g9", "", "lee@mail.example", &["s2"]),
        &DistrictSettings::default(),
    );
    assert_eq!(tier_and_rule(&v), (None, "oneroster.no_agent".into()));

    let relatives_only = DistrictSettings {
        contact_relationships: Selection::Only(BTreeSet::from([Relationship::Relative])),
        ..DistrictSettings::default()
    };
    let v = rules.evaluate(
        &student("s1"),
        &[parent],
        &account("g9", "", "lee@mail.example", &["s1"]),
        &relatives_only,
    );
    assert_eq!(
        tier_and_rule(&v),
        (None, "settings.contact_not_synced".into())
    );
}

#[test]
fn powerschool_keeps_seed_001_rules_under_its_own_ids() {
    let rules = rules_for(LinkRuleSet::PowerSchool);
    let v = rules.evaluate(
        &student("4101"),
        &[contact("4101", "501", &["pat@mail.example"], Some(true))],
        &account("700", "501", "pat@mail.example", &["4101"]),
        &DistrictSettings::default(),
    );
    assert_eq!(
        tier_and_rule(&v),
        (Some(AccessTier::Full), "ps.link.full".into())
    );
    // The same relationship under Clever's rules is judged in Clever's terms: there is no
    // contact record for account 700 itself.
    let v = rules_for(LinkRuleSet::Clever).evaluate(
        &student("4101"),
        &[contact("4101", "501", &["pat@mail.example"], Some(true))],
        &account("700", "501", "pat@mail.example", &["4101"]),
        &DistrictSettings::default(),
    );
    assert_eq!(tier_and_rule(&v), (None, "clever.not_listed".into()));
}
