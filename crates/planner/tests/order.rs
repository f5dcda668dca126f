//! The order a source sends records in never changes the plan: not within a page, not
//! across pages of any size.

extern crate rostersync_planner as planner;

mod common;

use common::*;
use model::link::{AccessTier, LinkOrigin};
use model::roster::AccountStatus;
use model::staging::StagedRecord;
use proptest::prelude::*;

/// One student of a generated district: what the source says and what we hold.
#[derive(Debug, Clone)]
struct Facts {
    /// 0: not listed, 1: listed as held, 2: listed with another grade.
    listed: u8,
    held: bool,
    held_archived: bool,
    /// The student's contact is decision-making (else restricted, or no contact at all).
    contact: Option<bool>,
    /// The account's id: a few students share one guardian.
    guardian: u8,
    account_listed: bool,
    guardian_held: bool,
    link_held: Option<LinkOrigin>,
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(any::<bool>()),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            LinkOrigin::Sis,
            LinkOrigin::Local,
            LinkOrigin::Form,
            LinkOrigin::Import,
        ])),
    )
        .prop_map(
            |(
                listed,
                held,
                held_archived,
                contact,
                guardian,
                account_listed,
                guardian_held,
                link_held,
            )| Facts {
                listed,
                held,
                held_archived,
                contact,
                guardian,
                account_listed,
                guardian_held,
                link_held,
            },
        )
}

fn world(students: &[Facts]) -> World {
    let mut w = World::default();
    for (i, f) in students.iter().enumerate() {
        let id = format!("{}", 100 + i);
        let email = format!("g{}@family.example", f.guardian);
        let account_id = format!("7{}", f.guardian);
        let person = format!("5{}", f.guardian);
        let mut src = student(&id);
        if f.listed == 2 {
            src.grade = "8".into();
        }
        if f.listed > 0 {
            w.pull.students.push(src);
            if let Some(decision) = f.contact {
                w.pull
                    .contacts
                    .push(contact(&id, &person, &email, Some(decision)));
            }
        }
        if f.held {
            let mut held = held_student(&student(&id));
            held.value.archived = f.held_archived;
            w.held.students.push(held);
        }
        let related: Vec<String> = students
            .iter()
            .enumerate()
            .filter(|(_, o)| o.guardian == f.guardian && o.listed > 0 && o.account_listed)
            .map(|(j, _)| format!("{}", 100 + j))
            .collect();
        let related: Vec<&str> = related.iter().map(String::as_str).collect();
        let a = account(&account_id, &person, &email, &related);
        if f.account_listed && !w.pull.accounts.iter().any(|x| x.source_id == a.source_id) {
            w.pull.accounts.push(a.clone());
        }
        if f.guardian_held
            && !w
                .held
                .guardians
                .iter()
                .any(|g| g.value.source_id.as_ref() == Some(&a.source_id))
        {
            w.held
                .guardians
                .push(held_guardian(&a, AccountStatus::Active));
        }
        if let (Some(origin), true, true) = (f.link_held, f.held, f.guardian_held) {
            w.held
                .links
                .push(link(&id, gid(&account_id), origin, AccessTier::Full));
        }
    }
    w
}

/// A shuffle of a page's records by a seed.
fn shuffled(seed: u64) -> impl Fn(Vec<StagedRecord>) -> Vec<StagedRecord> {
    move |mut records| {
        records.sort_by_key(|r| planner::content_hash(&(seed, &r.key)));
        records
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_order_of_records_within_and_across_pages_never_changes_the_plan(
        students in prop::collection::vec(facts(), 1..9),
        page in 1usize..6,
        seed in any::<u64>(),
    ) {
        let w = world(&students);
        let whole = w.plan(500);
        let paged = w.plan(page);
        prop_assert_eq!(lines(&w, &whole), lines(&w, &paged));
        let reordered = w.plan_with(page, shuffled(seed));
        prop_assert_eq!(lines(&w, &whole), lines(&w, &reordered));
        prop_assert_eq!(&whole.warnings, &reordered.warnings);
    }
}
