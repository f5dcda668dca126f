//! The planner's table: each case a district — what the source sent and what we hold —
//! and the exact plan it must give, in apply order, in the seeds' words. No database.

extern crate rostersync_planner as planner;

#[path = "../common/mod.rs"]
mod common;
mod files;
mod links;
mod roster;
mod students;

use std::collections::BTreeSet;

use common::*;
use model::link::{AccessTier, LinkOrigin, LinkRuleSet};
use model::roster::{AccountStatus, ContactType, Relationship};
use model::source::SourceStudent;

#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub world: World,
    pub plan: Vec<&'static str>,
    /// Words every warning list must hold, one entry per warning expected.
    pub warnings: Vec<&'static str>,
}

pub fn case(name: &str, world: World, plan: &[&'static str]) -> Case {
    Case {
        name: name.to_owned(),
        world,
        plan: plan.to_vec(),
        warnings: Vec::new(),
    }
}

impl Case {
    pub fn warns(mut self, words: &[&'static str]) -> Case {
        self.warnings = words.to_vec();
        self
    }
}

/// Student 100 of school 17, its decision-making contact 501 and her account 700 — the
/// pull of a district where everything is in order.
pub fn pulled() -> Pull {
    Pull {
        students: vec![student("100")],
        contacts: vec![contact("100", "501", PAT, Some(true))],
        accounts: vec![account("700", "501", PAT, &["100"])],
        ..Pull::default()
    }
}

/// What a district holds after syncing [`pulled`]: the student, its contact, the guardian
/// (an active user) and the full SIS link.
pub fn synced_district() -> Held {
    let a = account("700", "501", PAT, &["100"]);
    Held {
        students: vec![held_student(&student("100"))],
        contacts: vec![synced(&contact("100", "501", PAT, Some(true)))],
        guardians: vec![held_guardian(&a, AccountStatus::Active)],
        links: vec![link("100", gid("700"), LinkOrigin::Sis, AccessTier::Full)],
        ..Held::default()
    }
}

pub fn in_sync() -> World {
    World {
        pull: pulled(),
        held: synced_district(),
        ..World::default()
    }
}

/// The world in sync, with the pull's student 100 changed by `f`.
pub fn student_changed(f: impl Fn(&mut SourceStudent)) -> World {
    let mut w = in_sync();
    f(&mut w.pull.students[0]);
    w
}

/// A guardians.csv file: its guardian `csv:<email>` tied to `students`, as the file's
/// reader stages it (the account and its contact for each student).
pub fn file_rows(email: &str, students: &[&str]) -> Pull {
    let id = format!("csv:{email}");
    let mut a = account(&id, "", email, students);
    a.first_name = "Kim".into();
    Pull {
        students: students.iter().map(|s| student(s)).collect(),
        contacts: students
            .iter()
            .map(|s| model::roster::Contact {
                relationship: Relationship::Mother,
                contact_type: ContactType::Guardian,
                ..contact(s, &id, email, None)
            })
            .collect(),
        accounts: vec![a],
        ..Pull::default()
    }
}

pub fn file(pull: Pull, held: Held) -> World {
    World {
        pull,
        held,
        rules: LinkRuleSet::GuardiansCsv,
        ..World::default()
    }
}

fn all_cases() -> Vec<Case> {
    let mut all = roster::roster_cases();
    all.extend(students::student_cases());
    all.extend(students::rekey_cases());
    all.extend(students::contact_cases());
    all.extend(links::link_cases());
    all.extend(files::file_cases());
    all
}

#[test]
fn the_table_holds_at_least_sixty_cases() {
    let all = all_cases();
    assert!(all.len() >= 60, "{} cases", all.len());
    let names: BTreeSet<&str> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), all.len(), "every case has its own name");
}

#[test]
fn every_case_plans_exactly_its_items() {
    let mut failures = Vec::new();
    for c in all_cases() {
        let out = c.world.plan(500);
        let got = lines(&c.world, &out);
        if got != c.plan {
            failures.push(format!(
                "{}:\n  expected {:#?}\n  got      {:#?}",
                c.name, c.plan, got
            ));
        }
        let warned = out.warnings.len() == c.warnings.len()
            && c.warnings
                .iter()
                .zip(&out.warnings)
                .all(|(want, got)| got.contains(want));
        if !warned {
            failures.push(format!(
                "{}: warnings\n  expected {:?}\n  got      {:?}",
                c.name, c.warnings, out.warnings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_page_of_one_plans_as_a_page_of_many() {
    for c in all_cases() {
        let whole = lines(&c.world, &c.world.plan(500));
        let single = lines(&c.world, &c.world.plan(1));
        assert_eq!(whole, single, "{}", c.name);
    }
}
