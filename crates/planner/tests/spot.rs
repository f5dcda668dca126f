//! Spot sync (seed 000) is the run's planner over a page of one, filtered: the same links
//! as a run for the same student, seed 000's fields only, never a new account.

extern crate rostersync_planner as planner;

mod common;

use std::collections::HashSet;

use common::*;
use model::link::{AccessTier, LinkOrigin};
use model::roster::AccountStatus;
use model::run::PlanItem;
use model::Synced;
use planner::spot::{spot_items, SpotUser};

/// The run's items for the world, and a spot sync's for `who` (a student's source id).
fn run_and_spot(w: &World, who: &str) -> (Vec<PlanItem>, Vec<PlanItem>) {
    let run: Vec<PlanItem> = w.plan(500).items.into_iter().map(|p| p.item).collect();
    let d = district();
    let ctx = w.ctx(&d);
    let held = w
        .held
        .students
        .iter()
        .find(|s| s.value.source_id.as_str() == who)
        .expect("a held student");
    let src = w
        .pull
        .students
        .iter()
        .find(|s| s.source_id.as_str() == who)
        .expect("a listed student");
    // A page of one, as the engine builds it from the connector's snapshot: the held
    // hash left out, so fields are compared.
    let mut page = planner::StudentPage::default();
    page.students.push(planner::staged::student(src));
    page.contacts.extend(
        w.pull
            .contacts
            .iter()
            .filter(|c| c.student_source_id == src.source_id)
            .map(planner::staged::contact),
    );
    for a in &w.pull.accounts {
        let (account, relations) = planner::staged::account(a);
        page.accounts.push(account);
        page.relations.extend(relations);
    }
    page.held_students.insert(
        src.source_id.clone(),
        Synced {
            value: held.value.clone(),
            source_hash: String::new(),
        },
    );
    page.held_guardians = w
        .held
        .guardians
        .iter()
        .filter_map(|g| Some((g.value.source_id.clone()?, g.clone())))
        .collect();
    page.held_links = w
        .held
        .links
        .iter()
        .filter(|l| l.student_id == held.value.id)
        .cloned()
        .collect();
    page.linked_guardians = w
        .held
        .guardians
        .iter()
        .map(|g| (g.value.id, g.value.clone()))
        .collect();
    page.accounts_listed = planner::page::linked_account_keys(&page.linked_guardians)
        .into_iter()
        .collect();
    let plan = planner::plan_student_page(&ctx, &page, &HashSet::new());
    let user = SpotUser::Student {
        current: &held.value,
        held_hash: &held.source_hash,
    };
    let spot = spot_items(&ctx, &plan, user, &page.linked_guardians);
    (run, spot)
}

fn links(items: &[PlanItem]) -> Vec<&PlanItem> {
    items
        .iter()
        .filter(|i| matches!(i, PlanItem::Link { .. }))
        .collect()
}

fn in_sync() -> World {
    let a = account("700", "501", PAT, &["100"]);
    World {
        pull: Pull {
            students: vec![student("100")],
            contacts: vec![contact("100", "501", PAT, Some(true))],
            accounts: vec![a.clone()],
            ..Pull::default()
        },
        held: Held {
            students: vec![held_student(&student("100"))],
            contacts: vec![synced(&contact("100", "501", PAT, Some(true)))],
            guardians: vec![held_guardian(&a, AccountStatus::Active)],
            links: vec![link("100", gid("700"), LinkOrigin::Sis, AccessTier::Full)],
            ..Held::default()
        },
        ..World::default()
    }
}

#[test]
fn a_spot_sync_and_a_run_plan_the_same_links_for_the_same_student() {
    // The contact stops being decision-making, and a second guardian we hold appears.
    let mut w = in_sync();
    w.pull.contacts[0].decision_making = Some(false);
    let lee = account("701", "502", "lee@family.example", &["100"]);
    w.pull.accounts.push(lee.clone());
    w.pull
        .contacts
        .push(contact("100", "502", "lee@family.example", Some(true)));
    w.held
        .guardians
        .push(held_guardian(&lee, AccountStatus::Active));
    let (run, spot) = run_and_spot(&w, "100");
    let run_links = links(&run);
    assert_eq!(
        run_links.len(),
        2,
        "a downgrade and a new link: {run_links:#?}"
    );
    assert_eq!(run_links, links(&spot));
}

#[test]
fn a_spot_sync_never_creates_an_account() {
    let mut w = in_sync();
    w.pull
        .accounts
        .push(account("702", "503", "new@family.example", &["100"]));
    w.pull
        .contacts
        .push(contact("100", "503", "new@family.example", Some(true)));
    let (run, spot) = run_and_spot(&w, "100");
    assert!(run
        .iter()
        .any(|i| matches!(i, PlanItem::Guardian { guardian, .. } if guardian.id == gid("702"))));
    assert_eq!(links(&run).len(), 1, "the run links the new account");
    assert!(spot.is_empty(), "{spot:#?}");
}

#[test]
fn a_spot_sync_changes_only_seed_000_fields() {
    let mut w = in_sync();
    w.pull.students[0].grade = "8".into();
    w.pull.students[0].org_email = "new@district.example".into();
    let (run, spot) = run_and_spot(&w, "100");
    let fields = |items: &[PlanItem]| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| match i {
                PlanItem::Student { changes, .. } => Some(changes),
                _ => None,
            })
            .flatten()
            .map(|c| c.field.clone())
            .collect()
    };
    assert_eq!(fields(&run), ["grade", "org_email"]);
    assert_eq!(fields(&spot), ["grade"]);
    let PlanItem::Student { source_hash, .. } = &spot[0] else {
        panic!("a student update: {spot:#?}")
    };
    assert_eq!(
        source_hash, &w.held.students[0].source_hash,
        "the next run still writes what the spot sync left"
    );
}

#[test]
fn a_spot_sync_of_an_unchanged_student_changes_nothing() {
    let (run, spot) = run_and_spot(&in_sync(), "100");
    assert!(run.is_empty(), "{run:#?}");
    assert!(spot.is_empty(), "{spot:#?}");
}
