//! Properties no input may break: the policy never drops or changes a link made in our
//! product, never produces a SIS link the rules forbid or a tier they do not give, never
//! loses track of a held link, and never panics.

mod common;

use std::collections::BTreeSet;

use model::district::{DistrictSettings, Selection};
use model::ids::{GuardianId, SourceId};
use model::link::{AccessTier, LinkOrigin, RuleId};
use model::roster::{Contact, ContactType, Relationship};
use model::source::{GuardianAccount, SourceStudent};
use proptest::prelude::*;
use rostersync_policy::reconcile::{
    GuardianRef, HeldLink, KnownGuardian, LinkChange, SisRelationship,
};
use rostersync_policy::{evaluate, reconcile, Verdict};

const EMAILS: &[&str] = &[
    "a@x.example",
    " A@X.example",
    "b@x.example",
    "c@x.example",
    "",
    "s1@district.example",
];

fn email() -> impl Strategy<Value = String> {
    prop::sample::select(EMAILS).prop_map(str::to_owned)
}

fn student() -> impl Strategy<Value = SourceStudent> {
    (
        any::<bool>(),
        email(),
        email(),
        prop::option::of(Just("w1".to_owned())),
    )
        .prop_map(|(independent, org, personal, web)| SourceStudent {
            independent_student: independent,
            org_email: org,
            personal_email: personal,
            web_id: web.unwrap_or_default(),
            ..common::student("1")
        })
}

fn contact() -> impl Strategy<Value = Contact> {
    (
        prop::sample::select(vec!["1", "2"]),
        prop::sample::select(vec!["p1", "p2", "p3"]),
        prop::collection::vec(email(), 0..3),
        prop::option::of(any::<bool>()),
        prop::sample::select(vec![
            Relationship::Mother,
            Relationship::Father,
            Relationship::parse("Probation Officer"),
        ]),
    )
        .prop_map(
            |(student, person, emails, decision, relationship)| Contact {
                source_id: SourceId::new(person),
                student_source_id: SourceId::new(student),
                first_name: "P".into(),
                last_name: "D".into(),
                emails,
                relationship,
                contact_type: ContactType::Guardian,
                phones: vec![],
                decision_making: decision,
            },
        )
}

fn account() -> impl Strategy<Value = GuardianAccount> {
    (
        prop::sample::select(vec!["g1", "g2", "g3"]),
        email(),
        prop::sample::select(vec!["", "w1", "login"]),
        prop::collection::vec(prop::sample::select(vec!["p1", "p2", "p3"]), 0..2),
        prop::collection::vec(prop::sample::select(vec!["1", "2"]), 0..2),
    )
        .prop_map(|(id, email, username, persons, students)| GuardianAccount {
            phones: Vec::new(),
            source_id: SourceId::new(id),
            first_name: "P".into(),
            last_name: "D".into(),
            username: if username.is_empty() {
                email.clone()
            } else {
                username.to_owned()
            },
            email,
            home_phone: String::new(),
            mobile_phone: String::new(),
            mailing_address: None,
            physical_address: None,
            contact_source_ids: persons.into_iter().map(SourceId::new).collect(),
            student_source_ids: students.into_iter().map(SourceId::new).collect(),
        })
}

fn settings() -> impl Strategy<Value = DistrictSettings> {
    (any::<bool>(), any::<bool>()).prop_map(|(manage, only_mothers)| DistrictSettings {
        manage_guardians: manage,
        contact_relationships: if only_mothers {
            Selection::Only(BTreeSet::from([Relationship::Mother]))
        } else {
            Selection::All
        },
        ..DistrictSettings::default()
    })
}

fn origin() -> impl Strategy<Value = LinkOrigin> {
    prop::sample::select(vec![LinkOrigin::Sis, LinkOrigin::Local, LinkOrigin::Form])
}

fn tier() -> impl Strategy<Value = AccessTier> {
    prop::sample::select(vec![
        AccessTier::Full,
        AccessTier::Restricted,
        AccessTier::ReadOnly,
    ])
}

