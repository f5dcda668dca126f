//! Clever's list envelope and paging over real HTTP: `limit` bounds, `starting_after`
//! walks to the end, `next` only while records remain, `prev`, `ending_before`, single
//! reads, unknown ids, and the nested lists.

mod common;

use std::collections::BTreeSet;

use common::clever::{default_sim, ids, link, next_link, records, start};
use rostersync_sim::clever::{CleverSimConfig, Role};
use serde_json::Value;

#[tokio::test]
async fn a_list_answer_is_the_documented_envelope() {
    let (sim, client) = default_sim().await;
    let answer = client.get("/v3.0/users?role=student&limit=3").await;
    assert_eq!(answer.status, 200);
    assert!(answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    let body = answer.json();
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["data", "links"]));
    let data = body["data"].as_array().expect("data list");
    assert_eq!(data.len(), 3);
    for item in data {
        let id = item["data"]["id"].as_str().expect("id");
        assert_eq!(item["uri"], format!("/v3.0/users/{id}").as_str());
        assert!(item["data"]["roles"]["student"].is_object());
        assert_eq!(item["data"]["district"], sim.district_id());
    }
    assert_eq!(
        link(&body, "self").as_deref(),
        Some("/v3.0/users?role=student&limit=3")
    );
    let last = data[2]["data"]["id"].as_str().expect("id");
    assert_eq!(
        next_link(&body),
        Some(format!(
            "/v3.0/users?role=student&limit=3&starting_after={last}"
        ))
    );
    assert_eq!(link(&body, "prev"), None, "no prev without starting_after");
    let one = client.get(&format!("/v3.1/users/{last}")).await.json();
    let keys: Vec<&str> = one
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, vec!["data"]);
    assert_eq!(one["data"]["id"], last);
    sim.shutdown().await;
}

