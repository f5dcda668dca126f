//! Students, their re-keying, and their source contacts.

use crate::common::*;
use crate::*;
use model::district::{ArchivedStudents, StudentIdSource};
use model::roster::{EnrollmentStatus, Gender};
use model::source::SourceStudent;
use model::staging::StagedKind;

pub fn student_cases() -> Vec<Case> {
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

pub fn rekey_cases() -> Vec<Case> {
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

pub fn contact_cases() -> Vec<Case> {
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
