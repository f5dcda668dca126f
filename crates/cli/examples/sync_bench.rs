//! Times a district sync against the simulator.
//!
//! ```text
//! sync_bench sim   --students N --schools M --port P        # serve a simulated PowerSchool
//! sync_bench first --url http://127.0.0.1:P --db FILE       # fresh SQLite store, one full run
//! sync_bench again --url http://127.0.0.1:P --db FILE       # one more run on that store
//! ```
//! `--database-url postgres://…` replaces `--db` (the database is emptied first for
//! `first`). Each prints what it did, its phases and how long it took.

use std::collections::BTreeMap;
use std::time::Instant;

use engine::{ConnectorDraft, DistrictDraft, Engine, HttpConfig};
use model::district::DistrictSettings;
use model::ids::DistrictId;
use model::run::{RunMode, RunState, RunTrigger};
use sim::powerschool::{District, SimConfig, Simulator};
use store::Store;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn num(args: &[String], name: &str, default: usize) -> usize {
    arg(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn database_url(args: &[String], fresh: bool) -> Result<String> {
    if let Some(url) = arg(args, "--database-url") {
        return Ok(url);
    }
    let path = arg(args, "--db").ok_or("--db FILE or --database-url URL")?;
    if fresh {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    Ok(format!("sqlite://{path}?mode=rwc"))
}

async fn open(url: &str, fresh: bool) -> Result<Store> {
    let store = Store::connect(url).await?;
    if fresh && url.starts_with("postgres") {
        store.migrate_down(None).await?;
    }
    store.migrate().await?;
    Ok(store)
}

fn district_id() -> DistrictId {
    "bench"
        .parse()
        .unwrap_or_else(|_| unreachable!("a valid district id"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sim") => sim(&args).await,
        Some("first") => run(&args, true).await,
        Some("again") => run(&args, false).await,
        _ => Err("usage: sync_bench sim|first|again …".into()),
    }
}

fn config(args: &[String]) -> SimConfig {
    SimConfig {
        students: num(args, "--students", 100_000),
        schools: num(args, "--schools", 40),
        seed: num(args, "--seed", 1) as u64,
        ..SimConfig::default()
    }
}

async fn sim(args: &[String]) -> Result<()> {
    let config = config(args);
    let district = District::generate(&config);
    let port = num(args, "--port", 0);
    let sim = Simulator::serve_on(district, config, port as u16).await?;
    println!("{}", sim.base_url());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

async fn run(args: &[String], fresh: bool) -> Result<()> {
    let url = database_url(args, fresh)?;
    let store = open(&url, fresh).await?;
    let engine = Engine::new(store.clone(), registry()).with_http(HttpConfig::default());
    let id = district_id();
    if fresh {
        let sim_url = arg(args, "--url").ok_or("--url of the simulator")?;
        let defaults = SimConfig::default();
        engine
            .create_district(DistrictDraft {
                id: id.to_string(),
                name: "Benchmark district".into(),
                connector: Some(ConnectorDraft {
                    kind: "powerschool".into(),
                    settings: BTreeMap::from([
                        ("base_url".to_owned(), sim_url),
                        ("client_id".to_owned(), defaults.client_id.clone()),
                    ]),
                    secrets: BTreeMap::from([(
                        "client_secret".to_owned(),
                        defaults.client_secret.clone(),
                    )]),
                }),
                settings: DistrictSettings::default(),
                time_zone: "America/Edmonton".into(),
            })
            .await?;
    }
    let started = Instant::now();
    let run = engine
        .start_sync(&id, RunMode::Full, RunTrigger::Manual)
        .await?;
    let mut phase = run.phase;
    let run = loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let r = engine.get_run(&id, run.id).await?;
        if r.phase != phase {
            println!("  {:?} from {:.2?}", r.phase, started.elapsed());
            phase = r.phase;
        }
        if r.state.is_final() || r.state == RunState::Paused {
            break r;
        }
    };
    println!(
        "{} run {:?} in {:.2?}: {} students fetched, {} plan items, {} applied, {:?}",
        if fresh { "first" } else { "again" },
        run.state,
        started.elapsed(),
        run.counts
            .fetched
            .get("students")
            .copied()
            .unwrap_or_default(),
        run.counts.plan_items,
        run.counts.applied,
        run.error
    );
    Ok(())
}

fn registry() -> engine::Registry {
    engine::Registry::new().register(std::sync::Arc::new(rostersync_powerschool_factory()))
}

fn rostersync_powerschool_factory() -> powerschool::PowerSchoolFactory {
    powerschool::PowerSchoolFactory
}
