//! What the people who run the service rely on: Prometheus metrics on their own
//! listener that move with runs, source requests, 429s, threshold trips and spot syncs,
//! and log lines of a run that carry its district and run id.

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{Fault, FaultKind, Match, SimConfig, Simulator};
use store::Backend;

use crate::harness::{create_sim_district, run_to_end, Server};

store::on_both_backends!(metrics_move_with_runs_429s_trips_and_spot_syncs);

const DISTRICT: &str = "ops";

/// The value of the sample `name{labels}` (labels as Prometheus prints them, sorted).
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
}

async fn metrics_move_with_runs_429s_trips_and_spot_syncs(backend: Backend) {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start_with(backend, &[("ROSTERSYNC_METRICS_LISTEN", "127.0.0.1:0")]).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    sim.inject(
        Fault::new(
            Match::get("/ws/v1/school/"),
            FaultKind::TooManyRequests {
                retry_after_secs: 0,
            },
        )
        .times(2),
    );
    let run = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    assert_eq!(sim.faults_fired(), 2, "the 429s happened");
    let students = run.fetched.get("students").copied().unwrap_or_default() as f64;

    // A spot sync of one student.
    let d: DistrictId = DISTRICT.parse().expect("id");
    let store = server.store().await;
    let first = sim.district(|x| x.expected_students()[0].source_id.clone());
    let student = store
        .find_student_by_source(&d, &SourceId::new(first.as_str()))
        .await
        .expect("student");
    client
        .spot_sync(pb::SpotSyncRequest {
            district_id: DISTRICT.into(),
            user: Some(pb::spot_sync_request::User::StudentId(
                student.id.to_string(),
            )),
            dry_run: true,
            request_id: String::new(),
        })
        .await
        .expect("spot sync");

    // Half the students leave: the run pauses on the students_archived threshold.
    sim.edit(|x| {
        let leaving: Vec<u64> = x
            .expected_students()
            .iter()
            .filter_map(|s| s.source_id.as_str().parse().ok())
            .step_by(2)
            .collect();
        for dcid in leaving {
            if let Some(s) = x.student_mut(dcid) {
                s.enroll_status_code = 2;
            }
        }
    });
    let paused = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");

    let page = server.scrape_metrics().await;
    let expect = |series: &str| {
        sample(&page, series).unwrap_or_else(|| panic!("no sample {series} in:\n{page}"))
    };
    assert_eq!(
        expect(
            r#"rostersync_runs_total{connector="powerschool",trigger="manual",outcome="succeeded"}"#
        ),
        1.0
    );
    assert_eq!(
        expect(
            r#"rostersync_runs_total{connector="powerschool",trigger="manual",outcome="paused"}"#
        ),
        1.0
    );
    assert!(
        expect(
            r#"rostersync_run_duration_seconds_count{connector="powerschool",trigger="manual"}"#
        ) >= 1.0
    );
    assert_eq!(
        expect(r#"rostersync_records_planned_total{entity="student",operation="create"}"#),
        students
    );
    assert_eq!(
        expect(r#"rostersync_records_applied_total{entity="student",operation="create"}"#),
        students
    );
    assert!(
        expect(r#"rostersync_records_planned_total{entity="student",operation="archive"}"#) >= 1.0
    );
    assert_eq!(
        expect(r#"rostersync_source_throttled_total{source="powerschool"}"#),
        2.0
    );
    assert!(expect(r#"rostersync_source_retries_total{source="powerschool"}"#) >= 2.0);
    assert!(expect(r#"rostersync_source_requests_total{source="powerschool"}"#) > 10.0);
    assert_eq!(
        expect(r#"rostersync_threshold_trips_total{limit="students_archived"}"#),
        1.0
    );
    assert_eq!(
        expect(r#"rostersync_spot_sync_duration_seconds_count{outcome="ok"}"#),
        1.0
    );
    assert!(
        page.contains("rostersync_spot_sync_duration_seconds_bucket{outcome=\"ok\",le=\"0.5\"}")
    );
    assert_eq!(
        expect("rostersync_run_leases_held"),
        0.0,
        "no run is worked now"
    );

    // Every line the run logged carries its district and run id.
    let log = server.log();
    let tag = format!("run{{district={DISTRICT} run={}}}", run.run_id);
    assert!(
        log.lines().filter(|l| l.contains(&tag)).count() >= 3,
        "{tag} in:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(&tag) && l.contains("retrying")),
        "the connector's retry is logged under the run: {log}"
    );
}

/// SIGTERM with a run going and streams open (WatchChanges waits for more forever):
/// the process exits within the shutdown grace, and the run resumes when it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_open_watchers_exits_within_the_grace_and_the_run_resumes() {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    // Slow pages keep the run going while the service is stopped.
    sim.inject(
        Fault::new(
            Match::get("/ws/v1/school/"),
            FaultKind::Delay(std::time::Duration::from_millis(700)),
        )
        .times(1_000),
    );
    let mut server = Server::start(Backend::Sqlite).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    let run = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    let _changes = client
        .watch_changes(pb::WatchChangesRequest {
            district_id: DISTRICT.into(),
            after: String::new(),
            from_now: true,
        })
        .await
        .expect("watch the feed")
        .into_inner();
    let _run_watch = client
        .watch_sync_run(pb::WatchSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: run.run_id.clone(),
        })
        .await
        .expect("watch the run")
        .into_inner();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let asked = std::time::Instant::now();
    let status = server.stop();
    let took = asked.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took <= api::SHUTDOWN_GRACE + std::time::Duration::from_secs(3),
        "stopped in {took:?}"
    );
    assert!(
        server
            .log()
            .contains("calls still open after the shutdown grace"),
        "the open streams held the stop until the grace ran out"
    );
    sim.clear_faults();
    server.restart();
    let mut client = server.client().await;
    let ended = crate::harness::follow_run(&mut client, DISTRICT, &run.run_id).await;
    assert_eq!(ended.state, pb::RunState::Succeeded as i32, "{ended:#?}");
}

/// Silent sockets hold no place for long: past the idle timeout they are closed, and a
/// client that found every place taken is served once they are — the server sheds load
/// and recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_the_cap_sheds_then_recovers() {
    use tokio::io::AsyncReadExt;
    let server = Server::start_with(
        Backend::Sqlite,
        &[
            ("ROSTERSYNC_MAX_CONNECTIONS", "4"),
            ("ROSTERSYNC_IDLE_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(
            tokio::net::TcpStream::connect(&server.addr)
                .await
                .expect("connect"),
        );
    }
    // Every place is held by a silent socket: a real client waits, then is served.
    let started = std::time::Instant::now();
    let mut client = tokio::time::timeout(std::time::Duration::from_secs(30), server.client())
        .await
        .expect("served once the silent sockets are closed");
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.list_connectors(pb::ListConnectorsRequest::default()),
    )
    .await
    .expect("in time")
    .expect("answered");
    assert_eq!(answer.into_inner().connectors.len(), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "the client had to wait for a place: {:?}",
        started.elapsed()
    );
    // The silent ones were closed by the server (after whatever it sent first: its
    // HTTP/2 settings).
    let mut closed = 0;
    for mut s in silent {
        let mut sink = Vec::new();
        if let Ok(Ok(_) | Err(_)) =
            tokio::time::timeout(std::time::Duration::from_secs(15), s.read_to_end(&mut sink)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 10, "every silent socket was closed");
}

/// Out of descriptors, the server neither spins nor floods its log: the accept loop backs
/// off, and once clients let go it serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_backs_off_and_recovers() {
    let server = Server::start_with_nofile(
        Backend::Sqlite,
        &[
            ("ROSTERSYNC_IDLE_TIMEOUT_SECONDS", "3"),
            // Every connection from one client here: its own cap would keep it in bounds.
            ("ROSTERSYNC_MAX_CONNECTIONS_PER_CLIENT", "1000"),
        ],
        96,
    )
    .await;
    // More connections than the server has descriptors for.
    let mut held = Vec::new();
    for _ in 0..160 {
        match tokio::net::TcpStream::connect(&server.addr).await {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let backing_off = server
        .log()
        .lines()
        .filter(|l| l.contains("cannot accept a connection; backing off"))
        .count();
    assert!(backing_off >= 1, "the server ran out of descriptors");
    assert!(
        backing_off < 50,
        "{backing_off} lines: the accept loop must not spin"
    );
    drop(held);
    // It serves again.
    let mut client = tokio::time::timeout(std::time::Duration::from_secs(30), server.client())
        .await
        .expect("served again");
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.list_connectors(pb::ListConnectorsRequest::default()),
    )
    .await
    .expect("in time")
    .expect("answered");
    assert_eq!(answer.into_inner().connectors.len(), 3);
}
