//! `rostersync bench`: how fast a district syncs, against the machine's own limit.
//!
//! A generated PowerSchool district of N students is served by the simulator in a child
//! process (so its memory is not counted as the sync's), over the loopback. For each
//! database the bench, in one run:
//! 1. drains the connector's pull, storing nothing (pull only);
//! 2. syncs into an empty store (first sync), timing its phases;
//! 3. takes the rows that sync stored — roster and change log — and loads them into a
//!    second empty store of the same schema the fastest plain way the database has
//!    (prepared multi-row inserts in one transaction on SQLite, `COPY` on PostgreSQL):
//!    the machine's limit the sync is compared with;
//! 4. syncs again with nothing changed, and with a share of students changed;
//! 5. spot-syncs students from concurrent callers, the source's own time subtracted;
//! 6. finds the same students by name prefix, student number, source id and e-mail;
//!
//! and prints one table, with peak memory and bytes on disk per table. Once, before the
//! databases, it times a pull from the same source answering `--source-latency-ms` late
//! per request, with the requests in flight at once the connector allows a district.

mod load;
mod search;
mod simulator;
mod table;
mod timed;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connector::{ConnectorFactory, HttpConfig};
use engine::{ConnectorDraft, DistrictDraft, Engine, SpotUser};
use model::district::{ConnectorConfig, DistrictSettings};
use model::ids::DistrictId;
use model::run::{RunMode, RunPhase, RunState, RunTrigger, SyncRun};
use store::raw::TableSize;
use store::tables::{ROSTER_TABLES, RUN_TABLES};
use store::Store;

use load::bulk_load_in_child;
pub use load::{bulk_load, BenchLoadArgs};
use simulator::SimProcess;
pub use simulator::{serve_sim, BenchSimArgs};
use table::render;
use timed::{TimedFactory, SOURCE_TIME};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Students in the generated district.
    #[arg(long, default_value_t = 100_000)]
    pub students: usize,
    /// Schools in the generated district.
    #[arg(long, default_value_t = 40)]
    pub schools: usize,
    /// Seed of the generated district.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The databases to measure: sqlite, postgres (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub databases: Vec<BenchDatabase>,
    /// A PostgreSQL server the bench makes (and drops) its own databases on.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres: String,
    /// The share of students changed before the changed resync, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub change_percent: f64,
    /// Spot syncs in all.
    #[arg(long, default_value_t = 2_000)]
    pub spot_calls: usize,
    /// Callers spot-syncing at once.
    #[arg(long, default_value_t = 16)]
    pub spot_callers: usize,
    /// A pull from a source answering in this many milliseconds per request is timed
    /// once (0: not timed).
    #[arg(long, default_value_t = 100)]
    pub source_latency_ms: u64,
    /// Where the SQLite files and the raw load's dump file go (default: a temporary
    /// directory, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchDatabase {
    Sqlite,
    Postgres,
}

impl BenchDatabase {
    fn name(self) -> &'static str {
        match self {
            BenchDatabase::Sqlite => "SQLite",
            BenchDatabase::Postgres => "PostgreSQL",
        }
    }
}

/// The process's peak resident memory since the last [`reset_peak`], in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Starts counting the peak afresh (Linux: `5` to `/proc/self/clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A pull from a slow source.
#[derive(Debug, Default)]
struct SlowPull {
    latency: Duration,
    took: Duration,
    requests: u64,
    /// The most requests the source was answering at once.
    most_in_flight: u64,
    /// The connector's bound on requests in flight for one district.
    bound: usize,
}

/// One database's figures.
#[derive(Debug, Default)]
struct Figures {
    pull: Duration,
    records: u64,
    requests: u64,
    bulk: Duration,
    bulk_rows: u64,
    first: Duration,
    first_phases: [Duration; 3],
    first_peak: u64,
    plan_items: u64,
    resync: Duration,
    resync_phases: [Duration; 3],
    resync_written: u64,
    resync_staged: u64,
    resync_peak: u64,
    changed_students: u64,
    changed: Duration,
    changed_items: u64,
    changed_written: u64,
    spot_p50: Duration,
    spot_p99: Duration,
    spot_source_p50: Duration,
    spot_rate: f64,
    spot_errors: usize,
    search_p50: Duration,
    search_p99: Duration,
    search_calls: usize,
    search_missed: usize,
    sizes: Vec<TableSize>,
}

fn district_id() -> DistrictId {
    "bench"
        .parse()
        .unwrap_or_else(|_| unreachable!("a valid id"))
}

fn registry() -> connector::Registry {
    connector::Registry::new().register(Arc::new(TimedFactory(powerschool::PowerSchoolFactory)))
}

/// pulling → checking → applying → done, as durations.
fn phases(run: &SyncRun) -> [Duration; 3] {
    let at = |p: RunPhase| run.phases.iter().find(|m| m.phase == p).map(|m| m.at);
    let span = |a, b| match (at(a), at(b)) {
        (Some(a), Some(b)) => (b - a).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    };
    [
        span(RunPhase::Pulling, RunPhase::Checking),
        span(RunPhase::Checking, RunPhase::Applying),
        span(RunPhase::Applying, RunPhase::Done),
    ]
}

