//! Times a full Clever pull from the simulator: `cargo run --release -p rostersync-clever
//! --example clever_pull_rate -- STUDENTS [SCHOOLS]`. Prints the records pulled, the requests
//! made (per 1,000 students) and the rate. The simulator's rate window is opened wide so
//! the connector's own 1,200-a-minute budget is what paces it; pass `unbudgeted` as a
//! third argument to time the pull without it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use connector::conformance::time_pull;
use connector::{ConnectorFactory, HttpConfig};
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
    let timed = time_pull(connector.roster()).await?;
    let requests = sim.requests().len();
    println!(
        "{}; {requests} requests ({:.1} per 1,000 students)",
        timed.summary(),
        requests as f64 * 1000.0 / students.max(1) as f64
    );
    sim.shutdown().await;
    Ok(())
}
