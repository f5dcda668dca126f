//! Times a full PowerSchool pull from the simulator: `cargo run --release -p
//! rostersync-powerschool --example pull_rate -- STUDENTS [SCHOOLS] [LATENCY_MS]`, the
//! simulator answering each request LATENCY_MS late (0 by default). Prints the records
//! pulled, the requests made and the rate.

use std::collections::BTreeMap;
use std::time::Instant;

use connector::conformance::time_pull;
use connector::{ConnectorFactory, HttpConfig};
use model::district::ConnectorConfig;
use model::Secret;
use rostersync_powerschool::PowerSchoolFactory;
use sim::powerschool::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let students: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let schools: usize = args
        .next()
        .map_or(Ok(students / 2_500 + 1), |a| a.parse())?;
    let latency: u64 = args.next().map_or(Ok(0), |a| a.parse())?;
    let generated = Instant::now();
    let sim = Simulator::start(SimConfig {
        students,
        schools,
        ..SimConfig::default()
    })
    .await?;
    sim.set_latency(std::time::Duration::from_millis(latency));
    println!(
        "simulator: {students} students in {schools} schools, generated in {:.2?}",
        generated.elapsed()
    );
    let config = ConnectorConfig {
        kind: "powerschool".into(),
        settings: BTreeMap::from([
            ("base_url".to_owned(), sim.base_url()),
            ("client_id".to_owned(), sim.client_id().to_owned()),
        ]),
        secrets: BTreeMap::from([("client_secret".to_owned(), Secret::new(sim.client_secret()))]),
    };
    let connector = PowerSchoolFactory.build(&config, &HttpConfig::default())?;
    let timed = time_pull(connector.roster()).await?;
    println!("{}; {} requests", timed.summary(), sim.requests().len());
    sim.shutdown().await;
    Ok(())
}
