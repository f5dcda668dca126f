//! The service as support meets it with grpcurl: services listed by reflection, health,
//! districts created and read back, errors that name the field or id, a clean SIGTERM,
//! and a log that never holds a secret.

use store::Backend;

use crate::harness::{
    assert_file_lacks, powerschool_district_json, stderr, stdout, Server, TEST_SECRET,
};

#[tokio::test]
async fn grpcurl_tour_on_sqlite() {
    let mut server = Server::start(Backend::Sqlite).await;

    let list = server.grpcurl(&[], &["list"]);
    assert!(list.status.success(), "list failed: {}", stderr(&list));
    let services: Vec<String> = stdout(&list).lines().map(str::to_owned).collect();
    assert_eq!(
        services,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "rostersync.v1.SyncService",
        ]
    );

    let describe = server.grpcurl(&[], &["describe", "rostersync.v1.SyncService"]);
    assert!(
        stdout(&describe).contains("rpc CreateDistrict"),
        "{}",
        stdout(&describe)
    );

    let health = server.grpcurl(&[], &["grpc.health.v1.Health/Check"]);
    assert!(
        stdout(&health).contains("\"status\": \"SERVING\""),
        "{}",
        stdout(&health)
    );
    let health = server.grpcurl(
        &["-d", r#"{"service":"rostersync.v1.SyncService"}"#],
        &["grpc.health.v1.Health/Check"],
    );
    assert!(
        stdout(&health).contains("\"status\": \"SERVING\""),
        "{}",
        stdout(&health)
    );

    let body = powerschool_district_json("cbe");
    let created = server.grpcurl(
        &["-d", &body],
        &["rostersync.v1.SyncService/CreateDistrict"],
    );
    assert!(
        created.status.success(),
        "create failed: {}",
        stderr(&created)
    );
    assert!(!stdout(&created).contains(TEST_SECRET));

    let read = server.grpcurl(
        &["-d", r#"{"district_id":"cbe"}"#],
        &["rostersync.v1.SyncService/GetDistrict"],
    );
    assert!(read.status.success(), "get failed: {}", stderr(&read));
    let district: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
    assert_eq!(district["districtId"], "cbe");
    assert_eq!(district["timeZone"], "America/Edmonton");
    assert_eq!(district["connector"]["kind"], "powerschool");
    assert_eq!(
        district["connector"]["settings"]["base_url"],
        "https://cbe.powerschool.example"
    );
    assert!(district["connector"]["settings"]
        .get("client_secret")
        .is_none());
    assert_eq!(district["connector"]["secretsSet"][0], "client_secret");
    assert!(
        !stdout(&read).contains(TEST_SECRET),
        "the secret came back: {}",
        stdout(&read)
    );

    // An update of the fields the mask names, with the etag just read; the same etag
    // again is stale.
    let etag = district["etag"].as_str().expect("an etag").to_owned();
    let update = format!(
        r#"{{"district":{{"district_id":"cbe","etag":"{etag}",
            "settings":{{"daily_sync_enabled":true,
                         "thresholds":{{"students_archived":{{"max_percent":5}}}}}}}},
            "update_mask":{{"paths":["settings.daily_sync_enabled",
                                     "settings.thresholds.students_archived"]}}}}"#
    );
    let updated = server.grpcurl(
        &["-d", &update],
        &["rostersync.v1.SyncService/UpdateDistrict"],
    );
    assert!(
        updated.status.success(),
        "update failed: {}",
        stderr(&updated)
    );
    let after: serde_json::Value = serde_json::from_slice(&updated.stdout).expect("json");
    assert_eq!(after["settings"]["dailySyncEnabled"], true);
    assert_eq!(
        after["settings"]["thresholds"]["studentsArchived"]["maxPercent"],
        5.0
    );
    assert_eq!(
        after["settings"]["manageGuardians"], true,
        "not in the mask"
    );
    assert_ne!(after["etag"], district["etag"]);
    let stale = server.grpcurl(
        &["-d", &update],
        &["rostersync.v1.SyncService/UpdateDistrict"],
    );
    let err = stderr(&stale);
    assert!(err.contains("Code: Aborted"), "{err}");

    let no_url = r#"{"district":{"district_id":"no-url","name":"No URL","time_zone":"America/Edmonton",
        "connector":{"kind":"powerschool","settings":{"client_id":"x"},"secrets":{"client_secret":"y"}}}}"#;
    let refused = server.grpcurl(
        &["-d", no_url],
        &["rostersync.v1.SyncService/CreateDistrict"],
    );
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(err.contains("Code: InvalidArgument"), "{err}");
    assert!(
        err.contains("base_url"),
        "the error must name base_url: {err}"
    );

    let missing = server.grpcurl(
        &["-d", r#"{"district_id":"atlantis"}"#],
        &["rostersync.v1.SyncService/GetDistrict"],
    );
    let err = stderr(&missing);
    assert!(err.contains("Code: NotFound"), "{err}");
    assert!(
        err.contains("atlantis"),
        "the error must name the id: {err}"
    );

    let status = server.stop();
    assert!(
        status.success(),
        "SIGTERM must end the server cleanly: {status:?}"
    );
    let log = server.log();
    assert!(
        log.contains("district created"),
        "the log recorded the create: {log}"
    );
    assert_file_lacks(&server.log_path(), TEST_SECRET);
}

#[tokio::test]
async fn reflection_v1_lists_the_same_services_as_v1alpha() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let server = Server::start(Backend::Sqlite).await;
    let channel = tonic::transport::Channel::from_shared(server.url())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection v1 call")
        .into_inner();
    let answer = responses
        .message()
        .await
        .expect("a response")
        .expect("not empty");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("expected a service list, got {answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "rostersync.v1.SyncService",
        ]
    );
}
