//! WatchRunEvents: an internal service follows every run that ends or is held across the
//! districts its key reaches, and picks up where it left off after reconnecting.

use std::time::Duration;

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;
use tokio_stream::StreamExt;

use crate::access::{cli_key, ALL};
use crate::harness::{create_sim_district, half_the_students_leave, run_to_end, Client, Server};

store::on_both_backends!(a_service_follows_run_events_of_its_districts_and_resumes);

/// The next `n` events of a stream, within a minute.
async fn next_events(stream: &mut tonic::Streaming<pb::RunEvent>, n: usize) -> Vec<pb::RunEvent> {
    let mut got = Vec::new();
    while got.len() < n {
        let item = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("an event in time")
            .expect("the stream stays open")
            .expect("an event");
        got.push(item);
    }
    got
}

async fn watch(client: &mut Client, after: &str, from_now: bool) -> tonic::Streaming<pb::RunEvent> {
    client
        .watch_run_events(pb::WatchRunEventsRequest {
            after: after.into(),
            from_now,
        })
        .await
        .expect("watch")
        .into_inner()
}

async fn a_service_follows_run_events_of_its_districts_and_resumes(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 40,
        schools: 1,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let server = Server::start(backend).await;
    let root_token = cli_key(&server, "root", ALL);
    let mut root = server.client_with(Some(&root_token)).await;
    create_sim_district(&mut root, "alpha", &sim, &[]).await;
    create_sim_district(&mut root, "beta", &sim, &[]).await;
    let alpha_only = root
        .create_api_key(pb::CreateApiKeyRequest {
            name: "alpha-service".into(),
            district_ids: vec!["alpha".into()],
            abilities: vec!["read".into()],
        })
        .await
        .expect("key")
        .into_inner()
        .token;
    let mut service = server.client_with(Some(&alpha_only)).await;
    let mut events = watch(&mut service, "", false).await;
    let mut everything = watch(&mut root, "", false).await;

    let beta = run_to_end(&mut root, "beta", false).await;
    let alpha = run_to_end(&mut root, "alpha", false).await;
    assert_eq!(alpha.state(), pb::RunState::Succeeded, "{alpha:?}");

    // The key of alpha sees alpha's run only; an unscoped key sees both, in order.
    let first = next_events(&mut events, 1).await;
    assert_eq!(first[0].district_id, "alpha");
    assert_eq!(first[0].run_id, alpha.run_id);
    assert_eq!(first[0].outcome(), pb::RunOutcome::Succeeded);
    assert_eq!(first[0].trigger(), pb::RunTrigger::Manual);
    assert!(
        first[0].planned.get("student.create").copied().unwrap_or(0) > 0,
        "{first:?}"
    );
    let both = next_events(&mut everything, 2).await;
    assert_eq!(
        both.iter().map(|e| e.run_id.as_str()).collect::<Vec<_>>(),
        [beta.run_id.as_str(), alpha.run_id.as_str()]
    );

    // Disconnected, the service misses a held run and a dry run; it resumes from its last
    // cursor and gets each once, in order.
    drop(events);
    half_the_students_leave(&sim);
    let held = run_to_end(&mut root, "alpha", false).await;
    assert_eq!(held.state(), pb::RunState::Paused, "{held:?}");
    root.cancel_sync_run(pb::CancelSyncRunRequest {
        district_id: "alpha".into(),
        run_id: held.run_id.clone(),
    })
    .await
    .expect("cancel the held run");
    let mut resumed = watch(&mut service, &first[0].cursor, false).await;
    let missed = next_events(&mut resumed, 2).await;
    assert_eq!(
        missed
            .iter()
            .map(|e| (e.run_id.as_str(), e.outcome()))
            .collect::<Vec<_>>(),
        [
            (held.run_id.as_str(), pb::RunOutcome::Held),
            (held.run_id.as_str(), pb::RunOutcome::Cancelled),
        ]
    );
    assert!(
        missed[0]
            .trips
            .iter()
            .any(|t| t.limit == "students_archived"),
        "{missed:?}"
    );
    assert!(missed[1].first_failure.contains("cancelled"), "{missed:?}");
    // Nothing more: the next event is the next run's.
    let quiet = tokio::time::timeout(Duration::from_millis(800), resumed.next()).await;
    assert!(quiet.is_err(), "no event beyond the missed ones: {quiet:?}");

    // from_now starts after the latest; a cursor of another stream is refused.
    let mut fresh = watch(&mut service, "", true).await;
    let quiet = tokio::time::timeout(Duration::from_millis(800), fresh.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    let bad = service
        .watch_run_events(pb::WatchRunEventsRequest {
            after: "not-a-cursor".into(),
            from_now: false,
        })
        .await
        .expect_err("a cursor this server never gave");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("after"), "{bad:?}");
}
