//! Times a full Clever pull from the simulator: `cargo run --release -p rostersync-clever
//! --example clever_pull_rate -- STUDENTS [SCHOOLS]`. Prints the records pulled, the requests
//! made (per 1,000 students) and the rate. The simulator's rate window is opened wide so
//! the connector's own 1,200-a-minute budget is what paces it; pass `unbudgeted` as a
//! third argument to time the pull without it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use connector::{ConnectorFactory, HttpConfig, RosterEvent, Tally};
use futures::StreamExt;
use model::district::ConnectorConfig;
use model::Secret;
use rostersync_clever::CleverFactory;
use sim::clever::{CleverSimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let students: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let schools: usize = args
        .next()
        .map_or(Ok(students / 2_500 + 1), |a| a.parse())?;
    let unbudgeted = args.next().as_deref() == Some("unbudgeted");
    let generated = Instant::now();
    let sim = Simulator::start(CleverSimConfig {
        students,
        schools,
        rate_limit: u32::MAX,
        rate_window: Duration::from_secs(60),
        ..CleverSimConfig::default()
    })
    .await?;
    println!(
        "simulator: {students} students in {schools} schools, generated in {:.2?}",
        generated.elapsed()
    );
    let config = ConnectorConfig {
        kind: "clever".into(),
        settings: BTreeMap::from([
            ("district_id".to_owned(), sim.district_id().to_owned()),
            ("api_base_url".to_owned(), sim.base_url()),
        ]),
        secrets: BTreeMap::from([("district_token".to_owned(), Secret::new(sim.token()))]),
    };
    let http = HttpConfig {
        // The budget is the connector's: `requests_per_minute` only lowers it.
        requests_per_minute: unbudgeted.then_some(u32::MAX),
        ..HttpConfig::default()
    };
    let connector = CleverFactory.build(&config, &http)?;
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut declared = None;
    let mut stream = connector.roster();
    while let Some(event) = stream.next().await {
        let event = event?;
        tally.add(&event);
        if let RosterEvent::Complete(counts) = event {
            declared = Some(counts);
        }
    }
    let elapsed = started.elapsed();
    let declared = declared.ok_or("the pull did not complete")?;
    let r = tally.received;
    let records = r.schools
        + r.students
        + r.contacts
        + r.guardian_accounts
        + r.staff
        + r.classrooms
        + r.enrollments;
    let requests = sim.requests().len();
    println!(
        "pulled {} students, {} contacts, {} guardian accounts, {} staff, {} classrooms, {} enrollments ({records} records) in {:.2?}: {:.0} records/s, {requests} requests ({:.1} per 1,000 students); counts agree: {}",
        r.students,
        r.contacts,
        r.guardian_accounts,
        r.staff,
        r.classrooms,
        r.enrollments,
        elapsed,
        records as f64 / elapsed.as_secs_f64(),
        requests as f64 * 1000.0 / students.max(1) as f64,
        tally.verify(&declared).is_empty()
    );
    sim.shutdown().await;
    Ok(())
}
