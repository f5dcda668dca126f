//! The OneRoster simulator over real HTTP: paging to the end, filters in both versions,
//! selection and filter errors, a short-page fault, status changes and withdrawals, every
//! case of the generated district, and pages of ten thousand.

mod common;

use std::collections::BTreeSet;

use common::oneroster::*;
use common::send;
use rostersync_sim::oneroster::oauth::encode;
use rostersync_sim::oneroster::{Fault, FaultKind, Match, OneRosterSimConfig, Simulator};
use serde_json::Value;

#[tokio::test]
async fn oneroster_paging_walks_every_user_with_total_count_and_link_headers() {
    let sim = default_sim().await;
    let total = sim.district(|d| d.users().len());
    for root in [V11, V12] {
        let mut target = format!("{root}/users?limit=7");
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let answer = signed_get(&sim, &target).await;
            assert_eq!(answer.status, 200);
            assert_eq!(
                answer.header("x-total-count"),
                Some(total.to_string().as_str())
            );
            let link = answer.header("link").expect("link").to_owned();
            assert!(link.contains("rel=\"last\"") && link.contains("rel=\"first\""));
            seen.extend(ids(&answer.json(), "users"));
            pages += 1;
            match next_link(&answer) {
                Some(next) => {
                    assert!(next.starts_with(&sim.base_url()), "absolute: {next}");
                    target = next.trim_start_matches(&sim.base_url()).to_owned();
                }
                None => break,
            }
        }
        assert_eq!(pages, total.div_ceil(7));
        assert_eq!(seen.len(), total);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "default order is sourcedId ascending");
    }
    let clamped = signed_get(&sim, &format!("{V11}/users?limit=999999")).await;
    assert_eq!(ids(&clamped.json(), "users").len(), total);
    for bad in ["limit=abc", "limit=-1", "limit=0", "offset=x"] {
        let refused = signed_get(&sim, &format!("{V11}/users?{bad}")).await;
        assert_eq!(refused.status, 400, "{bad}");
        assert_eq!(refused.json()["imsx_codeMajor"], "failure");
    }
    let desc = signed_get(
        &sim,
        &format!("{V11}/users?sort=familyName&orderBy=desc&limit=500"),
    )
    .await;
    let names: Vec<String> = desc.json()["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["familyName"].as_str().expect("name").to_owned())
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]));
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_a_role_filter_works_in_both_versions() {
    let sim = default_sim().await;
    let expected: BTreeSet<String> = sim.district(|d| {
        d.users()
            .iter()
            .filter(|u| u.role.v1p1() == "parent" || u.role.v1p1() == "guardian")
            .map(|u| u.sourced_id.clone())
            .collect()
    });
    let q = query(&[
        ("filter", "role='parent' OR role='guardian'"),
        ("limit", "10000"),
    ]);
    let v11 = signed_get(&sim, &format!("{V11}/users?{q}")).await.json();
    for user in v11["users"].as_array().expect("users") {
        assert!(user["role"] == "parent" || user["role"] == "guardian");
    }
    assert_eq!(
        ids(&v11, "users").into_iter().collect::<BTreeSet<_>>(),
        expected
    );
    // A 1.2 user has no `role`: a strict 1.2 server refuses a filter naming it
    // (reference §8, [OAS12]); its roles are `roles[].role`.
    let refused = signed_get(&sim, &format!("{V12}/users?{q}")).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.text().contains("invalid_filter_field"),
        "{}",
        refused.text()
    );
    let q = query(&[
        ("filter", "roles.role='parent' OR roles.role='guardian'"),
        ("limit", "10000"),
    ]);
    let v12 = signed_get(&sim, &format!("{V12}/users?{q}")).await.json();
    for user in v12["users"].as_array().expect("users") {
        assert!(user.get("role").is_none());
        let role = &user["roles"][0]["role"];
        assert!(role == "parent" || role == "guardian");
    }
    assert_eq!(
        ids(&v12, "users").into_iter().collect::<BTreeSet<_>>(),
        expected
    );

    // 1.2 roles differ from 1.1 for administrators.
    let q = query(&[("filter", "roles.role='districtAdministrator'")]);
    let admins = ids(
        &signed_get(&sim, &format!("{V12}/users?{q}")).await.json(),
        "users",
    );
    assert_eq!(
        admins,
        vec![sim.district(|d| d.cases.district_admin.clone())]
    );
    let q = query(&[("filter", "role='administrator'")]);
    let admins = ids(
        &signed_get(&sim, &format!("{V11}/users?{q}")).await.json(),
        "users",
    );
    assert_eq!(admins.len(), 1 + sim.config().schools);

    // A delta filter.
    let q = query(&[("filter", "dateLastModified>'2030-01-01T00:00:00Z'")]);
    let none = signed_get(&sim, &format!("{V11}/users?{q}")).await;
    assert_eq!(none.header("x-total-count"), Some("0"));
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_unknown_filter_and_selection_fields_answer_400() {
    let sim = default_sim().await;
    let q = query(&[("filter", "shoeSize='9'")]);
    let bad = signed_get(&sim, &format!("{V11}/users?{q}")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(minor(&bad.json()), "invalid_filter_field");
    let q = query(&[("filter", "role='parent' AND")]);
    assert_eq!(
        signed_get(&sim, &format!("{V11}/users?{q}")).await.status,
        400
    );
    let bad = signed_get(&sim, &format!("{V12}/users?fields=sourcedId,shoeSize")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(minor(&bad.json()), "invalid_selection_field");
    let bad = signed_get(&sim, &format!("{V12}/users?fields=orgs")).await;
    assert_eq!(bad.status, 400, "orgs is not a 1.2 field");
    let projected = signed_get(&sim, &format!("{V11}/users?fields=sourcedId,role&limit=2"))
        .await
        .json();
    for user in projected["users"].as_array().expect("users") {
        let keys: BTreeSet<&str> = user
            .as_object()
            .expect("obj")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["sourcedId", "role"]));
    }
    let missing = signed_get(&sim, &format!("{V11}/users/nobody")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(minor(&missing.json()), "unknownobject");
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_faults_fire_before_auth_and_are_logged() {
    let sim = default_sim().await;
    sim.inject(Fault::new(
        Match::get(format!("{V11}/users")),
        FaultKind::ShortPage,
    ));
    let short = signed_get(&sim, &format!("{V11}/users?limit=10")).await;
    assert_eq!(short.status, 200);
    let total = sim.district(|d| d.users().len());
    assert_eq!(
        short.header("x-total-count"),
        Some(total.to_string().as_str())
    );
    assert_eq!(ids(&short.json(), "users").len(), 9);
    assert_eq!(sim.faults_fired(), 1);
    let logged = sim.requests().pop().expect("logged");
    assert_eq!(logged.fault, Some(FaultKind::ShortPage));

    sim.inject(Fault::new(Match::path(V12), FaultKind::Status500));
    let unsigned = send(&sim.base_url(), "GET", &format!("{V12}/users"), &[], b"").await;
    assert_eq!(unsigned.status, 500, "the fault fires before auth");
    assert_eq!(minor(&unsigned.json()), "internal_server_error");
    sim.inject(Fault::new(
        Match::any(),
        FaultKind::TooManyRequests {
            retry_after_secs: 7,
        },
    ));
    let busy = signed_get(&sim, &format!("{V12}/users")).await;
    assert_eq!(busy.status, 429);
    assert_eq!(busy.header("retry-after"), Some("7"));
    assert_eq!(minor(&busy.json()), "server_busy");
    sim.inject(Fault::new(Match::any(), FaultKind::MalformedJson));
    let broken = signed_get(&sim, &format!("{V12}/users")).await;
    assert!(serde_json::from_slice::<Value>(&broken.body).is_err());
    assert_eq!(sim.faults_fired(), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_status_changes_withdrawals_and_odd_ids_are_served() {
    let sim = default_sim().await;
    let cases = sim.district(|d| d.cases.clone());
    let student = cases.two_students[1].clone();
    let before = signed_get(&sim, &format!("{V11}/users/{student}"))
        .await
        .json();
    sim.set_status(&student, "tobedeleted");
    let after = signed_get(&sim, &format!("{V11}/users/{student}"))
        .await
        .json();
    assert_eq!(after["user"]["status"], "tobedeleted");
    assert!(
        after["user"]["dateLastModified"].as_str() > before["user"]["dateLastModified"].as_str()
    );
    let q = query(&[("filter", "status='tobedeleted'"), ("limit", "1000")]);
    let listed = ids(
        &signed_get(&sim, &format!("{V11}/students?{q}"))
            .await
            .json(),
        "users",
    );
    assert!(listed.contains(&student) && listed.contains(&cases.tobedeleted_student));
    let inactive = signed_get(&sim, &format!("{V11}/users/{}", cases.inactive_student))
        .await
        .json();
    assert_eq!(inactive["user"]["status"], "inactive");

    let guardian = cases.two_students_guardian.clone();
    sim.remove(&guardian);
    assert_eq!(
        signed_get(&sim, &format!("{V12}/users/{guardian}"))
            .await
            .status,
        404
    );
    let sibling = signed_get(&sim, &format!("{V12}/users/{}", cases.two_students[0]))
        .await
        .json();
    assert!(!ids(&sibling["user"], "agents").contains(&guardian));
    sim.restore(&guardian);
    assert_eq!(
        signed_get(&sim, &format!("{V12}/users/{guardian}"))
            .await
            .status,
        200
    );

    let odd = signed_get(
        &sim,
        &format!("{V11}/classes/{}", encode(&cases.odd_id_class)),
    )
    .await;
    assert_eq!(odd.status, 200);
    assert_eq!(
        odd.json()["class"]["sourcedId"],
        cases.odd_id_class.as_str()
    );
    let members = signed_get(
        &sim,
        &format!("{V11}/classes/{}/teachers", encode(&cases.odd_id_class)),
    )
    .await;
    assert_eq!(members.status, 200);
    assert!(!ids(&members.json(), "users").is_empty());

    let teacher = signed_get(
        &sim,
        &format!("{V12}/teachers/{}", cases.two_school_teacher),
    )
    .await
    .json();
    assert_eq!(teacher["user"]["roles"].as_array().map(Vec::len), Some(2));
    let classes = signed_get(
        &sim,
        &format!("{V11}/students/{}/classes", cases.guardianless_student),
    )
    .await;
    assert!((2..=4).contains(&ids(&classes.json(), "classes").len()));
    let school = sim.district(|d| d.user(&cases.guardianless_student).expect("s").orgs[0].clone());
    let at_school = signed_get(&sim, &format!("{V11}/schools/{school}/students?limit=1000"))
        .await
        .json();
    assert!(ids(&at_school, "users").contains(&cases.guardianless_student));
    let second = signed_get(
        &sim,
        &format!(
            "{V11}/classes/{}/teachers",
            encode(&cases.second_teacher_class)
        ),
    )
    .await;
    assert_eq!(ids(&second.json(), "users").len(), 2);

    sim.share_nothing();
    for path in ["users", "orgs", "classes", "enrollments"] {
        let empty = signed_get(&sim, &format!("{V12}/{path}")).await;
        assert_eq!(empty.status, 200);
        assert_eq!(empty.header("x-total-count"), Some("0"));
        assert_eq!(ids(&empty.json(), path).len(), 0);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_every_case_is_served_in_seed_1_and_seed_7() {
    for seed in [1, 7] {
        let sim = Simulator::start(OneRosterSimConfig {
            seed,
            ..OneRosterSimConfig::default()
        })
        .await
        .expect("start");
        let c = sim.district(|d| d.cases.clone());
        let mut users: Vec<String> = vec![
            c.agent_student_side_guardian.clone(),
            c.agent_student_side_student.clone(),
            c.agent_guardian_side_guardian.clone(),
            c.agent_guardian_side_student.clone(),
            c.sms_only_guardian.clone(),
            c.phone_only_guardian.clone(),
            c.sms_and_phone_guardian.clone(),
            c.no_phone_guardian.clone(),
            c.disabled_guardian.clone(),
            c.tobedeleted_guardian.clone(),
            c.tobedeleted_student.clone(),
            c.inactive_student.clone(),
            c.two_students_guardian.clone(),
            c.guardianless_student.clone(),
            c.preferred_name_student.clone(),
            c.two_school_teacher.clone(),
            c.district_admin.clone(),
            c.dangling_agent_student.clone(),
        ];
        users.extend(c.role_guardians.values().cloned());
        users.extend(c.two_students.iter().cloned());
        users.extend(c.site_admins.iter().cloned());
        let all: BTreeSet<String> = ids(
            &signed_get(&sim, &format!("{V11}/users?limit=10000"))
                .await
                .json(),
            "users",
        )
        .into_iter()
        .collect();
        for id in &users {
            assert!(!id.is_empty() && all.contains(id), "seed {seed}: {id:?}");
        }
        for class in [
            &c.tobedeleted_class,
            &c.second_teacher_class,
            &c.odd_id_class,
        ] {
            let answer = signed_get(&sim, &format!("{V12}/classes/{}", encode(class))).await;
            assert_eq!(answer.status, 200, "seed {seed}: class {class}");
        }
        let disabled = signed_get(&sim, &format!("{V11}/users/{}", c.disabled_guardian))
            .await
            .json();
        assert_eq!(disabled["user"]["enabledUser"], "false");
        let preferred = signed_get(&sim, &format!("{V12}/users/{}", c.preferred_name_student))
            .await
            .json();
        assert!(preferred["user"]["preferredFirstName"].is_string());
        let dangling = signed_get(&sim, &format!("{V11}/users/{}", c.dangling_agent_student))
            .await
            .json();
        assert!(ids(&dangling["user"], "agents").contains(&c.dangling_agent_id));
        sim.shutdown().await;
    }
}

/// A 100 000-student district: generated in seconds, every `/users` page of 10 000
/// rendered well under a second.
#[tokio::test]
async fn oneroster_a_large_district_pulls_in_pages_of_ten_thousand() {
    let started = std::time::Instant::now();
    let sim = Simulator::start(OneRosterSimConfig {
        students: 100_000,
        schools: 40,
        ..OneRosterSimConfig::default()
    })
    .await
    .expect("start");
    let generated = started.elapsed();
    let total = sim.district(|d| d.users().len());
    let bearer = [("Authorization", format!("Bearer {}", sim.district_bearer()))];
    let mut seen = 0;
    let mut slowest = std::time::Duration::ZERO;
    let mut offset = 0;
    loop {
        let target = format!("{V11}/users?limit=10000&offset={offset}");
        let asked = std::time::Instant::now();
        let page = send(&sim.base_url(), "GET", &target, &bearer, b"").await;
        slowest = slowest.max(asked.elapsed());
        assert_eq!(page.status, 200);
        // Every 1.1 user carries one `"password"` key; counting them is cheaper than
        // parsing 10 000 records in an unoptimised test build.
        let n = page.text().matches("\"password\":").count();
        seen += n;
        offset += 10_000;
        if n < 10_000 {
            break;
        }
    }
    assert_eq!(seen, total);
    eprintln!("generated {total} users in {generated:?}; slowest page {slowest:?}");
    assert!(generated.as_secs() < 30, "generation took {generated:?}");
    assert!(slowest.as_secs_f64() < 3.0, "slowest page took {slowest:?}");
    sim.shutdown().await;
}
