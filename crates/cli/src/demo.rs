//! `rostersync demo`: the service with a demo district, against a PowerSchool simulator
//! started in the same process, so a new user can try every call with one command.

use std::collections::BTreeMap;

use anyhow::Context;
use engine::{ConnectorDraft, ConnectorEdit, DistrictDraft, DistrictUpdate, Engine, EngineError};
use model::district::DistrictSettings;
use model::ids::DistrictId;
use sim::powerschool::{SimConfig, Simulator};

use crate::config::Config;
use crate::serve;

/// The demo district's id.
pub const DEMO_DISTRICT: &str = "demo";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<String>,
    /// Students in the simulated district.
    #[arg(long, default_value_t = 240)]
    pub students: usize,
    /// Schools in the simulated district.
    #[arg(long, default_value_t = 6)]
    pub schools: usize,
    /// Seed of the generated district (same seed, same district).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(config: Config, args: DemoArgs) -> anyhow::Result<()> {
    let sim_config = SimConfig {
        seed: args.seed,
        schools: args.schools,
        students: args.students,
        ..SimConfig::default()
    };
    let simulator = Simulator::start(sim_config)
        .await
        .context("start the PowerSchool simulator")?;
    println!("PowerSchool simulator at {}", simulator.base_url());

    let store = serve::open_store(&config).await?;
    store.migrate().await.context("migrate the store")?;
    let engine = serve::engine(&config, store);
    configure(&engine, &simulator).await?;
    println!("demo district {DEMO_DISTRICT:?} points at the simulator");

    let result = serve::serve_engine(&config, engine).await;
    simulator.shutdown().await;
    result
}

/// Creates the demo district, or points an existing one at this run's simulator.
async fn configure(engine: &Engine, simulator: &Simulator) -> anyhow::Result<()> {
    let connector = ConnectorDraft {
        kind: powerschool::settings::KIND.into(),
        settings: BTreeMap::from([
            ("base_url".to_owned(), simulator.base_url()),
            ("client_id".to_owned(), simulator.client_id().to_owned()),
        ]),
        secrets: BTreeMap::from([(
            "client_secret".to_owned(),
            simulator.client_secret().to_owned(),
        )]),
    };
    let id: DistrictId = DEMO_DISTRICT.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    match engine.get_district(&id).await {
        Ok(_) => {
            engine
                .update_district(
                    &id,
                    DistrictUpdate {
                        connector: vec![ConnectorEdit::Replace(connector)],
                        ..DistrictUpdate::default()
                    },
                )
                .await
                .context("point the demo district at the simulator")?;
        }
        Err(EngineError::NotFound { .. }) => {
            engine
                .create_district(DistrictDraft {
                    id: DEMO_DISTRICT.into(),
                    name: "Demo School District".into(),
                    connector: Some(connector),
                    settings: DistrictSettings::default(),
                    time_zone: "America/Edmonton".into(),
                })
                .await
                .context("create the demo district")?;
        }
        Err(e) => return Err(e).context("read the demo district"),
    }
    Ok(())
}
