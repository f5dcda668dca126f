//! Runs survive the process: a run killed mid-apply resumes at once on restart and ends
//! as an uninterrupted run would; two replicas on one PostgreSQL never run a district at once,
//! a dead replica's run is taken over when its lease lapses, and a cancel sent to another
//! replica stops the run through the store.

use std::time::{Duration, Instant};

use model::ids::{DistrictId, RunId};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::{Backend, Store};
use tonic::Code;

use crate::harness::{create_sim_district, Server};

store::on_both_backends!(a_run_killed_mid_apply_resumes_and_ends_as_if_uninterrupted);

const DISTRICT: &str = "big";

async fn create(client: &mut crate::harness::Client, sim: &Simulator) {
    create_sim_district(client, DISTRICT, sim, &[]).await;
}

async fn get(client: &mut crate::harness::Client, run_id: &str) -> pb::SyncRun {
    client
        .get_sync_run(pb::GetSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: run_id.into(),
        })
        .await
        .expect("get the run")
        .into_inner()
}

/// Polls the run until `done` says so, or fails after `within`.
async fn wait_for(
    client: &mut crate::harness::Client,
    run_id: &str,
    within: Duration,
    done: impl Fn(&pb::SyncRun) -> bool,
) -> pb::SyncRun {
    let deadline = Instant::now() + within;
    loop {
        let run = get(client, run_id).await;
        if done(&run) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not get there in time: {run:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ended(run: &pb::SyncRun) -> bool {
    [
        pb::RunState::Succeeded,
        pb::RunState::Failed,
        pb::RunState::Cancelled,
        pb::RunState::Paused,
    ]
    .iter()
    .any(|s| *s as i32 == run.state)
}

fn district() -> DistrictId {
    DISTRICT.parse().expect("district")
}

/// The change-log rows the run's plan makes.
async fn planned_changes(store: &Store, run: RunId) -> u64 {
    let mut total = 0;
    let mut after = None;
    loop {
        let page = store
            .read_plan(&district(), run, after, 500)
            .await
            .expect("plan");
        let Some((last, _)) = page.last() else {
            return total;
        };
        after = Some(*last);
        total += page
            .iter()
            .map(|(_, item)| item.log_changes().len() as u64)
            .sum::<u64>();
    }
}

async fn start(client: &mut crate::harness::Client) -> String {
    client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner()
        .run_id
}

async fn a_run_killed_mid_apply_resumes_and_ends_as_if_uninterrupted(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 2_000,
        schools: 4,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let mut server = Server::start(backend).await;
    let mut client = server.client().await;
    create(&mut client, &sim).await;
    let run_id = start(&mut client).await;

    // Kill the process (SIGKILL) once it has applied part of its plan.
    let caught = wait_for(&mut client, &run_id, Duration::from_secs(120), |r| {
        (r.phase == pb::RunPhase::Applying as i32 && r.applied > 0) || ended(r)
    })
    .await;
    server.kill();
    assert!(
        caught.phase == pb::RunPhase::Applying as i32 && caught.applied < caught.plan_items,
        "the run must be caught mid-apply: {caught:#?}"
    );

    // It resumes on restart — at once: the lease is this instance's own — and finishes.
    let restarted = Instant::now();
    server.restart();
    let resumed = loop {
        if server.log().contains("resuming an interrupted run") {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "the restarted server did not resume its run at once"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("restart to resumed run: {resumed:?}");
    let mut client = server.client().await;
    let done = wait_for(&mut client, &run_id, Duration::from_secs(120), ended).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:#?}");
    assert_eq!(done.applied, done.plan_items);
    assert!(server.log().contains("resuming an interrupted run"));

    // Nothing lost, nothing twice: the change log holds each planned change once.
    let store = server.store().await;
    let id: RunId = run_id.parse().expect("run id");
    assert_eq!(
        store
            .count_change_log_rows_of_run(&district(), id)
            .await
            .expect("count"),
        planned_changes(&store, id).await
    );
    let students = sim.district(|d| d.expected_students().len() as u64);
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        students
    );

    // The store now equals the source: a new run has nothing to do.
    let again = start(&mut client).await;
    let again = wait_for(&mut client, &again, Duration::from_secs(120), ended).await;
    assert_eq!(again.state, pb::RunState::Succeeded as i32);
    assert_eq!(again.plan_items, 0, "{again:#?}");
}

/// Two replicas on one PostgreSQL: a district runs on one only, and when that replica
/// dies its run is taken over by the other once the lease lapses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_run_one_district_at_once() {
    let sim = Simulator::start(SimConfig {
        students: 2_000,
        schools: 4,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let lease = [("ROSTERSYNC_RUN_LEASE_SECONDS", "5")];
    let mut a = Server::start_with(
        Backend::Postgres,
        &[lease[0], ("ROSTERSYNC_INSTANCE_ID", "replica-a")],
    )
    .await;
    let b = a.replica(&[lease[0], ("ROSTERSYNC_INSTANCE_ID", "replica-b")]);
    let mut on_a = a.client().await;
    let mut on_b = b.client().await;
    create(&mut on_a, &sim).await;

    let run_id = start(&mut on_a).await;
    let refused = on_b
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect_err("a second run of the district is refused on the other replica");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    let store = a.store().await;
    let id: RunId = run_id.parse().expect("run id");
    let (owner, _) = store
        .run_lease(&district(), id)
        .await
        .expect("lease")
        .expect("held");
    assert_eq!(owner, "replica-a");

    // Replica a dies mid-run; b takes the run over once a's lease lapses.
    wait_for(&mut on_a, &run_id, Duration::from_secs(120), |r| {
        r.plan_items > 0 || ended(r)
    })
    .await;
    a.kill();
    let killed_at = Instant::now();
    let done = wait_for(&mut on_b, &run_id, Duration::from_secs(180), ended).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:#?}");
    assert!(
        killed_at.elapsed() >= Duration::from_secs(2),
        "taken over only after the lease lapsed"
    );
    assert!(b.log().contains("resuming an interrupted run"));
    assert_eq!(
        store
            .count_change_log_rows_of_run(&district(), id)
            .await
            .expect("count"),
        planned_changes(&store, id).await,
        "each change applied once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_sent_to_another_replica_stops_the_run() {
    let sim = Simulator::start(SimConfig {
        students: 400,
        schools: 2,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    // Every student page answers slowly: the pull lasts long enough to be caught.
    sim.inject(sim::powerschool::Fault {
        times: 1_000,
        ..sim::powerschool::Fault::new(
            sim::powerschool::Match::get("/ws/v1/school/"),
            sim::powerschool::FaultKind::Delay(Duration::from_millis(300)),
        )
    });
    let a = Server::start_with(
        Backend::Postgres,
        &[("ROSTERSYNC_INSTANCE_ID", "replica-a")],
    )
    .await;
    let b = a.replica(&[("ROSTERSYNC_INSTANCE_ID", "replica-b")]);
    let mut on_a = a.client().await;
    let mut on_b = b.client().await;
    create(&mut on_a, &sim).await;

    let run_id = start(&mut on_a).await;
    let running = get(&mut on_b, &run_id).await;
    assert_eq!(running.state, pb::RunState::Running as i32, "{running:#?}");
    // Replica b does not work the run; it asks, through the store, for it to stop.
    let asked = on_b
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: run_id.clone(),
        })
        .await
        .expect("cancel on the other replica")
        .into_inner();
    assert_eq!(asked.state, pb::RunState::Cancelling as i32, "{asked:#?}");
    let again = on_a
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: run_id.clone(),
        })
        .await
        .expect_err("a second cancel finds it cancelling");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(
        again.message().contains("cancelling"),
        "{}",
        again.message()
    );

    let done = wait_for(&mut on_a, &run_id, Duration::from_secs(60), ended).await;
    assert_eq!(done.state, pb::RunState::Cancelled as i32, "{done:#?}");
    assert!(
        done.error.contains("nothing was written"),
        "the run says what it had applied: {}",
        done.error
    );
    let store = a.store().await;
    let id: RunId = run_id.parse().expect("run id");
    assert_eq!(
        store
            .count_change_log_rows_of_run(&district(), id)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        0
    );
    // The district is free for the next run.
    let next = start(&mut on_b).await;
    assert_ne!(next, run_id);
}
