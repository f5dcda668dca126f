//! A district's guardians.csv: a supplement of guardians and links.

use crate::common::*;
use crate::*;
use model::link::{AccessTier, Link, LinkOrigin};
use model::roster::AccountStatus;
use model::Synced;

pub fn file_cases() -> Vec<Case> {
    let held_students = || Held {
        students: vec![held_student(&student("100")), held_student(&student("101"))],
        ..Held::default()
    };
    let kim = "kim@family.example";
    let kim_guardian = || {
        let a = account(&format!("csv:{kim}"), "", kim, &["100"]);
        let mut g = held_guardian(&a, AccountStatus::Active);
        g.value.sis_connected = false;
        g.value.first_name = "Kim".into();
        g.source_hash = planner::guardians::account_hash(
            &model::source::GuardianAccount {
                first_name: "Kim".into(),
                ..a
            },
            &Default::default(),
        );
        g
    };
    vec![
        case(
            "a file's guardian is created, not connected to the SIS, with an import link",
            file(file_rows(kim, &["100"]), held_students()),
            &[
                "guardian.create csv:kim@family.example not-sis",
                "link.create 100>csv:kim@family.example full import guardians_csv.link.full",
            ],
        ),
        case(
            "a file never changes the students it names",
            {
                let mut rows = file_rows(kim, &["100"]);
                rows.students[0].grade = "12".into();
                file(rows, held_students())
            },
            &[
                "guardian.create csv:kim@family.example not-sis",
                "link.create 100>csv:kim@family.example full import guardians_csv.link.full",
            ],
        ),
        case(
            "a file replaces the links the last file made",
            {
                let mut held = held_students();
                held.guardians.push(kim_guardian());
                held.links.push(link(
                    "100",
                    gid(&format!("csv:{kim}")),
                    LinkOrigin::Import,
                    AccessTier::Full,
                ));
                // The file's reader names the students the last file linked too.
                let mut rows = file_rows(kim, &["101"]);
                rows.students.push(student("100"));
                file(rows, held)
            },
            &[
                "link.delete 100>csv:kim@family.example full import ps.link.full",
                "link.create 101>csv:kim@family.example full import guardians_csv.link.full",
            ],
        ),
        case(
            "a file leaves SIS and local links alone",
            {
                let mut held = synced_district();
                held.students.push(held_student(&student("101")));
                let local = local_guardian("lee@family.example");
                held.links
                    .push(link("100", local.id, LinkOrigin::Local, AccessTier::Full));
                held.guardians.push(Synced {
                    value: local,
                    source_hash: String::new(),
                });
                file(file_rows(kim, &["101"]), held)
            },
            &[
                "guardian.create csv:kim@family.example not-sis",
                "link.create 101>csv:kim@family.example full import guardians_csv.link.full",
            ],
        ),
        case(
            "a file naming what is held plans nothing",
            {
                let mut held = held_students();
                held.guardians.push(kim_guardian());
                held.links.push(Link {
                    decision: model::link::Decision::new("guardians_csv.link.full"),
                    ..link(
                        "100",
                        gid(&format!("csv:{kim}")),
                        LinkOrigin::Import,
                        AccessTier::Full,
                    )
                });
                file(file_rows(kim, &["100"]), held)
            },
            &[],
        ),
        case(
            "a file neither archives students nor plans staff",
            {
                let mut held = held_students();
                held.staff.push(synced(&staff("t1")));
                file(file_rows(kim, &["100"]), held)
            },
            &[
                "guardian.create csv:kim@family.example not-sis",
                "link.create 100>csv:kim@family.example full import guardians_csv.link.full",
            ],
        ),
    ]
}
