//! The generator and the district's ground truth, without HTTP: every case in every seed,
//! determinism, one-sided agents, and an O(n) generator.

use std::time::Instant;

use super::render::{Ctx, Record, Version};
use super::*;

fn district(seed: u64, students: usize) -> District {
    District::generate(&OneRosterSimConfig {
        seed,
        students,
        ..OneRosterSimConfig::default()
    })
}

fn agents_of<'d>(d: &'d District, id: &str) -> &'d [String] {
    &d.user(id).unwrap_or_else(|| panic!("no user {id}")).agents
}

fn check_cases(d: &District) {
    let c = &d.cases;
    let user = |id: &str| d.user(id).unwrap_or_else(|| panic!("no user {id:?}"));
    let lists = |a: &str, b: &str| agents_of(d, a).iter().any(|x| x == b);

    assert!(lists(
        &c.agent_student_side_student,
        &c.agent_student_side_guardian
    ));
    assert!(!lists(
        &c.agent_student_side_guardian,
        &c.agent_student_side_student
    ));
    assert!(lists(
        &c.agent_guardian_side_guardian,
        &c.agent_guardian_side_student
    ));
    assert!(!lists(
        &c.agent_guardian_side_student,
        &c.agent_guardian_side_guardian
    ));

    assert_eq!(c.role_guardians.len(), 3);
    for (role, id) in &c.role_guardians {
        let g = user(id);
        assert_eq!(g.role.v1p1(), role);
        let student = &g.agents[0];
        assert!(lists(student, id), "{role} guardian linked both ways");
    }
    let sms = user(&c.sms_only_guardian);
    assert!(!sms.sms.is_empty() && sms.phone.is_empty());
    let phone = user(&c.phone_only_guardian);
    assert!(phone.sms.is_empty() && !phone.phone.is_empty());
    let both = user(&c.sms_and_phone_guardian);
    assert!(!both.sms.is_empty() && !both.phone.is_empty());
    let none = user(&c.no_phone_guardian);
    assert!(none.sms.is_empty() && none.phone.is_empty() && !none.email.is_empty());

    let disabled = user(&c.disabled_guardian);
    assert!(!disabled.enabled_user);
    assert_eq!(disabled.status, Status::Active);
    assert!(lists(&disabled.agents[0], &c.disabled_guardian));

    let gone = user(&c.tobedeleted_guardian);
    assert_eq!(gone.status, Status::ToBeDeleted);
    assert!(lists(&gone.agents[0], &c.tobedeleted_guardian));
    assert_eq!(user(&c.tobedeleted_student).status, Status::ToBeDeleted);
    assert_eq!(user(&c.inactive_student).status, Status::Inactive);
    let class = d.class(&c.tobedeleted_class).expect("tobedeleted class");
    assert_eq!(class.status, Status::ToBeDeleted);

    assert_eq!(c.two_students.len(), 2);
    for s in &c.two_students {
        assert!(lists(s, &c.two_students_guardian));
        assert!(lists(&c.two_students_guardian, s));
    }
    assert!(user(&c.guardianless_student).agents.is_empty());
    let preferred = user(&c.preferred_name_student);
    assert!(preferred.preferred_first_name.is_some() && preferred.preferred_last_name.is_some());

    let teacher = user(&c.two_school_teacher);
    assert_eq!(teacher.role, Role::Teacher);
    assert_eq!(teacher.orgs.len(), 2);
    let admin = user(&c.district_admin);
    assert_eq!(admin.role, Role::DistrictAdministrator);
    assert_eq!(admin.orgs, vec!["org-1".to_owned()]);
    assert_eq!(c.site_admins.len(), d.orgs.len() - 1);
    assert!(c.site_admins.iter().all(|a| user(a).role.is_admin()));

    let dangling = user(&c.dangling_agent_student);
    assert!(dangling.agents.contains(&c.dangling_agent_id));
    assert!(d.user(&c.dangling_agent_id).is_none());

    let teachers = d
        .enrollments
        .iter()
        .filter(|e| e.class == c.second_teacher_class && e.role == EnrollmentRole::Teacher)
        .map(|e| e.primary)
        .collect::<Vec<_>>();
    assert_eq!(teachers, vec![true, false]);
    assert!(d.class(&c.odd_id_class).is_some());
    assert!(c.odd_id_class.contains(' ') && c.odd_id_class.contains('+'));
}

#[test]
fn every_case_is_present_in_seed_1_and_seed_7() {
    check_cases(&district(1, 60));
    check_cases(&district(7, 60));
    check_cases(&district(7, 20));
}

#[test]
fn the_same_seed_gives_the_same_district() {
    assert_eq!(district(3, 80), district(3, 80));
    assert_ne!(district(3, 80).users, district(4, 80).users);
}

