//! The PowerSchool simulator's gates over real HTTP: the token flow, revocation, the
//! plugin's enable and v1 switches, field grants, and the request log.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{default_sim, Client};
use rostersync_sim::powerschool::{PluginState, Refusal, Refusals, SimConfig, Simulator};
use serde_json::json;

#[tokio::test]
async fn the_token_is_reused_with_a_shrinking_string_expiry_then_renewed() {
    let config = SimConfig {
        token_lifetime: Duration::from_secs(3),
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.expect("start");
    let client = Client::new(sim.base_url());

    let wrong = client.token_request(sim.client_id(), "nope").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json(), json!({ "error": "invalid_client" }));

    let first = client
        .token_request(sim.client_id(), sim.client_secret())
        .await
        .json();
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(
        first["expires_in"], "3",
        "expires_in is a string of seconds"
    );
    sim.advance_token_clock(Duration::from_millis(1100));
    let again = client
        .token_request(sim.client_id(), sim.client_secret())
        .await
        .json();
    assert_eq!(again["access_token"], first["access_token"]);
    assert_eq!(again["expires_in"], "1");

    let mut authed = Client::new(sim.base_url());
    authed.token = first["access_token"].as_str().expect("token").to_owned();
    assert_eq!(authed.get("/ws/v1/district/school").await.status, 200);
    sim.advance_token_clock(Duration::from_millis(2000));
    let expired = authed.get("/ws/v1/district/school").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json(), json!({ "error": "invalid_token" }));
    let renewed = client
        .token_request(sim.client_id(), sim.client_secret())
        .await
        .json();
    assert_ne!(renewed["access_token"], first["access_token"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn revoked_tokens_answer_401_until_a_new_one_is_requested() {
    let (sim, mut client) = default_sim().await;
    assert_eq!(client.get("/ws/v1/metadata").await.status, 200);
    sim.revoke_tokens();
    let revoked = client.get("/ws/v1/metadata").await;
    assert_eq!(revoked.status, 401);
    assert_eq!(revoked.json()["error"], "invalid_token");
    let old = client.token.clone();
    client.login(sim.client_id(), sim.client_secret()).await;
    assert_ne!(client.token, old);
    assert_eq!(client.get("/ws/v1/metadata").await.status, 200);

    let anonymous = Client::new(sim.base_url());
    assert_eq!(anonymous.get("/ws/v1/district/school").await.status, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_plugin_gates_tokens_and_v1_access() {
    let (sim, client) = default_sim().await;
    sim.set_plugin(PluginState {
        v1_access: false,
        ..PluginState::default()
    });
    let refused = client.get("/ws/v1/district/school").await;
    assert_eq!(refused.status, 401);
    assert!(refused.json()["errorMessage"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("accessLevelV1Api")));
    assert_eq!(client.get("/ws/v1/metadata").await.status, 200);
    let table = client.get("/ws/schema/table/codeset?projection=*").await;
    assert_eq!(table.status, 200, "table access does not need v1 access");

    sim.set_plugin(PluginState {
        enabled: false,
        ..PluginState::default()
    });
    let token = client
        .token_request(sim.client_id(), sim.client_secret())
        .await;
    assert_eq!(token.status, 401);
    assert_eq!(token.json()["error"], "invalid_client");
    sim.shutdown().await;
}

#[tokio::test]
async fn ungranted_fields_answer_403() {
    let (sim, client) = default_sim().await;
    let granted: BTreeSet<String> = [
        "studentcontactdetail.studentcontactdetailid",
        "students.dcid",
        "guardian.guardianid",
        "guardian.firstname",
        "guardian.lastname",
        "pcas_account.username",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    sim.set_plugin(PluginState {
        granted: Some(granted),
        ..PluginState::default()
    });
    let table = client
        .get("/ws/schema/table/u_studentcontactdetail?projection=studentcontactdetailid,isdecisionmaking")
        .await;
    assert_eq!(table.status, 403);
    let body = table.json();
    assert_eq!(
        body["message"],
        "At least one column lacks sufficient permission"
    );
    assert_eq!(body["errors"][0]["code"], "NoAccess");
    let ok = client
        .get("/ws/schema/table/studentcontactdetail?projection=studentcontactdetailid")
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        client.get("/ws/schema/table/person/count").await.status,
        200,
        "unfiltered count"
    );
    assert_eq!(
        client
            .get("/ws/schema/table/person/count?q=id==5")
            .await
            .status,
        403
    );
    let query = client
        .post(
            "/ws/schema/query/com.pearson.core.guardian.student_guardian_detail",
            "{}",
        )
        .await;
    assert_eq!(query.status, 403);
    let body = query.json();
    assert_eq!(body["errors"][0]["field"], "pcas_emailcontact.emailaddress");
    assert_eq!(body["errors"][0]["code"], "No access to the field");
    sim.shutdown().await;
}

#[tokio::test]
async fn every_request_is_logged_with_its_status_and_body() {
    let (sim, client) = default_sim().await;
    sim.clear_requests();
    let _ = client.get("/ws/v1/district/school?page=1&pagesize=2").await;
    let _ = client
        .post(
            "/ws/schema/query/com.pearson.core.guardian.student_guardian_detail/count",
            "{\"students_dcid\":[]}",
        )
        .await;
    let _ = client.get("/nowhere").await;
    let log = sim.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].query, "page=1&pagesize=2");
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].body, "{\"students_dcid\":[]}");
    assert_eq!(log[2].status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sections_course_is_named_by_the_course_resource_unless_refused() {
    let (sim, client) = default_sim().await;
    let (course, number, name) = sim.district(|d| {
        let id = d.sections[0].course_id;
        let c = d
            .course(id)
            .expect("every section's course is in the catalogue");
        (id, c.course_number.clone(), c.course_name.clone())
    });
    let answer = client.get(&format!("/ws/v1/course/{course}")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({ "course": { "id": course, "course_number": number, "course_name": name } })
    );
    assert_eq!(
        client.get("/ws/v1/course/1").await.status,
        404,
        "unknown id"
    );
    for (refusal, status) in [(Refusal::Forbidden, 403), (Refusal::NotFound, 404)] {
        sim.set_plugin(PluginState {
            refused: Refusals {
                courses: Some(refusal),
                ..Refusals::default()
            },
            ..PluginState::default()
        });
        let refused = client.get(&format!("/ws/v1/course/{course}")).await;
        assert_eq!(refused.status, status);
    }
    sim.shutdown().await;
}
