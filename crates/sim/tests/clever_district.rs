//! The generated Clever district: deterministic, Clever-shaped records, and every case of
//! [`Cases`] whatever the seed; the mutations tests use (recreated contacts, changed
//! `sis_id`s, unshared records) seen over real HTTP.

mod common;

use std::collections::BTreeSet;

use common::clever::{default_sim, ids, records};
use rostersync_sim::clever::{
    CleverSimConfig, District, Role, CONTACT_TYPES, GRADES, PHONE_TYPES, RELATIONSHIPS,
};

fn config(seed: u64) -> CleverSimConfig {
    CleverSimConfig {
        seed,
        quirks: rostersync_sim::clever::Quirks {
            unknown_values: true,
            ..Default::default()
        },
        ..CleverSimConfig::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_district_and_another_seed_another() {
    let a = District::generate(&config(7));
    let b = District::generate(&config(7));
    assert_eq!(a, b);
    let c = District::generate(&config(8));
    assert_ne!(a.users, c.users);
}

#[test]
fn sizes_are_respected_and_ids_are_clever_ids_in_creation_order() {
    for (schools, students) in [(1, 5), (4, 60), (7, 300)] {
        let d = District::generate(&CleverSimConfig {
            schools,
            students,
            ..CleverSimConfig::default()
        });
        assert_eq!(d.schools.len(), schools);
        assert_eq!(d.users_with_role(Role::Student).count(), students);
        let all: Vec<&str> = d
            .schools
            .iter()
            .map(|s| s.id.as_str())
            .chain(d.users.iter().map(|u| u.id.as_str()))
            .chain(d.sections.iter().map(|s| s.id.as_str()))
            .collect();
        for id in &all {
            assert!(
                id.len() == 24
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
        }
        assert!(
            all.windows(2).all(|w| w[0] < w[1]),
            "ids grow in creation order"
        );
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
    }
}

#[test]
fn every_district_of_twenty_students_holds_every_case() {
    for seed in [1, 2, 3, 42, 2024, 99_999] {
        for (schools, students) in [(2, 20), (4, 60), (3, 150)] {
            let d = District::generate(&CleverSimConfig {
                seed,
                schools,
                students,
                ..config(seed)
            });
            check_cases(&d);
        }
    }
}

fn check_cases(d: &District) {
    let c = &d.cases;
    let link_of = |contact: &str| {
        let user = d.user(contact).expect("case contact exists");
        let role = user.roles.contact.clone().expect("a contact");
        assert_eq!(user.name.first, None, "contacts carry their name in last");
        role
    };
    for value in RELATIONSHIPS {
        let role = link_of(&c.relationship_contacts[*value]);
        assert_eq!(role.student_relationships[0].relationship, *value);
    }
    for value in CONTACT_TYPES {
        let role = link_of(&c.type_contacts[*value]);
        assert_eq!(role.student_relationships[0].kind, *value);
    }
    for value in PHONE_TYPES {
        let role = link_of(&c.phone_type_contacts[*value]);
        assert_eq!(role.phone_type, *value);
        assert!(!role.phone.is_empty());
    }
    for grade in [
        "PreKindergarten",
        "TransitionalKindergarten",
        "Kindergarten",
        "Ungraded",
        "PostGraduate",
        "Other",
    ] {
        let student = d.user(&c.grade_students[grade]).expect("grade student");
        assert_eq!(
            student.roles.student.as_ref().map(|s| s.grade.as_str()),
            Some(grade)
        );
    }
    let own = d
        .user(&c.grade_students["PostGraduate"])
        .expect("adult student");
    let own_contact = d
        .user(&c.relationship_contacts["Self"])
        .expect("self contact");
    assert_eq!(own.email, own_contact.email);
    assert!(own.email.is_some());
    let step = link_of(&c.unknown_relationship_contact);
    assert_eq!(
        step.student_relationships[0].relationship,
        "Probation Officer"
    );
    assert_eq!(
        step.student_relationships[0].student,
        c.unknown_relationship_student
    );
    let without = link_of(&c.no_sis_id_contact);
    assert_eq!(without.sis_id, "");
    assert!(d
        .user(&c.no_sis_id_contact)
        .and_then(|u| u.email.clone())
        .is_some());
    let with = link_of(&c.sis_id_contact);
    assert!(!with.sis_id.is_empty());
    for role in [&without, &with] {
        assert_eq!(role.student_relationships[0].student, c.sis_id_student);
    }
    let two = link_of(&c.two_students_contact);
    let linked: Vec<&str> = two
        .student_relationships
        .iter()
        .map(|l| l.student.as_str())
        .collect();
    assert_eq!(
        linked,
        c.two_students
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_ne!(
        two.student_relationships[0].relationship,
        two.student_relationships[1].relationship
    );
    assert_ne!(
        two.student_relationships[0].kind,
        two.student_relationships[1].kind
    );
    assert_eq!(d.contacts_of(&c.contactless_student).count(), 0);
    let x = d
        .user(&c.gender_x_student)
        .and_then(|u| u.roles.student.clone());
    assert_eq!(x.map(|s| s.gender), Some("X".to_owned()));
    let preferred = d
        .user(&c.preferred_name_student)
        .and_then(|u| u.roles.student.clone());
    assert!(preferred.and_then(|s| s.preferred_name).is_some());
    let teacher = d
        .user(&c.two_school_teacher)
        .and_then(|u| u.roles.teacher.clone());
    assert_eq!(teacher.map(|t| t.schools.len()), Some(2));
    let section = d.section(&c.two_teacher_section).expect("section");
    assert_eq!(section.teachers.len(), 2);
    assert_eq!(section.teacher.as_ref(), section.teachers.first());
    let staff = d
        .user(&c.several_roles_staff)
        .and_then(|u| u.roles.staff.clone());
    assert!(staff.map(|s| s.roles.len()).unwrap_or(0) >= 2);
    let both = d.user(&c.teacher_and_staff).expect("teacher and staff");
    assert!(both.has_role(Role::Teacher) && both.has_role(Role::Staff));
    let admin = d.user(&c.district_admin).expect("district admin");
    assert!(admin.has_role(Role::DistrictAdmin));
    assert_eq!(d.record.contact_id, c.district_admin);
    for user in &d.users {
        let r = &user.roles;
        if r.student.is_some() || r.contact.is_some() {
            let held = Role::ALL
                .iter()
                .filter(|role| user.has_role(**role))
                .count();
            assert_eq!(held, 1, "students and contacts hold one role");
        }
        if let Some(s) = &r.student {
            assert!(GRADES.contains(&s.grade.as_str()), "{}", s.grade);
        }
    }
}

#[tokio::test]
async fn records_are_served_in_clevers_shapes() {
    let (sim, client) = default_sim().await;
    let c = sim.district(|d| d.cases.clone());
    let body = client
        .get("/v3.0/users?role=student&limit=10000")
        .await
        .json();
    for student in records(&body) {
        let role = &student["roles"]["student"];
        assert!(role["sis_id"].is_string() && role["student_number"].is_string());
        assert!(role["credentials"]["district_username"].is_string());
        if let Some(dob) = role["dob"].as_str() {
            let parts: Vec<&str> = dob.split('/').collect();
            assert_eq!(parts.len(), 3, "{dob}");
            assert!(
                !parts[0].starts_with('0') && !parts[1].starts_with('0'),
                "{dob}"
            );
            assert_eq!(parts[2].len(), 4);
        }
        let created = student["created"].as_str().expect("created");
        assert_eq!(created.len(), "2025-03-02T22:24:57.485Z".len(), "{created}");
        assert!(created.ends_with('Z'));
        assert!(
            role.get("preferred_name").is_none(),
            "v3.0 has no preferred_name"
        );
    }
    let contact = client
        .get(&format!("/v3.0/users/{}", c.two_students_contact))
        .await
        .json();
    let data = &contact["data"];
    assert!(data["name"]["last"]
        .as_str()
        .is_some_and(|n| n.contains(' ')));
    assert!(data["name"].get("first").is_none());
    let links = data["roles"]["contact"]["student_relationships"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(links.len(), 2);
    assert!(links
        .iter()
        .all(|l| l["type"].is_string() && l["relationship"].is_string()));
    let v31 = client
        .get(&format!("/v3.1/users/{}", c.preferred_name_student))
        .await
        .json();
    assert!(v31["data"]["roles"]["student"]["preferred_name"]["first"].is_string());
    let section = client
        .get(&format!("/v3.0/sections/{}", c.two_teacher_section))
        .await
        .json();
    assert_eq!(
        section["data"]["teachers"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(section["data"]["teacher"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_recreated_contact_comes_back_under_a_new_id() {
    let (sim, client) = default_sim().await;
    let old = sim.district(|d| d.cases.no_sis_id_contact.clone());
    let before = client.get(&format!("/v3.0/users/{old}")).await.json()["data"].clone();
    let new = sim.recreate_contact(&old);
    assert_ne!(new, old);
    assert!(new > old, "a new record sorts last");
    assert_eq!(client.get(&format!("/v3.0/users/{old}")).await.status, 404);
    let after = client.get(&format!("/v3.0/users/{new}")).await;
    assert_eq!(after.status, 200);
    let after = after.json()["data"].clone();
    for field in ["name", "email"] {
        assert_eq!(before[field], after[field], "{field}");
    }
    let (b, a) = (&before["roles"]["contact"], &after["roles"]["contact"]);
    for field in ["phone", "phone_type", "student_relationships", "sis_id"] {
        assert_eq!(b[field], a[field], "{field}");
    }
    let listed = ids(&client
        .get("/v3.0/users?role=contact&limit=10000")
        .await
        .json());
    assert!(listed.contains(&new) && !listed.contains(&old));
    let student = sim.district(|d| d.cases.sis_id_student.clone());
    let theirs = ids(&client
        .get(&format!("/v3.0/users/{student}/mycontacts"))
        .await
        .json());
    assert!(theirs.contains(&new) && !theirs.contains(&old));
    assert_eq!(sim.district(|d| d.cases.no_sis_id_contact.clone()), new);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_changed_sis_id_gives_a_new_id_and_references_follow() {
    let (sim, client) = default_sim().await;
    let (student, contact) = sim.district(|d| {
        (
            d.cases.sis_id_student.clone(),
            d.cases.sis_id_contact.clone(),
        )
    });
    let new = sim.change_sis_id(&student, "NEW-1");
    assert_ne!(new, student);
    assert_eq!(
        client.get(&format!("/v3.0/users/{student}")).await.status,
        404
    );
    let body = client.get(&format!("/v3.0/users/{new}")).await.json();
    assert_eq!(body["data"]["roles"]["student"]["sis_id"], "NEW-1");
    let parent = client.get(&format!("/v3.0/users/{contact}")).await.json();
    assert_eq!(
        parent["data"]["roles"]["contact"]["student_relationships"][0]["student"],
        new.as_str()
    );
    let sections = records(
        &client
            .get(&format!("/v3.0/users/{new}/sections"))
            .await
            .json(),
    );
    assert!(!sections.is_empty(), "the student keeps its sections");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unshared_record_vanishes_then_comes_back_with_its_id() {
    let (sim, client) = default_sim().await;
    let (student, contact) = sim.district(|d| {
        (
            d.cases.two_students[1].clone(),
            d.cases.two_students_contact.clone(),
        )
    });
    sim.unshare(&student);
    assert_eq!(
        client.get(&format!("/v3.0/users/{student}")).await.status,
        404
    );
    assert_eq!(
        client.get(&format!("/v3.1/users/{student}")).await.status,
        404
    );
    for list in [
        "/v3.0/users?limit=10000",
        "/v3.0/users?role=student&limit=10000",
    ] {
        assert!(
            !ids(&client.get(list).await.json()).contains(&student),
            "{list}"
        );
    }
    let sections = records(&client.get("/v3.0/sections?limit=10000").await.json());
    assert!(sections.iter().all(|s| !s["students"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == student.as_str()))));
    let parent = client.get(&format!("/v3.0/users/{contact}")).await.json();
    let links = parent["data"]["roles"]["contact"]["student_relationships"].clone();
    assert_eq!(
        links.as_array().map(Vec::len),
        Some(1),
        "the unshared student is not named"
    );
    assert_eq!(
        client
            .get(&format!("/v3.0/users/{student}/mycontacts"))
            .await
            .status,
        404
    );
    sim.reshare(&student);
    let back = client.get(&format!("/v3.0/users/{student}")).await;
    assert_eq!(back.status, 200);
    assert_eq!(back.json()["data"]["id"], student.as_str());
    assert!(ids(&client
        .get("/v3.0/users?role=student&limit=10000")
        .await
        .json())
    .contains(&student));
    let school = sim.district(|d| d.schools[0].id.clone());
    sim.unshare(&school);
    assert_eq!(
        client.get(&format!("/v3.0/schools/{school}")).await.status,
        404
    );
    assert!(!ids(&client.get("/v3.0/schools").await.json()).contains(&school));
    sim.reshare(&school);
    assert!(ids(&client.get("/v3.0/schools").await.json()).contains(&school));
    sim.shutdown().await;
}

#[test]
fn a_district_as_clever_serves_it_holds_only_clevers_relationships() {
    let d = District::generate(&CleverSimConfig::default());
    let step = d
        .user(&d.cases.unknown_relationship_contact)
        .and_then(|u| u.roles.contact.as_ref())
        .map(|c| c.student_relationships.clone())
        .unwrap_or_default();
    assert!(!step.is_empty());
    assert!(step.iter().all(|r| r.relationship == "Other"), "{step:?}");
}
