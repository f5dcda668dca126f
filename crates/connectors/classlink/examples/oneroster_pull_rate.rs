//! Times a full ClassLink (OneRoster) pull from the simulator: `cargo run --release -p
//! rostersync-classlink --example oneroster_pull_rate -- STUDENTS [SCHOOLS] [1.1|1.2]`. Prints the
//! records pulled, the requests made (per 1,000 students) and the rate. OneRoster 1.1 is
//! signed with OAuth 1.0a and found through discovery; 1.2 uses an OAuth 2 token. The
//! connector's request budget is lifted (ClassLink publishes none) so the rate is the
//! connector's and the simulator's own.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use connector::conformance::time_pull;
use connector::{ConnectorFactory, HttpConfig};
use model::district::ConnectorConfig;
use model::Secret;
use rostersync_classlink::ClassLinkFactory;
use sim::oneroster::{OneRosterSimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let students: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let schools: usize = args
        .next()
        .map_or(Ok(students / 2_500 + 1), |a| a.parse())?;
    let version = args.next().unwrap_or_else(|| "1.1".to_owned());
    let generated = Instant::now();
    let sim = Simulator::start(OneRosterSimConfig {
        students,
        schools,
        rate_limit: u32::MAX,
        rate_window: Duration::from_secs(60),
        ..OneRosterSimConfig::default()
    })
    .await?;
    println!(
        "simulator: {students} students in {schools} schools, generated in {:.2?}",
        generated.elapsed()
    );
    let c = sim.config();
    let mut settings = BTreeMap::from([
        ("tenant_id".to_owned(), c.tenant_id.to_string()),
        ("application_id".to_owned(), c.application_id.to_string()),
        ("max_requests_per_minute".to_owned(), "6000".to_owned()),
    ]);
    let mut secrets = BTreeMap::new();
    if version == "1.2" {
        settings.extend([
            ("oneroster_version".to_owned(), "1.2".to_owned()),
            ("auth".to_owned(), "oauth2".to_owned()),
            ("token_url".to_owned(), sim.token_url()),
            ("base_url".to_owned(), sim.base_url()),
            ("client_id".to_owned(), c.client_id.clone()),
        ]);
        secrets.insert("client_secret".to_owned(), Secret::new(&c.client_secret));
    } else {
        settings.insert("discovery_url".to_owned(), sim.discovery_url());
        secrets.insert("partner_token".to_owned(), Secret::new(&c.partner_token));
    }
    let config = ConnectorConfig {
        kind: "classlink".into(),
        settings,
        secrets,
    };
    let connector = ClassLinkFactory.build(&config, &HttpConfig::default())?;
    let timed = time_pull(connector.roster()).await?;
    let requests = sim.requests().len();
    println!(
        "OneRoster {version}: {}; {requests} requests ({:.1} per 1,000 students)",
        timed.summary(),
        requests as f64 * 1000.0 / students.max(1) as f64
    );
    sim.shutdown().await;
    Ok(())
}
