//! Seed 001's link rules, one named case per rule and per tricky combination, each
//! asserting the exact tier (or that the relationship is ignored) and the rule id.

mod common;

use std::collections::BTreeSet;

use common::{account, contact, independent, student};
use model::district::{DistrictSettings, Selection};
use model::link::AccessTier;
use model::roster::{Contact, ContactType, Relationship};
use model::source::{GuardianAccount, SourceStudent};
use rostersync_policy::{evaluate, explain, Verdict};

struct Case {
    name: &'static str,
    student: SourceStudent,
    contacts: Vec<Contact>,
    account: GuardianAccount,
    settings: DistrictSettings,
    tier: Option<AccessTier>,
    rule: &'static str,
}

fn case(
    name: &'static str,
    student: SourceStudent,
    contacts: Vec<Contact>,
    account: GuardianAccount,
) -> Case {
    Case {
        name,
        student,
        contacts,
        account,
        settings: DistrictSettings::default(),
        tier: None,
        rule: "",
    }
}

impl Case {
    fn expect(mut self, tier: Option<AccessTier>, rule: &'static str) -> Case {
        self.tier = tier;
        self.rule = rule;
        self
    }

    fn settings(mut self, f: impl FnOnce(&mut DistrictSettings)) -> Case {
        f(&mut self.settings);
        self
    }
}

const PAT: &str = "pat@family.example";

fn cases() -> Vec<Case> {
    use AccessTier::*;
    let s = || student("100");
    let pat = |decision| contact("100", "501", &[PAT], decision);
    let pat_account = || account("700", "501", PAT, &["100"]);
    vec![
        case(
            "every rule holds: full access",
            s(),
            vec![pat(Some(true))],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 1: the login is the student's web access id",
            s(),
            vec![pat(Some(true))],
            {
                let mut a = pat_account();
                a.username = "WEB100".into();
                a
            },
        )
        .expect(None, "ps.rule1.web_access_account"),
        case(
            "rule 1: no contact person behind the account",
            s(),
            vec![pat(Some(true))],
            account("700", "", PAT, &["100"]),
        )
        .expect(None, "ps.rule1.web_access_account"),
        case(
            "rule 2: the query does not list the account for this student",
            s(),
            vec![pat(Some(true))],
            account("700", "501", PAT, &["101"]),
        )
        .expect(None, "ps.rule2.not_in_student_guardian_detail"),
        case(
            "rule 3: no contact shares the account's e-mail",
            s(),
            vec![contact("100", "501", &["other@family.example"], Some(true))],
            pat_account(),
        )
        .expect(None, "ps.rule3.no_matching_contact"),
        case(
            "rule 3: an empty account e-mail matches no empty contact e-mail",
            s(),
            vec![contact("100", "501", &[""], Some(true))],
            account("700", "501", "", &["100"]),
        )
        .expect(None, "ps.rule3.no_matching_contact"),
        case(
            "rule 3: e-mails compare trimmed and without case",
            s(),
            vec![contact("100", "501", &[" Pat@Family.Example "], Some(true))],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 3: any of a contact's e-mails counts",
            s(),
            vec![contact(
                "100",
                "501",
                &["work@job.example", PAT],
                Some(true),
            )],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 3: a contact of another student does not count",
            s(),
            vec![contact("101", "501", &[PAT], Some(true))],
            pat_account(),
        )
        .expect(None, "ps.rule3.no_matching_contact"),
        case(
            "rule 4: the matching contact is not decision-making",
            s(),
            vec![pat(Some(false))],
            pat_account(),
        )
        .expect(Some(Restricted), "ps.rule4.not_decision_making"),
        case(
            "rule 4: two contacts share the e-mail, only one decision-making",
            s(),
            vec![pat(Some(true)), contact("100", "502", &[PAT], Some(false))],
            pat_account(),
        )
        .expect(Some(Restricted), "ps.rule4.not_decision_making"),
        case(
            "rule 4: two contacts share the e-mail, both decision-making",
            s(),
            vec![pat(Some(true)), contact("100", "502", &[PAT], Some(true))],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 4: a non-decision-making contact with another e-mail does not matter",
            s(),
            vec![
                pat(Some(true)),
                contact("100", "502", &["sam@family.example"], Some(false)),
            ],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 4: a source without the flag is not held to it",
            s(),
            vec![pat(None)],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 5: independent student, guardian uses the org e-mail",
            independent("100"),
            vec![contact(
                "100",
                "501",
                &["s100@district.example"],
                Some(true),
            )],
            account("700", "501", "S100@district.example", &["100"]),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 5: independent student whose guardian uses the student's personal e-mail",
            independent("100"),
            vec![contact(
                "100",
                "501",
                &["jamie100@mail.example"],
                Some(true),
            )],
            account("700", "501", "jamie100@mail.example", &["100"]),
        )
        .expect(Some(Full), "ps.link.full"),
        case(
            "rule 5: independent student, parent's own e-mail: release of information",
            independent("100"),
            vec![pat(Some(true))],
            pat_account(),
        )
        .expect(Some(ReadOnly), "ps.rule5.release_of_information"),
        case(
            "rules 4 and 5 both fail: restricted, not read-only",
            independent("100"),
            vec![pat(Some(false))],
            pat_account(),
        )
        .expect(Some(Restricted), "ps.rule4.not_decision_making"),
        case(
            "setting: the sync does not manage guardians",
            s(),
            vec![pat(Some(true))],
            pat_account(),
        )
        .settings(|s| s.manage_guardians = false)
        .expect(None, "settings.guardians_not_managed"),
        case(
            "setting: the contact's type is not synced",
            s(),
            vec![pat(Some(true))],
            pat_account(),
        )
        .settings(|s| s.contact_types = Selection::Only(BTreeSet::from([ContactType::Emergency])))
        .expect(None, "settings.contact_not_synced"),
        case(
            "setting: the contact's relationship is not synced",
            s(),
            vec![pat(Some(true))],
            pat_account(),
        )
        .settings(|s| {
            s.contact_relationships = Selection::Only(BTreeSet::from([Relationship::Father]))
        })
        .expect(None, "settings.contact_not_synced"),
        case(
            "setting: one of two same-e-mail contacts is of a synced relationship",
            s(),
            vec![
                pat(Some(true)),
                Contact {
                    relationship: Relationship::Father,
                    ..contact("100", "502", &[PAT], Some(true))
                },
            ],
            pat_account(),
        )
        .settings(|s| {
            s.contact_relationships = Selection::Only(BTreeSet::from([Relationship::Father]))
        })
        .expect(Some(Full), "ps.link.full"),
        case(
            "an unknown relationship counts when all relationships are synced",
            s(),
            vec![Contact {
                relationship: Relationship::parse("Probation Officer"),
                ..pat(Some(true))
            }],
            pat_account(),
        )
        .expect(Some(Full), "ps.link.full"),
    ]
}

