//! Times a district sync against the simulator and a raw bulk load of the same rows.
//!
//! ```text
//! sync_bench sim   --students N --schools M --port P        # serve a simulated PowerSchool
//! sync_bench first --url http://127.0.0.1:P --db FILE       # fresh SQLite store, one full run
//! sync_bench again --url http://127.0.0.1:P --db FILE       # one more run on that store
//! sync_bench bulk  --students N --schools M --db FILE       # the same rows, written directly
//! ```
//! `--database-url postgres://…` replaces `--db` (the database is emptied first for
//! `first` and `bulk`). Each prints what it did and how long it took.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use engine::sync::plan::{Batch, BatchState, Planner};
use engine::{ConnectorDraft, DistrictDraft, Engine, HttpConfig};
use model::district::DistrictSettings;
use model::ids::{DistrictId, RunId};
use model::run::{RunCounts, RunMode, RunPhase, RunState, RunTrigger, SyncRun};
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
        Some("bulk") => bulk(&args).await,
        _ => Err("usage: sync_bench sim|first|again|bulk …".into()),
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
                        ("client_secret".to_owned(), defaults.client_secret.clone()),
                    ]),
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

/// The rows a first run writes, planned from the simulator's ground truth in process and
/// written with the store's bulk statements: no HTTP, no reads.
async fn bulk(args: &[String]) -> Result<()> {
    let config = config(args);
    let district = District::generate(&config);
    let students = district.expected_students();
    let contacts = district.expected_contacts();
    let accounts = district.expected_guardian_accounts();
    let url = database_url(args, true)?;
    let store = open(&url, true).await?;
    let id = district_id();
    let now = chrono::Utc::now();
    store
        .create_district(&model::district::District {
            id: id.clone(),
            name: "Benchmark district".into(),
            connector: model::district::ConnectorConfig {
                kind: "powerschool".into(),
                settings: BTreeMap::new(),
                secrets: BTreeMap::new(),
            },
            settings: DistrictSettings::default(),
            time_zone: chrono_tz::America::Edmonton,
            created_at: now,
            updated_at: now,
        })
        .await?;
    let run = SyncRun {
        id: RunId::new(),
        district_id: id.clone(),
        mode: RunMode::Full,
        trigger: RunTrigger::Manual,
        state: RunState::Succeeded,
        phase: RunPhase::Done,
        error: None,
        counts: RunCounts::default(),
        trips: vec![],
        warnings: vec![],
        created_at: now,
        started_at: None,
        finished_at: None,
        approved_at: None,
    };
    store.create_run(&run).await?;
    let mut by_student: HashMap<&str, Vec<&model::roster::Contact>> = HashMap::new();
    for c in &contacts {
        by_student
            .entry(c.student_source_id.as_str())
            .or_default()
            .push(c);
    }
    let mut accounts_of: HashMap<&str, Vec<&model::source::GuardianAccount>> = HashMap::new();
    for a in &accounts {
        for s in &a.student_source_ids {
            accounts_of.entry(s.as_str()).or_default().push(a);
        }
    }
    let started = Instant::now();
    let mut planner = Planner::new(DistrictSettings::default(), now);
    let (mut seq, mut change_seq, mut rows) = (0u64, 0u64, 0u64);
    for chunk in students.chunks(100) {
        let ids: std::collections::HashSet<&str> =
            chunk.iter().map(|s| s.source_id.as_str()).collect();
        let batch = Batch {
            students: chunk.to_vec(),
            contacts: chunk
                .iter()
                .flat_map(|s| {
                    by_student
                        .get(s.source_id.as_str())
                        .into_iter()
                        .flatten()
                        .map(|c| (*c).clone())
                })
                .collect(),
            accounts: {
                let mut seen = std::collections::HashSet::new();
                chunk
                    .iter()
                    .flat_map(|s| accounts_of.get(s.source_id.as_str()).into_iter().flatten())
                    .filter(|a| seen.insert(a.source_id.as_str()))
                    .map(|a| {
                        let mut a = (*a).clone();
                        a.student_source_ids.retain(|s| ids.contains(s.as_str()));
                        a
                    })
                    .collect()
            },
        };
        let items = planner.plan_batch(&batch, &BatchState::default());
        let numbered: Vec<(u64, model::run::PlanItem)> = items
            .into_iter()
            .enumerate()
            .map(|(i, it)| (seq + i as u64, it))
            .collect();
        seq += numbered.len() as u64;
        let written = store
            .apply_plan_items(&id, run.id, &numbered, change_seq, now)
            .await?;
        change_seq += written;
        rows += numbered.len() as u64;
    }
    println!(
        "bulk load of {} records ({} change-log rows) for {} students in {:.2?}",
        rows,
        change_seq,
        students.len(),
        started.elapsed()
    );
    Ok(())
}
