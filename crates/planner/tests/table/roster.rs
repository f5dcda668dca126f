//! Schools, staff, classrooms and enrollments.

use std::collections::BTreeSet;

use crate::common::*;
use crate::*;
use model::district::StaffPermission;
use model::staging::StagedKind;
use model::Synced;

pub fn roster_cases() -> Vec<Case> {
    let with_schools = |pulled: Vec<model::roster::School>, held| World {
        pull: Pull {
            schools: pulled,
            ..Pull::default()
        },
        held: Held {
            schools: held,
            ..Held::default()
        },
        ..World::default()
    };
    let staffed = |pulled: Vec<model::roster::Staff>, held: Vec<model::roster::Staff>| World {
        pull: Pull {
            staff: pulled,
            ..Pull::default()
        },
        held: Held {
            staff: held.iter().map(synced_staff).collect(),
            ..Held::default()
        },
        ..World::default()
    };
    let class = |pulled: Vec<model::roster::Classroom>,
                 enrolled: Vec<model::roster::Enrollment>,
                 held: Vec<model::roster::Classroom>,
                 held_enrolled: Vec<model::roster::Enrollment>| World {
        pull: Pull {
            classrooms: pulled,
            enrollments: enrolled,
            ..Pull::default()
        },
        held: Held {
            classrooms: held.iter().map(synced).collect(),
            enrollments: held_enrolled,
            ..Held::default()
        },
        ..World::default()
    };
    let archived_class = || model::roster::Classroom {
        archived: true,
        ..classroom("c1")
    };
    vec![
        case(
            "a school the district does not hold is created",
            with_schools(vec![school("17", "Lincoln")], vec![]),
            &["school.create 17 [source_id,school_number,name]"],
        ),
        case(
            "a school as held plans nothing",
            with_schools(vec![school("17", "Lincoln")], vec![synced(&school("17", "Lincoln"))]),
            &[],
        ),
        case(
            "a renamed school is updated",
            with_schools(vec![school("17", "Lincoln Middle")], vec![synced(&school("17", "Lincoln"))]),
            &["school.update 17 [name]"],
        ),
        case(
            "new staff get the district's staff permissions",
            World {
                settings: model::district::DistrictSettings {
                    staff_permissions: BTreeSet::from([StaffPermission::FamilyAccess]),
                    ..Default::default()
                },
                ..staffed(vec![staff("t1")], vec![])
            },
            &["staff.create t1 [source_id,first_name,last_name,email,school_source_ids,permissions]"],
        ),
        case(
            "staff as held plan nothing",
            staffed(vec![staff("t1")], vec![staff("t1")]),
            &[],
        ),
        case(
            "changing the staff permissions updates every synced staff member",
            World {
                settings: model::district::DistrictSettings {
                    staff_permissions: BTreeSet::from([StaffPermission::UsersManager]),
                    ..Default::default()
                },
                ..staffed(vec![staff("t1"), staff("t2")], vec![staff("t1"), staff("t2")])
            },
            &["staff.update t1 [permissions]", "staff.update t2 [permissions]"],
        ),
        case(
            "staff a complete pull no longer lists are archived",
            staffed(vec![staff("t1")], vec![staff("t1"), staff("t2")]),
            &["staff.archive t2 []"],
        ),
        case(
            "a pull listing no staff archives none of them",
            staffed(vec![], vec![staff("t1")]),
            &[],
        )
        .warns(&["the source listed no staff while 1 are held; none were archived"]),
        case(
            "staff the source would not give are left as held",
            World {
                unavailable: vec![StagedKind::Staff],
                ..staffed(vec![], vec![staff("t1")])
            },
            &[],
        ),
        case(
            "archived staff listed again come back",
            staffed(
                vec![staff("t1")],
                vec![model::roster::Staff {
                    archived: true,
                    ..staff("t1")
                }],
            ),
            &["staff.unarchive t1 []"],
        ),
        case(
            "a new classroom is created with its enrollments",
            class(
                vec![classroom("c1")],
                vec![enrollment("c1", "100"), enrollment("c1", "101")],
                vec![],
                vec![],
            ),
            &[
                "classroom.create c1 [source_id,school_source_id,name]",
                "enrollment.create c1/100",
                "enrollment.create c1/101",
            ],
        ),
        case(
            "an enrollment the source no longer lists is deleted",
            class(
                vec![classroom("c1")],
                vec![enrollment("c1", "100")],
                vec![classroom("c1")],
                vec![enrollment("c1", "100"), enrollment("c1", "101")],
            ),
            &["enrollment.delete c1/101"],
        ),
        case(
            "a classroom with a refused enrollment keeps the ones it has",
            World {
                pull: Pull {
                    classrooms: vec![classroom("c1")],
                    refused: vec![(StagedKind::Enrollment, "c1/x".into(), "c1".into())],
                    ..Pull::default()
                },
                held: Held {
                    classrooms: vec![synced(&classroom("c1"))],
                    enrollments: vec![enrollment("c1", "101")],
                    ..Held::default()
                },
                ..World::default()
            },
            &[],
        ),
        case(
            "an archived classroom stays archived when the district does not unarchive",
            World {
                settings: model::district::DistrictSettings {
                    unarchive_classrooms: false,
                    ..Default::default()
                },
                ..class(
                    vec![classroom("c1")],
                    vec![enrollment("c1", "100")],
                    vec![archived_class()],
                    vec![],
                )
            },
            &[],
        ),
        case(
            "an archived classroom listed again comes back when the district says so",
            class(vec![classroom("c1")], vec![], vec![archived_class()], vec![]),
            &["classroom.unarchive c1 []"],
        ),
        case(
            "classrooms a complete pull no longer lists are archived",
            class(
                vec![classroom("c1")],
                vec![],
                vec![classroom("c1"), classroom("c2")],
                vec![],
            ),
            &["classroom.archive c2 []"],
        ),
        case(
            "enrollments the source would not give are left as held",
            World {
                unavailable: vec![StagedKind::Enrollment],
                ..class(
                    vec![classroom("c1")],
                    vec![],
                    vec![classroom("c1")],
                    vec![enrollment("c1", "100")],
                )
            },
            &[],
        ),
    ]
}

fn synced_staff(s: &model::roster::Staff) -> Synced<model::roster::Staff> {
    let unassigned = model::roster::Staff {
        permissions: BTreeSet::new(),
        ..s.clone()
    };
    let staged = synced(&unassigned).source_hash;
    Synced {
        value: s.clone(),
        source_hash: planner::content_hash(&(staged, &BTreeSet::<StaffPermission>::new())),
    }
}