#[test]
fn every_rule_decides_the_exact_tier_and_rule_id() {
    let mut failures = Vec::new();
    for c in cases() {
        let verdict = evaluate(&c.student, &c.contacts, &c.account, &c.settings);
        let rule = verdict.decision().rule.as_str().to_owned();
        if verdict.tier() != c.tier || rule != c.rule {
            failures.push(format!(
                "{}: expected {:?} {}, got {:?} {}",
                c.name,
                c.tier,
                c.rule,
                verdict.tier(),
                rule
            ));
        }
        let words = explain(verdict.decision());
        assert!(
            !words.starts_with("Decided by rule"),
            "{}: no words for {rule}",
            c.name
        );
        assert_eq!(
            verdict.decision().facts.get("student").map(String::as_str),
            Some("100"),
            "{}",
            c.name
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn decisions_carry_the_facts_support_needs() {
    let verdict = evaluate(
        &independent("100"),
        &[contact("100", "501", &[PAT], Some(false))],
        &account("700", "501", PAT, &["100"]),
        &DistrictSettings::default(),
    );
    let Verdict::Link { tier, decision } = verdict else {
        panic!("linked")
    };
    assert_eq!(tier, AccessTier::Restricted);
    assert_eq!(decision.facts["not_decision_making"], "501");
    assert_eq!(decision.facts["account"], "700");
    assert!(decision.facts["rule5"].contains("also fails"));
    let words = explain(&decision);
    assert!(
        words.contains("Restricted (rule 4)") && words.contains("501"),
        "{words}"
    );

    let verdict = evaluate(
        &independent("100"),
        &[contact("100", "501", &[PAT], Some(true))],
        &account("700", "501", PAT, &["100"]),
        &DistrictSettings::default(),
    );
    let words = explain(verdict.decision());
    assert!(
        words.contains("Read-Only")
            && words.contains("s100@district.example")
            && words.contains(PAT),
        "{words}"
    );
}

#[test]
fn a_guardian_linked_to_two_students_gets_a_tier_for_each() {
    let settings = DistrictSettings::default();
    let a = account("700", "501", PAT, &["100", "101"]);
    let first = evaluate(
        &student("100"),
        &[contact("100", "501", &[PAT], Some(true))],
        &a,
        &settings,
    );
    let second = evaluate(
        &independent("101"),
        &[contact("101", "501", &[PAT], Some(true))],
        &a,
        &settings,
    );
    assert_eq!(first.tier(), Some(AccessTier::Full));
    assert_eq!(second.tier(), Some(AccessTier::ReadOnly));
    assert_eq!(
        second.decision().rule.as_str(),
        "ps.rule5.release_of_information"
    );
}
