//! The nightly schedule at scale: a thousand districts on one PostgreSQL served by three
//! replicas. Every district's run of the night starts exactly once, the starts spread over
//! the replicas, and the background loop's queries do not grow with the districts.

use std::time::Duration;

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;

use crate::harness::{create_request, district, powerschool_connector, psql, Server};

const DISTRICTS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_districts_on_three_replicas_each_run_once_a_night() {
    let sim = Simulator::start(SimConfig {
        students: 2,
        schools: 1,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    // A 5 s lease: each replica looks for work every 1.7 s.
    let env = |name: &'static str| {
        [
            ("ROSTERSYNC_RUN_LEASE_SECONDS", "5"),
            ("ROSTERSYNC_INSTANCE_ID", name),
        ]
    };
    let a = Server::start_with(Backend::Postgres, &env("replica-a")).await;
    let b = a.replica(&env("replica-b"));
    let c = a.replica(&env("replica-c"));
    let url = a.database_url();

    // Districts where it is just past midnight, daily sync on: each is due as it is made.
    let zone = crate::harness::zone_just_past_midnight();
    let settings = pb::DistrictSettings {
        daily_sync_enabled: Some(true),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let mut makers = Vec::new();
    for part in 0..4 {
        let mut client = [&a, &b, &c][part % 3].client().await;
        let (zone, settings) = (zone.clone(), settings.clone());
        let connector =
            powerschool_connector(&sim.base_url(), sim.client_id(), sim.client_secret(), &[]);
        makers.push(tokio::spawn(async move {
            for i in (part..DISTRICTS).step_by(4) {
                client
                    .create_district(create_request(district(
                        &format!("d{i:04}"),
                        "Nightly district",
                        connector.clone(),
                        Some(settings.clone()),
                        &zone,
                    )))
                    .await
                    .expect("create a district");
            }
        }));
    }
    for m in makers {
        m.await.expect("districts made");
    }
    eprintln!("{DISTRICTS} districts made in {:?}", started.elapsed());

    // Every district gets its run of the night, and every run ends.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let row = psql(
            &url,
            "select count(*), count(*) filter (where state in ('running','paused','cancelling')) \
             from sync_runs where trigger = 'schedule'",
        );
        let counts: Vec<usize> = row[0]
            .split('|')
            .map(|n| n.parse().expect("a count"))
            .collect();
        if counts[0] >= DISTRICTS && counts[1] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {:?}: {} scheduled runs, {} open",
            started.elapsed(),
            counts[0],
            counts[1]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "every nightly run started and ended {:?} after the first district was made",
        started.elapsed()
    );

    // Exactly once: one scheduled run per district, each one that succeeded.
    let per_district = psql(
        &url,
        "select count(distinct district_id), count(*), \
         count(*) filter (where state = 'succeeded') from sync_runs where trigger = 'schedule'",
    );
    assert_eq!(
        per_district,
        [format!("{DISTRICTS}|{DISTRICTS}|{DISTRICTS}")],
        "one scheduled run per district, each succeeded"
    );
    // Spread: each replica started some of them.
    let by_replica: Vec<usize> = [&a, &b, &c]
        .iter()
        .map(|r| r.log().matches("nightly run started").count())
        .collect();
    eprintln!("nightly runs started by replica a, b, c: {by_replica:?}");
    assert_eq!(
        by_replica.iter().sum::<usize>(),
        DISTRICTS,
        "{by_replica:?}"
    );
    assert!(
        by_replica.iter().all(|&n| n > 0),
        "every replica started some: {by_replica:?}"
    );

    // A quiet night after the runs: the three loops' queries do not grow with the
    // districts (a loop that read each district every second would commit thousands of
    // transactions a second here).
    let commits = || -> i64 {
        psql(
            &url,
            "select xact_commit + xact_rollback from pg_stat_database \
             where datname = current_database()",
        )[0]
        .parse()
        .expect("a count")
    };
    // Statistics reach pg_stat_database within a few seconds of each transaction.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let before = commits();
    let window = Duration::from_secs(20);
    tokio::time::sleep(window).await;
    let during = commits() - before;
    eprintln!("{during} transactions in {window:?} with {DISTRICTS} districts and 3 replicas idle");
    assert!(
        during < 1_000,
        "{during} transactions in {window:?}: the background loops' queries grow with the districts"
    );
    // And nothing more was started.
    assert_eq!(
        psql(&url, "select count(*) from sync_runs"),
        [DISTRICTS.to_string()]
    );
    drop((b, c));
}