#[test]
fn the_district_has_the_promised_shape() {
    let config = OneRosterSimConfig::default();
    let d = District::generate(&config);
    let students = d.users.iter().filter(|u| u.role == Role::Student).count();
    assert_eq!(students, config.students);
    let guardians = d.users.iter().filter(|u| u.role.is_guardian()).count();
    assert!(
        (60..=160).contains(&guardians),
        "about 1.6 guardians per student: {guardians}"
    );
    assert_eq!(d.orgs.len(), config.schools + 1);
    assert_eq!(d.classes.len(), config.schools * config.classes_per_school);
    for s in d.users.iter().filter(|u| u.role == Role::Student) {
        let n = d
            .enrollments
            .iter()
            .filter(|e| e.user == s.sourced_id)
            .count();
        assert!((2..=4).contains(&n), "{} has {n} classes", s.sourced_id);
        assert_eq!(s.user_ids[0].kind, "FED");
        assert!(!s.identifier.is_empty());
    }
    for c in &d.classes {
        let primary = d
            .enrollments
            .iter()
            .filter(|e| e.class == c.sourced_id && e.role == EnrollmentRole::Teacher && e.primary)
            .count();
        assert_eq!(primary, 1, "{}", c.sourced_id);
    }
    assert!(d.users.is_sorted_by(|a, b| a.sourced_id <= b.sourced_id));
}

#[test]
fn ground_truth_links_follow_agents_either_way_between_active_users() {
    let d = district(1, 60);
    let c = &d.cases;
    let links = d.expected_guardian_links();
    let has = |g: &str, s: &str| links.iter().any(|(lg, ls, _)| lg == g && ls == s);
    assert!(has(
        &c.agent_student_side_guardian,
        &c.agent_student_side_student
    ));
    assert!(has(
        &c.agent_guardian_side_guardian,
        &c.agent_guardian_side_student
    ));
    assert!(has(
        &c.disabled_guardian,
        &d.user(&c.disabled_guardian).expect("g").agents[0]
    ));
    assert!(!links.iter().any(|(g, _, _)| *g == c.tobedeleted_guardian));
    assert!(!links
        .iter()
        .any(|(_, s, _)| *s == c.tobedeleted_student || *s == c.inactive_student));
    assert!(!links.iter().any(|(g, _, _)| *g == c.dangling_agent_id));
    for (role, id) in &c.role_guardians {
        assert!(links.iter().any(|(g, _, r)| g == id && r == role));
    }
    assert!(d.active_students().contains(&c.guardianless_student));
    assert!(!d.active_students().contains(&c.inactive_student));
    assert!(d.active_staff().contains(&c.district_admin));
    assert!(!d.active_classes().contains(&c.tobedeleted_class));

    let mut removed = d.clone();
    assert!(removed.remove(&c.two_students_guardian));
    assert!(!removed
        .expected_guardian_links()
        .iter()
        .any(|(g, _, _)| *g == c.two_students_guardian));
    removed.shares_nothing = true;
    assert!(removed.expected_guardian_links().is_empty());
}

#[test]
fn users_render_in_the_shape_of_each_version() {
    let d = district(1, 60);
    let ctx = |version| Ctx {
        version,
        origin: "http://h:1",
        district: &d,
    };
    let teacher = d.user(&d.cases.two_school_teacher).expect("teacher");
    let v11 = teacher.render(&ctx(Version::V1p1));
    assert_eq!(v11["role"], "teacher");
    assert_eq!(v11["orgs"].as_array().map(Vec::len), Some(2));
    assert_eq!(v11["enabledUser"], "true");
    assert!(v11.get("roles").is_none());
    let v12 = teacher.render(&ctx(Version::V1p2));
    assert!(v12.get("role").is_none() && v12.get("orgs").is_none());
    assert_eq!(v12["roles"][0]["roleType"], "primary");
    assert_eq!(v12["roles"][1]["roleType"], "secondary");
    assert_eq!(v12["primaryOrg"]["sourcedId"], teacher.orgs[0].as_str());
    let admin = d.user(&d.cases.district_admin).expect("admin");
    assert_eq!(admin.render(&ctx(Version::V1p1))["role"], "administrator");
    assert_eq!(
        admin.render(&ctx(Version::V1p2))["roles"][0]["role"],
        "districtAdministrator"
    );
    let preferred = d.user(&d.cases.preferred_name_student).expect("student");
    assert!(preferred
        .render(&ctx(Version::V1p1))
        .get("preferredFirstName")
        .is_none());
    assert!(preferred
        .render(&ctx(Version::V1p2))
        .get("preferredFirstName")
        .is_some());
    let odd = d.class(&d.cases.odd_id_class).expect("class");
    let enrollment = d
        .enrollments
        .iter()
        .find(|e| e.class == odd.sourced_id)
        .expect("enrollment");
    let rendered = enrollment.render(&ctx(Version::V1p1));
    assert_eq!(
        rendered["class"]["href"],
        "http://h:1/ims/oneroster/v1p1/classes/c-0%20A%2BB"
    );
    assert_eq!(rendered["primary"], "true");
}

#[test]
fn generation_is_linear_in_the_number_of_students() {
    let started = Instant::now();
    let d = district(5, 20_000);
    let elapsed = started.elapsed();
    let students = d.users.iter().filter(|u| u.role == Role::Student).count();
    assert_eq!(students, 20_000);
    assert!(
        elapsed.as_secs_f64() < 10.0,
        "20 000 students took {elapsed:?}"
    );
    check_cases(&d);
}