/// Held links: up to four guardians, each maybe holding one of the SIS accounts.
fn held() -> impl Strategy<Value = Vec<(Option<&'static str>, String, LinkOrigin, AccessTier, bool)>>
{
    prop::collection::vec(
        (
            prop::option::of(prop::sample::select(vec!["g1", "g2", "g3"])),
            email(),
            origin(),
            tier(),
            any::<bool>(),
        ),
        0..4,
    )
}

/// The rules restated independently: the tier a relationship may have, if any.
fn allowed(
    student: &SourceStudent,
    contacts: &[Contact],
    a: &GuardianAccount,
    s: &DistrictSettings,
) -> Option<AccessTier> {
    let same = |x: &str, y: &str| !x.trim().is_empty() && x.trim().eq_ignore_ascii_case(y.trim());
    if !s.manage_guardians
        || (!student.web_id.is_empty() && a.username.eq_ignore_ascii_case(&student.web_id))
        || a.contact_source_ids.is_empty()
        || !a.student_source_ids.contains(&student.source_id)
    {
        return None;
    }
    let matching: Vec<&Contact> = contacts
        .iter()
        .filter(|c| {
            c.student_source_id == student.source_id && c.emails.iter().any(|e| same(e, &a.email))
        })
        .collect();
    if !matching
        .iter()
        .any(|c| s.contact_relationships.includes(&c.relationship))
    {
        return None;
    }
    let rule4 = matching.iter().all(|c| c.decision_making != Some(false));
    let rule5 = !student.independent_student
        || same(&a.email, &student.org_email)
        || same(&a.email, &student.personal_email);
    Some(match (rule4, rule5) {
        (true, true) => AccessTier::Full,
        (true, false) => AccessTier::ReadOnly,
        (false, _) => AccessTier::Restricted,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_policy_keeps_local_links_and_never_links_what_the_rules_forbid(
        student in student(),
        contacts in prop::collection::vec(contact(), 0..5),
        accounts in prop::collection::vec(account(), 0..4),
        settings in settings(),
        held_spec in held(),
    ) {
        // Rules: every verdict agrees with the rules restated.
        let mut sis = Vec::new();
        let mut seen = BTreeSet::new();
        for a in accounts {
            if !seen.insert(a.source_id.clone()) {
                continue;
            }
            let verdict = evaluate(&student, &contacts, &a, &settings);
            prop_assert_eq!(verdict.tier(), allowed(&student, &contacts, &a, &settings), "{:?}", verdict);
            sis.push(SisRelationship { account: a, verdict });
        }
        // Reconciliation.
        let mut authors = BTreeSet::new();
        let mut known = Vec::new();
        let held: Vec<HeldLink> = held_spec
            .into_iter()
            .map(|(source, email, origin, tier, authored)| {
                let g = GuardianId::new();
                if authored {
                    authors.insert(g);
                }
                if let Some(s) = source {
                    known.push(KnownGuardian { id: g, source_id: SourceId::new(s) });
                }
                HeldLink { guardian: g, guardian_source_id: source.map(SourceId::new), guardian_email: email, origin, tier, rule: RuleId::new("earlier") }
            })
            .collect();
        let out = reconcile(&held, &sis, &authors, &known);

        for h in &held {
            let outcomes: Vec<_> = out.links.iter().filter(|o| o.guardian == GuardianRef::Existing(h.guardian)).collect();
            prop_assert!(outcomes.len() <= 1, "one outcome per held guardian");
            if h.origin == LinkOrigin::Local {
                prop_assert_eq!(outcomes.len(), 1, "a local link is never lost");
                let o = outcomes[0];
                prop_assert_eq!(&o.change, &LinkChange::Unchanged);
                prop_assert_eq!((o.origin, o.tier), (LinkOrigin::Local, h.tier));
            }
            if h.origin == LinkOrigin::Form && authors.contains(&h.guardian) {
                prop_assert_eq!(outcomes.len(), 1, "a form-kept link is never lost");
                prop_assert_ne!(&outcomes[0].change, &LinkChange::Removed);
            }
        }
        for o in &out.links {
            if o.change == LinkChange::Removed {
                prop_assert_eq!(o.origin, LinkOrigin::Sis, "only SIS links are removed");
                continue;
            }
            if o.origin == LinkOrigin::Sis {
                // A SIS link stands only on a relationship the rules let through, with its tier.
                let backing = sis.iter().any(|r| matches!(&r.verdict, Verdict::Link { tier, .. } if *tier == o.tier));
                prop_assert!(backing, "SIS link without a verdict: {:?}", o);
            }
        }
    }
}
