//! One district, one request budget: a run and sixteen spot syncs at once never send the
//! district's source more than the budget allows in any window, and the budget is the
//! district's setting.

use std::time::{Duration, Instant};

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;

use crate::harness::{
    connector, create_sim_district, follow_run, run_to_end, update_request, Server,
};

const DISTRICT: &str = "budgeted";
/// Requests a minute the district allows: a burst of 50 (a second's worth), then the rest
/// of the minute's budget spread out — one request every 20 ms.
const PER_MINUTE: u32 = 3000;

/// The most requests any window of `window` may hold under the budget.
fn allowed(window: Duration) -> usize {
    let quota = connector::http::budget_quota(PER_MINUTE).expect("quota");
    let burst = quota.burst_size().get() as usize;
    let spread = (window.as_nanos() / quota.replenish_interval().as_nanos()) as usize;
    // One more for a window that starts exactly on a release.
    burst + spread + 1
}

/// The most requests in any window of `window` among arrival times.
fn busiest(arrivals: &[Instant], window: Duration) -> usize {
    let mut most = 0;
    let mut start = 0;
    for end in 0..arrivals.len() {
        while arrivals[end].duration_since(arrivals[start]) >= window {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[tokio::test]
async fn a_run_and_sixteen_spot_syncs_stay_within_the_districts_budget() {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start(Backend::Sqlite).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    let first = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(first.state, pb::RunState::Succeeded as i32, "{first:#?}");
    // The district sets its budget: its connector is built again with it.
    let per_minute = PER_MINUTE.to_string();
    client
        .update_district(update_request(
            pb::District {
                district_id: DISTRICT.into(),
                connector: Some(connector(
                    "powerschool",
                    &[("max_requests_per_minute", per_minute.as_str())],
                    &[],
                )),
                ..Default::default()
            },
            &["connector.settings.max_requests_per_minute"],
        ))
        .await
        .expect("set the budget");
    let store = server.store().await;
    let district: model::ids::DistrictId = DISTRICT.parse().expect("id");
    let mut students = Vec::new();
    for s in sim.district(|d| d.expected_students()).iter().take(16) {
        students.push(
            store
                .find_student_by_source(&district, &s.source_id)
                .await
                .expect("student")
                .id,
        );
    }

    // A second run, and sixteen callers spot-syncing beside it, twice each.
    sim.clear_requests();
    let started = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    let callers: Vec<_> = students
        .into_iter()
        .map(|student| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let mut calls = 0;
                while calls < 2 {
                    client
                        .spot_sync(pb::SpotSyncRequest {
                            district_id: DISTRICT.into(),
                            user: Some(pb::spot_sync_request::User::StudentId(student.to_string())),
                            dry_run: true,
                            request_id: String::new(),
                        })
                        .await
                        .expect("spot sync");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    let run = follow_run(&mut client, DISTRICT, &started.run_id).await;
    let mut calls = 0;
    for c in callers {
        calls += c.await.expect("caller");
    }
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");

    let mut arrivals: Vec<Instant> = sim.requests().iter().map(|r| r.arrived).collect();
    arrivals.sort();
    let span = arrivals
        .last()
        .zip(arrivals.first())
        .map(|(l, f)| l.duration_since(*f))
        .unwrap_or_default();
    assert!(
        arrivals.len() > allowed(Duration::from_secs(1)) * 2,
        "enough requests ({}) to press on the budget",
        arrivals.len()
    );
    for window in [
        Duration::from_millis(500),
        Duration::from_secs(1),
        Duration::from_secs(3),
        Duration::from_secs(60),
    ] {
        let most = busiest(&arrivals, window);
        assert!(
            most <= allowed(window),
            "{most} requests within {window:?}; the budget allows {}",
            allowed(window)
        );
    }
    println!(
        "{} requests over {span:?} ({calls} spot syncs beside the run); busiest second {}",
        arrivals.len(),
        busiest(&arrivals, Duration::from_secs(1))
    );
}