#[tokio::test]
async fn starting_after_walks_every_list_to_the_end_in_id_order() {
    let (sim, client) = start(CleverSimConfig {
        students: 120,
        ..CleverSimConfig::default()
    })
    .await;
    for (role, path) in [
        (Some(Role::Student), "/v3.0/users?role=student&limit=7"),
        (Some(Role::Contact), "/v3.1/users?role=contact&limit=10"),
        (Some(Role::Teacher), "/v3.0/users?role=teacher&limit=4"),
        (Some(Role::Staff), "/v3.0/users?role=staff&limit=2"),
        (None, "/v3.0/users?limit=50"),
    ] {
        let (found, pages) = client.walk(path).await;
        let found: Vec<String> = found
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect();
        let expected: Vec<String> = sim.district(|d| {
            d.users
                .iter()
                .filter(|u| role.is_none_or(|r| u.has_role(r)))
                .map(|u| u.id.clone())
                .collect()
        });
        assert_eq!(found, expected, "{path}");
        let limit: usize = path
            .rsplit('=')
            .next()
            .and_then(|l| l.parse().ok())
            .expect("limit");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit).max(1),
            "{path}: no empty last page"
        );
    }
    let (sections, _) = client.walk("/v3.0/sections?limit=9").await;
    assert_eq!(sections.len(), sim.district(|d| d.sections.len()));
    let (schools, _) = client.walk("/v3.0/schools").await;
    assert_eq!(schools.len(), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_last_page_has_no_next_and_prev_follows_starting_after() {
    let (sim, client) = default_sim().await;
    let all = ids(&client
        .get("/v3.0/users?role=student&limit=10000")
        .await
        .json());
    assert_eq!(all.len(), 60);
    let body = client
        .get("/v3.0/users?role=student&limit=10000")
        .await
        .json();
    assert_eq!(next_link(&body), None);
    let after = &all[49];
    let body = client
        .get(&format!(
            "/v3.0/users?role=student&starting_after={after}&limit=10"
        ))
        .await
        .json();
    assert_eq!(ids(&body), all[50..].to_vec());
    assert_eq!(next_link(&body), None, "exactly the last records: no next");
    assert_eq!(
        link(&body, "prev"),
        Some(format!(
            "/v3.0/users?role=student&ending_before={}&limit=10",
            all[50]
        ))
    );
    let prev = client.get(&link(&body, "prev").expect("prev")).await.json();
    assert_eq!(
        ids(&prev),
        all[40..50].to_vec(),
        "ending_before pages backwards"
    );
    let past = client
        .get(&format!(
            "/v3.0/users?role=student&starting_after={}",
            all[59]
        ))
        .await
        .json();
    assert_eq!(ids(&past), Vec::<String>::new());
    assert_eq!(next_link(&past), None);
    assert!(
        link(&past, "prev").is_some(),
        "a starting_after page carries prev"
    );
    let default = client.get("/v3.0/users").await.json();
    assert_eq!(
        default["data"].as_array().map(Vec::len),
        Some(100),
        "limit defaults to 100"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn limit_is_checked() {
    let (sim, client) = default_sim().await;
    let ok = client.get("/v3.0/users?limit=10000").await;
    assert_eq!(ok.status, 200);
    let over = client.get("/v3.0/users?limit=10001").await;
    assert_eq!(over.status, 413);
    assert!(over.json()["message"].is_string());
    for bad in [
        "limit=abc",
        "limit=0",
        "limit=-5",
        "starting_after=zz",
        "role=parent",
    ] {
        let answer = client.get(&format!("/v3.0/users?{bad}")).await;
        assert_eq!(answer.status, 400, "{bad}");
        assert!(answer.json()["message"].is_string(), "{bad}");
    }
    let capped = start(CleverSimConfig {
        max_limit: 5,
        ..CleverSimConfig::default()
    })
    .await;
    assert_eq!(capped.1.get("/v3.0/schools?limit=6").await.status, 413);
    capped.0.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_and_paths_answer_404_with_a_message() {
    let (sim, client) = default_sim().await;
    for path in [
        "/v3.0/users/000000000000000000000000",
        "/v3.0/schools/000000000000000000000000",
        "/v3.0/sections/000000000000000000000000",
        "/v3.0/districts/000000000000000000000000",
        "/v3.0/users/000000000000000000000000/mycontacts",
        "/v3.0/nothing",
        "/v2.1/users",
    ] {
        let answer = client.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.json()["message"].is_string(), "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_district_and_the_nested_lists() {
    let (sim, client) = default_sim().await;
    let body = client.get("/v3.0/districts").await.json();
    assert_eq!(ids(&body), vec![sim.district_id().to_owned()]);
    let one = client
        .get(&format!("/v3.0/districts/{}", sim.district_id()))
        .await
        .json();
    assert_eq!(one["data"]["id"], sim.district_id());
    assert!(one["data"]["district_contact"]["email"].is_string());
    let c = sim.district(|d| d.cases.clone());
    let contacts = ids(&client
        .get(&format!("/v3.0/users/{}/mycontacts", c.two_students[1]))
        .await
        .json());
    assert!(contacts.contains(&c.two_students_contact));
    let students = ids(&client
        .get(&format!(
            "/v3.0/users/{}/mystudents",
            c.two_students_contact
        ))
        .await
        .json());
    assert_eq!(students, c.two_students);
    let none = records(
        &client
            .get(&format!("/v3.0/users/{}/mycontacts", c.contactless_student))
            .await
            .json(),
    );
    assert!(none.is_empty());
    let section = c.two_teacher_section.clone();
    let teachers = ids(&client
        .get(&format!("/v3.0/sections/{section}/users?role=teacher"))
        .await
        .json());
    assert_eq!(teachers.len(), 2);
    let taught = ids(&client
        .get(&format!("/v3.0/sections/{section}/users?role=student"))
        .await
        .json());
    let expected = sim.district(|d| {
        d.section(&section)
            .map(|s| s.students.clone())
            .unwrap_or_default()
    });
    assert_eq!(taught, expected);
    let teacher_sections = ids(&client
        .get(&format!("/v3.0/users/{}/sections", teachers[0]))
        .await
        .json());
    assert!(!teacher_sections.is_empty());
    let school = sim.district(|d| d.schools[1].id.clone());
    let at_school: Vec<Value> = records(
        &client
            .get(&format!(
                "/v3.0/schools/{school}/users?role=teacher&limit=10000"
            ))
            .await
            .json(),
    );
    assert!(at_school
        .iter()
        .any(|t| t["id"] == c.two_school_teacher.as_str()));
    assert!(at_school.iter().all(|t| t["roles"]["teacher"].is_object()));
    let students = records(
        &client
            .get(&format!(
                "/v3.0/schools/{school}/users?role=student&limit=10000"
            ))
            .await
            .json(),
    );
    assert!(students.iter().all(|s| s["roles"]["student"]["schools"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == school.as_str()))));
    assert_eq!(
        client
            .get(&format!("/v3.0/schools/{school}/users?role=contact"))
            .await
            .status,
        400
    );
    sim.shutdown().await;
}