async fn sync(engine: &Engine) -> anyhow::Result<(SyncRun, Duration)> {
    let id = district_id();
    let started = Instant::now();
    let run = engine
        .runs()
        .start_sync(&id, RunMode::Full, RunTrigger::Manual)
        .await?;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = engine.runs().get_run(&id, run.id).await?;
        if now.state.is_final() || now.state == RunState::Paused {
            let took = started.elapsed();
            anyhow::ensure!(
                now.state == RunState::Succeeded,
                "the run ended {}: {}",
                now.state.as_str(),
                now.error.unwrap_or_default()
            );
            return Ok((now, took));
        }
    }
}

async fn change_log_rows(store: &Store) -> anyhow::Result<u64> {
    Ok(store.count_rows("change_log").await?)
}

/// This bench's PostgreSQL database `name` (two benches at once do not collide).
fn pg_name(name: &str) -> String {
    format!("rostersync_bench_{}_{name}", std::process::id())
}

/// An empty store of `database` named `name`, migrated, and its URL.
async fn fresh_store(
    database: BenchDatabase,
    name: &str,
    args: &BenchArgs,
    dir: &std::path::Path,
) -> anyhow::Result<(Store, String)> {
    let url = match database {
        BenchDatabase::Sqlite => {
            let path = dir.join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}?mode=rwc", path.display())
        }
        BenchDatabase::Postgres => store::raw::create_database(&args.postgres, &pg_name(name))
            .await
            .with_context(|| format!("make database {name} on {}", args.postgres))?,
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok((store, url))
}

/// The simulator's district as a PowerSchool connection.
fn sim_connection(sim: &SimProcess) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let defaults = sim::powerschool::SimConfig::default();
    (
        BTreeMap::from([
            ("base_url".to_owned(), sim.url.clone()),
            ("client_id".to_owned(), defaults.client_id),
        ]),
        BTreeMap::from([("client_secret".to_owned(), defaults.client_secret)]),
    )
}

/// A connector to the simulator's district, as a district with default settings has.
fn sim_connector(sim: &SimProcess) -> anyhow::Result<Arc<dyn connector::Connector>> {
    let (settings, secrets) = sim_connection(sim);
    let config = ConnectorConfig {
        kind: "powerschool".into(),
        settings,
        secrets: secrets
            .into_iter()
            .map(|(k, v)| (k, model::Secret::new(v)))
            .collect(),
    };
    Ok(powerschool::PowerSchoolFactory.build(&config, &bench_http())?)
}

fn bench_http() -> HttpConfig {
    HttpConfig {
        targets: connector::outbound::Targets::Any,
        ..HttpConfig::default()
    }
}

/// Times one pull while the source answers `latency` late per request.
async fn slow_pull(sim: &mut SimProcess, latency: Duration) -> anyhow::Result<SlowPull> {
    sim.ask(&format!("latency {}", latency.as_millis()))?;
    sim.ask("requests")?;
    sim.ask("inflight")?;
    let pulled = connector::conformance::time_pull(sim_connector(sim)?.roster()).await;
    let requests = sim.ask("requests")?;
    let most_in_flight = sim.ask("inflight")?;
    sim.ask("latency 0")?;
    let pulled = pulled?;
    anyhow::ensure!(pulled.counts_agree, "the slow pull's counts disagree");
    Ok(SlowPull {
        latency,
        took: pulled.elapsed,
        requests,
        most_in_flight,
        bound: bench_http().concurrency,
    })
}

