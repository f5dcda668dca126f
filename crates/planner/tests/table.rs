//! The planner's table: each case a district — what the source sent and what we hold —
//! and the exact plan it must give, in apply order, in the seeds' words. No database.

extern crate rostersync_planner as planner;

mod common;

use std::collections::BTreeSet;

use common::*;
use model::district::{ArchivedStudents, Selection, StaffPermission, StudentIdSource};
use model::link::{AccessTier, FormAuthorship, LinkOrigin, LinkRuleSet};
use model::roster::{AccountStatus, ContactType, EnrollmentStatus, Gender, Relationship};
use model::source::SourceStudent;
use model::staging::StagedKind;
use model::Synced;

struct Case {
    name: String,
    world: World,
    plan: Vec<&'static str>,
    /// Words every warning list must hold, one entry per warning expected.
    warnings: Vec<&'static str>,
}

fn case(name: &str, world: World, plan: &[&'static str]) -> Case {
    Case {
        name: name.to_owned(),
        world,
        plan: plan.to_vec(),
        warnings: Vec::new(),
    }
}

impl Case {
    fn warns(mut self, words: &[&'static str]) -> Case {
        self.warnings = words.to_vec();
        self
    }
}

/// Student 100 of school 17, its decision-making contact 501 and her account 700 — the
/// pull of a district where everything is in order.
fn pulled() -> Pull {
    Pull {
        students: vec![student("100")],
        contacts: vec![contact("100", "501", PAT, Some(true))],
        accounts: vec![account("700", "501", PAT, &["100"])],
        ..Pull::default()
    }
}

/// What a district holds after syncing [`pulled`]: the student, its contact, the guardian
/// (an active user) and the full SIS link.
fn synced_district() -> Held {
    let a = account("700", "501", PAT, &["100"]);
    Held {
        students: vec![held_student(&student("100"))],
        contacts: vec![synced(&contact("100", "501", PAT, Some(true)))],
        guardians: vec![held_guardian(&a, AccountStatus::Active)],
        links: vec![link("100", gid("700"), LinkOrigin::Sis, AccessTier::Full)],
        ..Held::default()
    }
}

fn in_sync() -> World {
    World {
        pull: pulled(),
        held: synced_district(),
        ..World::default()
    }
}

/// The world in sync, with the pull's student 100 changed by `f`.
fn student_changed(f: impl Fn(&mut SourceStudent)) -> World {
    let mut w = in_sync();
    f(&mut w.pull.students[0]);
    w
}

/// A guardians.csv file: its guardian `csv:<email>` tied to `students`, as the file's
/// reader stages it (the account and its contact for each student).
fn file_rows(email: &str, students: &[&str]) -> Pull {
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

fn file(pull: Pull, held: Held) -> World {
    World {
        pull,
        held,
        rules: LinkRuleSet::GuardiansCsv,
        ..World::default()
    }
}

fn roster_cases() -> Vec<Case> {
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

fn student_cases() -> Vec<Case> {
    let mut cases = vec![
        case(
            "a new student is created with a full link to its decision-making guardian",
            World {
                pull: pulled(),
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create 700 sis",
                "contact.create 100/501",
                "link.create 100>700 full sis ps.link.full",
            ],
        ),
        case("a district in sync plans nothing", in_sync(), &[]),
        case(
            "a student a complete pull no longer lists is archived",
            World {
                pull: Pull::default(),
                held: Held {
                    students: vec![held_student(&student("100"))],
                    ..Held::default()
                },
                ..World::default()
            },
            &["student.archive 100"],
        ),
        case(
            "a district that keeps archived students archives none",
            World {
                pull: Pull::default(),
                held: Held {
                    students: vec![held_student(&student("100"))],
                    ..Held::default()
                },
                settings: model::district::DistrictSettings {
                    archived_students: ArchivedStudents::Keep,
                    ..Default::default()
                },
                ..World::default()
            },
            &[],
        ),
        case(
            "an archived student the source lists again is unarchived",
            {
                let mut w = in_sync();
                w.held.students[0].value.archived = true;
                w
            },
            &["student.unarchive 100"],
        ),
        case(
            "the district's choice of student id updates every student",
            World {
                settings: model::district::DistrictSettings {
                    student_id_source: StudentIdSource::SourceId,
                    ..Default::default()
                },
                ..in_sync()
            },
            &["student.update 100 [student_number]"],
        ),
    ];
    // Each synced field of a student, changed at the source, is updated alone.
    type Change = (&'static str, fn(&mut SourceStudent));
    let fields: [Change; 13] = [
        ("legal_first_name", |s| s.legal_first_name = "Jaime".into()),
        ("legal_last_name", |s| s.legal_last_name = "Smith".into()),
        ("middle_name", |s| s.middle_name = "Lee".into()),
        ("birth_date", |s| {
            s.birth_date = chrono::NaiveDate::from_ymd_opt(2013, 4, 2)
        }),
        ("gender", |s| s.gender = Gender::Male),
        ("state_id", |s| s.state_id = "987654321".into()),
        ("school_source_id", |s| {
            s.school_source_id = Some(model::ids::SourceId::new("18"))
        }),
        ("grade", |s| s.grade = "8".into()),
        ("enrollment_status", |s| {
            s.enrollment_status = EnrollmentStatus::Inactive
        }),
        ("independent_student", |s| s.independent_student = true),
        ("org_email", |s| s.org_email = "new@district.example".into()),
        ("personal_email", |s| {
            s.personal_email = "new@mail.example".into()
        }),
        ("student_number", |s| s.student_number = "99100".into()),
    ];
    for (field, change) in fields {
        let mut expect = vec![];
        let line: &'static str =
            Box::leak(format!("student.update 100 [{field}]").into_boxed_str());
        expect.push(line);
        if field == "independent_student" {
            // An independent student's guardians lose access (seed 001 rule 5).
            expect.push("link.update 100>700 read_only sis ps.rule5.release_of_information");
        }
        cases.push(case(
            &format!("a changed {field} is updated"),
            student_changed(change),
            &expect,
        ));
    }
    cases
}

fn rekey_cases() -> Vec<Case> {
    let moved = |new_id: &str| {
        let mut w = in_sync();
        w.pull.students[0] = SourceStudent {
            source_id: model::ids::SourceId::new(new_id),
            ..student("100")
        };
        w.pull.contacts.clear();
        w.pull.accounts.clear();
        w.held.links.clear();
        w.held.guardians.clear();
        w.held.contacts.clear();
        w
    };
    vec![
        case(
            "a student listed under a new id with the same number, names and birth date is re-keyed",
            moved("100b"),
            &["student.update 100b [source_id]"],
        )
        .warns(&["re-keyed from source id 100 to 100b"]),
        case(
            "a student whose old id is still listed is not re-keyed",
            {
                let mut w = moved("100b");
                w.pull.students.push(student("100"));
                w
            },
            &["student.create 100b"],
        ),
        case(
            "two held students matching one new id re-key neither",
            {
                let mut w = moved("100b");
                let twin = SourceStudent {
                    source_id: model::ids::SourceId::new("100c"),
                    ..student("100")
                };
                w.held.students.push(held_student(&twin));
                w
            },
            &["student.create 100b", "student.archive 100", "student.archive 100c"],
        ),
        case(
            "a guardian listed under a new account id is re-keyed and keeps its link",
            {
                let mut w = in_sync();
                w.pull.accounts = vec![account("701", "501", PAT, &["100"])];
                w
            },
            &["guardian.update 700 [source_id]"],
        )
        .warns(&["re-keyed from source id 700 to 701"]),
    ]
}

fn contact_cases() -> Vec<Case> {
    vec![
        case(
            "a new source contact is created",
            {
                let mut w = in_sync();
                w.pull.contacts.push(contact("100", "502", "", Some(false)));
                w
            },
            &["contact.create 100/502"],
        ),
        case(
            "a changed source contact is updated",
            {
                let mut w = in_sync();
                w.pull.contacts[0].first_name = "Patricia".into();
                w
            },
            &["contact.update 100/501 [first_name]"],
        ),
        case(
            "a contact the source no longer lists is deleted, and the link it carried goes",
            {
                let mut w = in_sync();
                w.pull.contacts.clear();
                w
            },
            &[
                "contact.delete 100/501",
                "link.delete 100>700 full sis ps.link.full",
                "guardian.archive 700 []",
            ],
        ),
        case(
            "a student with a refused contact keeps its contacts and links",
            {
                let mut w = in_sync();
                w.pull.contacts.clear();
                w.pull
                    .refused
                    .push((StagedKind::Contact, "100/501".into(), "100".into()));
                w
            },
            &[],
        )
        .warns(&["student 100: the source sent a contact or guardian account of this student that was refused"]),
        case(
            "a student with a refused account keeps its links",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w.pull
                    .refused
                    .push((StagedKind::GuardianAccount, "700".into(), "700".into()));
                w.pull.refused.push((
                    StagedKind::AccountStudent,
                    model::staging::compound_key(&["700", "100"]),
                    "100".into(),
                ));
                w
            },
            &[],
        )
        .warns(&["student 100: the source sent a contact or guardian account"]),
    ]
}

fn link_cases() -> Vec<Case> {
    let local = local_guardian("lee@family.example");
    let with_local = |origin: LinkOrigin| {
        let mut w = in_sync();
        w.held.guardians.push(Synced {
            value: local.clone(),
            source_hash: String::new(),
        });
        w.held
            .links
            .push(link("100", local.id, origin, AccessTier::Full));
        w
    };
    vec![
        case(
            "a contact who is not decision-making gets restricted access",
            World {
                pull: Pull {
                    contacts: vec![contact("100", "501", PAT, Some(false))],
                    ..pulled()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create 700 sis",
                "contact.create 100/501",
                "link.create 100>700 restricted sis ps.rule4.not_decision_making",
            ],
        ),
        case(
            "a full link whose contact stops being decision-making is downgraded",
            {
                let mut w = in_sync();
                w.pull.contacts[0].decision_making = Some(false);
                w
            },
            &[
                "contact.update 100/501 [decision_making]",
                "link.update 100>700 restricted sis ps.rule4.not_decision_making",
            ],
        ),
        case(
            "a SIS link the source no longer lists is removed, and its guardian's last link with it",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w
            },
            &["link.delete 100>700 full sis ps.link.full", "guardian.archive 700 []"],
        ),
        case(
            "a guardian losing one of two links is not archived",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w.held
                    .links
                    .push(link("101", gid("700"), LinkOrigin::Sis, AccessTier::Full));
                w
            },
            &["link.delete 100>700 full sis ps.link.full"],
        ),
        case(
            "a login that is the student's web id links no one (rule 1)",
            World {
                pull: Pull {
                    accounts: vec![{
                        let mut a = account("700", "501", PAT, &["100"]);
                        a.username = "WEB100".into();
                        a
                    }],
                    ..pulled()
                },
                ..World::default()
            },
            &["student.create 100", "contact.create 100/501"],
        ),
        case(
            "a contact type the district does not sync links no one",
            World {
                pull: pulled(),
                settings: model::district::DistrictSettings {
                    contact_types: Selection::Only(BTreeSet::from([ContactType::Emergency])),
                    ..Default::default()
                },
                ..World::default()
            },
            &["student.create 100", "contact.create 100/501"],
        ),
        case(
            "an account no student relates to is not created",
            {
                let mut w = in_sync();
                w.pull.accounts.push(account("799", "", "x@family.example", &[]));
                w
            },
            &[],
        ),
        case(
            "a link made in our product stays when the SIS does not list it",
            with_local(LinkOrigin::Local),
            &[],
        ),
        case(
            "a link kept by a form stays when the SIS does not list it",
            with_local(LinkOrigin::Form),
            &[],
        ),
        case(
            "with manage_guardians off no guardian, contact or link is planned",
            World {
                pull: pulled(),
                settings: model::district::DistrictSettings {
                    manage_guardians: false,
                    ..Default::default()
                },
                ..World::default()
            },
            &["student.create 100"],
        ),
        case(
            "a guardian we hold without a SIS account who wrote a form takes the account over",
            {
                let mut w = in_sync();
                w.held.guardians.clear();
                w.held.links.clear();
                let mut author = local_guardian(PAT);
                author.status = AccountStatus::Active;
                w.held.guardians.push(Synced {
                    value: author.clone(),
                    source_hash: String::new(),
                });
                w.held
                    .links
                    .push(link("100", author.id, LinkOrigin::Form, AccessTier::Full));
                w.held.form_authors.push(FormAuthorship {
                    guardian_id: author.id,
                    student_id: w.held.students[0].value.id,
                });
                w
            },
            &[
                "guardian.update local pat@family.example [source_id,sis_connected]",
                "link.update 100>local pat@family.example full sis ps.link.full",
            ],
        ),
        case(
            "a form author's SIS link the SIS drops is kept, and the account marked incomplete",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w.held.form_authors.push(FormAuthorship {
                    guardian_id: gid("700"),
                    student_id: w.held.students[0].value.id,
                });
                w
            },
            &["guardian.update 700 [status]", "link.update 100>700 full form reconcile.form_kept_incomplete"],
        ),
        case(
            "an active user's e-mail is left alone",
            {
                let mut w = in_sync();
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w.pull.accounts[0].first_name = "Patty".into();
                w
            },
            &["guardian.update 700 [first_name]", "contact.update 100/501 [emails]"],
        ),
        case(
            "a district updating active users' details changes the e-mail too",
            {
                let mut w = in_sync();
                w.settings.update_active_contact_details = true;
                w.held.guardians[0].source_hash.clear();
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w
            },
            &["guardian.update 700 [email]", "contact.update 100/501 [emails]"],
        ),
        case(
            "a pending user's e-mail follows the SIS",
            {
                let mut w = in_sync();
                w.held.guardians[0].value.status = AccountStatus::Pending;
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w
            },
            &["guardian.update 700 [email]", "contact.update 100/501 [emails]"],
        ),
        case(
            "an archived guardian whose link comes back is unarchived",
            {
                let mut w = in_sync();
                w.held.guardians[0].value.archived = true;
                w.held.links.clear();
                w
            },
            &["guardian.unarchive 700 []", "link.create 100>700 full sis ps.link.full"],
        ),
        case(
            "a guardians.csv link the SIS does not list is kept by a SIS run",
            {
                let mut w = in_sync();
                let kim = account("csv:kim@family.example", "", "kim@family.example", &["100"]);
                let mut g = held_guardian(&kim, AccountStatus::Active);
                g.value.sis_connected = false;
                w.held.guardians.push(g);
                w.held.links.push(link(
                    "100",
                    gid("csv:kim@family.example"),
                    LinkOrigin::Import,
                    AccessTier::Full,
                ));
                w
            },
            &[],
        ),
        case(
            "a Clever contact of a selected type is linked with full access",
            World {
                rules: LinkRuleSet::Clever,
                pull: Pull {
                    students: vec![student("100")],
                    contacts: vec![model::roster::Contact {
                        relationship: Relationship::Guardian,
                        ..contact("100", "c7", PAT, None)
                    }],
                    accounts: vec![account("c7", "", PAT, &["100"])],
                    ..Pull::default()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create c7 sis",
                "contact.create 100/c7",
                "link.create 100>c7 full sis clever.link.full",
            ],
        ),
        case(
            "a OneRoster agent of a selected role is linked with full access",
            World {
                rules: LinkRuleSet::OneRoster,
                pull: Pull {
                    students: vec![student("100")],
                    contacts: vec![model::roster::Contact {
                        relationship: Relationship::Parent,
                        ..contact("100", "g9", PAT, None)
                    }],
                    accounts: vec![account("g9", "", PAT, &["100"])],
                    ..Pull::default()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create g9 sis",
                "contact.create 100/g9",
                "link.create 100>g9 full sis oneroster.link.full",
            ],
        ),
    ]
}

fn file_cases() -> Vec<Case> {
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

use model::link::Link;

fn all_cases() -> Vec<Case> {
    let mut all = roster_cases();
    all.extend(student_cases());
    all.extend(rekey_cases());
    all.extend(contact_cases());
    all.extend(link_cases());
    all.extend(file_cases());
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