async fn measure(
    database: BenchDatabase,
    args: &BenchArgs,
    sim: &mut SimProcess,
    dir: &std::path::Path,
) -> anyhow::Result<Figures> {
    let mut f = Figures::default();
    let id = district_id();
    let (settings, secrets) = sim_connection(sim);
    let http = bench_http();

    // 1. Pull only.
    sim.ask("requests")?;
    let connector = sim_connector(sim)?;
    let pulled = connector::conformance::time_pull(connector.roster()).await?;
    anyhow::ensure!(pulled.counts_agree, "the pull's counts disagree");
    f.pull = pulled.elapsed;
    let r = &pulled.tally.received;
    f.records = r.schools
        + r.students
        + r.contacts
        + r.guardian_accounts
        + r.staff
        + r.classrooms
        + r.enrollments;
    f.requests = sim.ask("requests")?;

    // 2. First sync into an empty store.
    let (store, sync_url) = fresh_store(database, "sync", args, dir).await?;
    let engine = Engine::new(store.clone(), registry()).with_http(http.clone());
    engine
        .districts()
        .create_district(DistrictDraft {
            id: id.to_string(),
            name: "Benchmark district".into(),
            connector: Some(ConnectorDraft {
                kind: "powerschool".into(),
                settings,
                secrets,
            }),
            settings: DistrictSettings::default(),
            time_zone: "America/Edmonton".into(),
        })
        .await?;
    reset_peak();
    let (first, took) = sync(&engine).await?;
    f.first = took;
    f.first_phases = phases(&first);
    f.first_peak = peak_rss();
    f.plan_items = first.counts.plan_items;

    // 3. The raw limit: the same rows, bulk-loaded into an empty store — by a child
    // process, so the rows it holds are not counted in this one's memory.
    let (raw, raw_url) = fresh_store(database, "raw", args, dir).await?;
    drop(raw);
    let (rows, took) = bulk_load_in_child(&sync_url, &raw_url, &dir.join("raw-load.dump"))?;
    f.bulk_rows = rows;
    f.bulk = took;
    if database == BenchDatabase::Postgres {
        store::raw::drop_database(&args.postgres, &pg_name("raw")).await?;
    }

    // 4. A resync with nothing changed, then one with a share of students changed.
    let log_before = change_log_rows(&store).await?;
    reset_peak();
    let (again, took) = sync(&engine).await?;
    f.resync = took;
    f.resync_phases = phases(&again);
    f.resync_peak = peak_rss();
    f.resync_written = again.counts.applied + change_log_rows(&store).await? - log_before;
    f.resync_staged = again.counts.fetched.values().sum();
    f.changed_students = sim.ask(&format!("change {}", args.change_percent))?;
    let log_before = change_log_rows(&store).await?;
    let (changed, took) = sync(&engine).await?;
    f.changed = took;
    f.changed_items = changed.counts.plan_items;
    f.changed_written = change_log_rows(&store).await? - log_before;

    // 5. Spot syncs from concurrent callers.
    let students = store.active_students_page(&id, None, u64::MAX >> 1).await?;
    anyhow::ensure!(!students.is_empty(), "no students to spot-sync");
    let step = (students.len() / args.spot_calls.max(1)).max(1);
    let picked: Vec<_> = students
        .iter()
        .step_by(step)
        .take(args.spot_calls)
        .map(|(student, _)| *student)
        .collect();
    let per_caller = picked.len().div_ceil(args.spot_callers.max(1));
    let started = Instant::now();
    let mut callers = Vec::new();
    for share in picked.chunks(per_caller.max(1)) {
        let engine = engine.clone();
        let share = share.to_vec();
        callers.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(share.len());
            let mut errors = 0;
            for student in share {
                let id = district_id();
                let t = Instant::now();
                let (outcome, source) = SOURCE_TIME
                    .scope(Cell::new(Duration::ZERO), async {
                        let outcome = engine
                            .spot()
                            .spot_sync(&id, SpotUser::Student(student), false)
                            .await;
                        (outcome, SOURCE_TIME.with(Cell::get))
                    })
                    .await;
                let total = t.elapsed();
                match outcome {
                    Ok(_) => times.push((total.saturating_sub(source), source)),
                    Err(_) => errors += 1,
                }
            }
            (times, errors)
        }));
    }
    let mut service = Vec::new();
    let mut source = Vec::new();
    for caller in callers {
        let (times, errors) = caller.await?;
        f.spot_errors += errors;
        for (s, src) in times {
            service.push(s);
            source.push(src);
        }
    }
    let wall = started.elapsed();
    service.sort();
    source.sort();
    let at = |v: &[Duration], q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    f.spot_p50 = at(&service, 0.5);
    f.spot_p99 = at(&service, 0.99);
    f.spot_source_p50 = at(&source, 0.5);
    f.spot_rate = service.len() as f64 / wall.as_secs_f64().max(1e-9);

    // 6. Searches for the same students, by each key.
    let searched = search::time_searches(&engine, &id, &picked).await?;
    f.search_p50 = at(&searched.times, 0.5);
    f.search_p99 = at(&searched.times, 0.99);
    f.search_calls = searched.times.len();
    f.search_missed = searched.missed;

    // 7. Bytes on disk.
    let tables: Vec<&str> = ROSTER_TABLES.iter().chain(RUN_TABLES).copied().collect();
    f.sizes = store.table_sizes(&tables).await?;
    drop(engine);
    drop(store);
    if database == BenchDatabase::Postgres {
        store::raw::drop_database(&args.postgres, &pg_name("sync")).await?;
    }
    Ok(f)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.databases.is_empty(), "name at least one database");
    let temp = tempfile::tempdir().context("a temporary directory")?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    eprintln!(
        "generating and serving {} students in {} schools…",
        args.students, args.schools
    );
    let mut sim = SimProcess::start(&args)?;
    let slow = if args.source_latency_ms > 0 {
        let latency = Duration::from_millis(args.source_latency_ms);
        eprintln!("pulling from a source answering in {latency:?} per request…");
        Some(slow_pull(&mut sim, latency).await?)
    } else {
        None
    };
    let mut results = Vec::new();
    for database in args.databases.clone() {
        eprintln!("measuring {}…", database.name());
        let figures = measure(database, &args, &mut sim, &dir)
            .await
            .with_context(|| format!("the {} bench", database.name()))?;
        results.push((database, figures));
        // The next database starts from the district as generated.
        drop(sim);
        sim = SimProcess::start(&args)?;
    }
    print!("{}", render(&args, &results, slow.as_ref()));
    Ok(())
}
