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
//!
//! and prints one table, with peak memory and bytes on disk per table.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connector::{
    CheckReport, Connector, ConnectorError, ConnectorFactory, HttpConfig, RosterStream, UserRef,
    UserSnapshot,
};
use engine::{ConnectorDraft, DistrictDraft, Engine, SpotUser};
use model::district::{ConnectorConfig, DistrictSettings};
use model::ids::DistrictId;
use model::run::{RunMode, RunPhase, RunState, RunTrigger, SyncRun};
use store::raw::{TableSize, PARENT_TABLES, ROSTER_TABLES, RUN_TABLES};
use store::Store;

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
    /// Where the SQLite files go (default: a temporary directory, removed after).
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

/// `rostersync bench-sim`: the simulator of a bench, in its own process. It prints its
/// URL, then answers lines on standard input: `change P` changes the last name of P % of
/// the students (`changed N`), `requests` tells how many requests it served since the
/// last asking (`requests N`). It stops when its input closes.
#[derive(Debug, clap::Args)]
pub struct BenchSimArgs {
    #[arg(long)]
    pub students: usize,
    #[arg(long)]
    pub schools: usize,
    #[arg(long)]
    pub seed: u64,
}

pub async fn serve_sim(args: BenchSimArgs) -> anyhow::Result<()> {
    let config = sim::powerschool::SimConfig {
        students: args.students,
        schools: args.schools,
        seed: args.seed,
        ..sim::powerschool::SimConfig::default()
    };
    let sim = sim::powerschool::Simulator::start(config)
        .await
        .context("start the simulator")?;
    println!("bench simulator at {}", sim.base_url());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut round = 0u64;
    while let Some(line) = rx.recv().await {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("change"), Some(p)) => {
                let percent: f64 = p.parse().unwrap_or(1.0);
                let step = ((100.0 / percent.max(0.001)).round() as usize).max(1);
                round += 1;
                let n = sim.edit(|d| {
                    let mut n = 0;
                    for s in d.students.iter_mut().step_by(step) {
                        s.last_name = format!("{}-{round}", s.last_name);
                        n += 1;
                    }
                    n
                });
                println!("changed {n}");
            }
            (Some("requests"), _) => {
                let n = sim.requests().len();
                sim.clear_requests();
                println!("requests {n}");
            }
            _ => println!("unknown {line}"),
        }
    }
    sim.shutdown().await;
    Ok(())
}

/// The bench's simulator process.
struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
    url: String,
}

impl SimProcess {
    fn start(args: &BenchArgs) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("find this program")?;
        let mut child = Command::new(exe)
            .args(["bench-sim", "--students", &args.students.to_string()])
            .args(["--schools", &args.schools.to_string()])
            .args(["--seed", &args.seed.to_string(), "--log-level", "warn"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("start the bench simulator")?;
        let stdin = child.stdin.take().context("the simulator's input")?;
        let stdout = child.stdout.take().context("the simulator's output")?;
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(600))
            .context("the simulator did not start")?;
        let url = first
            .strip_prefix("bench simulator at ")
            .with_context(|| format!("the simulator said {first:?}"))?
            .to_owned();
        Ok(Self {
            child,
            stdin,
            lines,
            url,
        })
    }

    fn ask(&mut self, line: &str) -> anyhow::Result<u64> {
        writeln!(self.stdin, "{line}").context("tell the simulator")?;
        let answer = self
            .lines
            .recv_timeout(Duration::from_secs(600))
            .context("the simulator did not answer")?;
        answer
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("the simulator answered {answer:?}"))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

tokio::task_local! {
    /// The time one spot sync spent waiting on the source.
    static SOURCE_TIME: Cell<Duration>;
}

/// A connector that counts the time its one-user reads take, so a spot sync's service
/// time can leave the source's out.
#[derive(Debug)]
struct Timed(Arc<dyn Connector>);

#[async_trait::async_trait]
impl Connector for Timed {
    async fn check(&self) -> CheckReport {
        self.0.check().await
    }

    fn roster(&self) -> RosterStream {
        self.0.roster()
    }

    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        let started = Instant::now();
        let found = self.0.user(user).await;
        let _ = SOURCE_TIME.try_with(|t| t.set(t.get() + started.elapsed()));
        found
    }
}

#[derive(Debug)]
struct TimedFactory(powerschool::PowerSchoolFactory);

impl ConnectorFactory for TimedFactory {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    fn display_name(&self) -> &'static str {
        self.0.display_name()
    }
    fn link_rules(&self) -> model::link::LinkRuleSet {
        self.0.link_rules()
    }
    fn description(&self) -> &'static str {
        self.0.description()
    }
    fn settings(&self) -> &'static [connector::settings::SettingSpec] {
        self.0.settings()
    }
    fn validate(
        &self,
        config: &ConnectorConfig,
        district: &DistrictSettings,
    ) -> Result<(), model::ValidationErrors> {
        self.0.validate(config, district)
    }
    fn build(
        &self,
        config: &ConnectorConfig,
        http: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        Ok(Arc::new(Timed(self.0.build(config, http)?)))
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
        .start_sync(&id, RunMode::Full, RunTrigger::Manual)
        .await?;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = engine.get_run(&id, run.id).await?;
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
    Ok(store
        .table_sizes(&["change_log"])
        .await?
        .first()
        .map_or(0, |t| t.rows))
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

/// `rostersync bench-load`: takes the roster and change log of one store and loads them
/// into another, empty, of the same schema; prints `loaded ROWS in SECONDS`. The bench
/// runs it as a child process.
#[derive(Debug, clap::Args)]
pub struct BenchLoadArgs {
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub to: String,
}

pub async fn bulk_load(args: BenchLoadArgs) -> anyhow::Result<()> {
    let from = Store::connect(&args.from).await?;
    let to = Store::connect(&args.to).await?;
    let tables: Vec<&str> = PARENT_TABLES.iter().chain(ROSTER_TABLES).copied().collect();
    let dump = from.dump_tables(&tables).await?;
    let started = Instant::now();
    let rows = to.bulk_load(&dump).await?;
    println!("loaded {rows} in {}", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs `bench-load` from `from` into `to`: the rows it loaded and how long loading took.
fn bulk_load_in_child(from: &str, to: &str) -> anyhow::Result<(u64, Duration)> {
    let exe = std::env::current_exe().context("find this program")?;
    let out = Command::new(exe)
        .args([
            "bench-load",
            "--from",
            from,
            "--to",
            to,
            "--log-level",
            "warn",
        ])
        .output()
        .context("run the bulk load")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "the bulk load failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words = text.split_whitespace().skip(1);
    let rows = words.next().and_then(|w| w.parse().ok());
    let secs = words.nth(1).and_then(|w| w.parse::<f64>().ok());
    match (rows, secs) {
        (Some(rows), Some(secs)) => Ok((rows, Duration::from_secs_f64(secs))),
        _ => anyhow::bail!("the bulk load said {text:?}"),
    }
}

async fn measure(
    database: BenchDatabase,
    args: &BenchArgs,
    sim: &mut SimProcess,
    dir: &std::path::Path,
) -> anyhow::Result<Figures> {
    let mut f = Figures::default();
    let id = district_id();
    let settings = BTreeMap::from([
        ("base_url".to_owned(), sim.url.clone()),
        (
            "client_id".to_owned(),
            sim::powerschool::SimConfig::default().client_id,
        ),
    ]);
    let secrets = BTreeMap::from([(
        "client_secret".to_owned(),
        sim::powerschool::SimConfig::default().client_secret,
    )]);
    let http = HttpConfig {
        targets: connector::outbound::Targets::Any,
        ..HttpConfig::default()
    };

    // 1. Pull only.
    sim.ask("requests")?;
    let config = ConnectorConfig {
        kind: "powerschool".into(),
        settings: settings.clone(),
        secrets: secrets
            .iter()
            .map(|(k, v)| (k.clone(), model::Secret::new(v.clone())))
            .collect(),
    };
    let connector = powerschool::PowerSchoolFactory.build(&config, &http)?;
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
    let (rows, took) = bulk_load_in_child(&sync_url, &raw_url)?;
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

    // 6. Bytes on disk.
    let tables: Vec<&str> = ROSTER_TABLES.iter().chain(RUN_TABLES).copied().collect();
    f.sizes = store.table_sizes(&tables).await?;
    drop(engine);
    drop(store);
    if database == BenchDatabase::Postgres {
        store::raw::drop_database(&args.postgres, &pg_name("sync")).await?;
    }
    Ok(f)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The table, one column per database.
fn render(args: &BenchArgs, results: &[(BenchDatabase, Figures)]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, cell: &dyn Fn(&Figures) -> String| {
        rows.push((
            label.to_owned(),
            results.iter().map(|(_, f)| cell(f)).collect(),
        ));
    };
    row("1. pull only", &|f| secs(f.pull));
    row("   records / requests", &|f| {
        format!("{} / {}", f.records, f.requests)
    });
    row("   requests per 1,000 students", &|f| {
        format!(
            "{:.1}",
            f.requests as f64 * 1000.0 / args.students.max(1) as f64
        )
    });
    row("2. raw bulk load", &|f| secs(f.bulk));
    row("   rows (roster, change log, district, runs)", &|f| {
        f.bulk_rows.to_string()
    });
    row("3. first sync", &|f| secs(f.first));
    row("   pull and plan", &|f| secs(f.first_phases[0]));
    row("   checks", &|f| secs(f.first_phases[1]));
    row("   apply", &|f| secs(f.first_phases[2]));
    row("   plan items", &|f| f.plan_items.to_string());
    row("4. no-change resync", &|f| secs(f.resync));
    row("   pull and plan / checks / apply", &|f| {
        format!(
            "{} / {} / {}",
            secs(f.resync_phases[0]),
            secs(f.resync_phases[1]),
            secs(f.resync_phases[2])
        )
    });
    row("   roster and change-log rows written", &|f| {
        f.resync_written.to_string()
    });
    row("   staged records rewritten", &|f| {
        f.resync_staged.to_string()
    });
    row("5. resync, students changed", &|f| {
        format!("{} ({} students)", secs(f.changed), f.changed_students)
    });
    row("   plan items / change-log rows", &|f| {
        format!("{} / {}", f.changed_items, f.changed_written)
    });
    row("6. spot sync service p50 / p99", &|f| {
        format!("{} / {}", ms(f.spot_p50), ms(f.spot_p99))
    });
    row(
        "   source time p50 (subtracted)",
        &|f| ms(f.spot_source_p50),
    );
    row(
        &format!("   calls/s, {} callers", args.spot_callers),
        &|f| {
            format!(
                "{:.0}{}",
                f.spot_rate,
                if f.spot_errors > 0 {
                    format!(" ({} failed)", f.spot_errors)
                } else {
                    String::new()
                }
            )
        },
    );
    row("7. peak RSS: first sync / resync", &|f| {
        format!("{} / {}", mib(f.first_peak), mib(f.resync_peak))
    });
    let roster_bytes = |f: &Figures| {
        f.sizes
            .iter()
            .filter(|t| ROSTER_TABLES.contains(&t.table.as_str()) && t.table != "change_log")
            .map(|t| t.bytes)
            .sum::<u64>()
    };
    let bytes_of = |f: &Figures, table: &str| {
        f.sizes
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.bytes)
    };
    row("   bytes: roster tables", &|f| mib(roster_bytes(f)));
    for table in ["change_log", "run_plan", "staged_records", "sync_runs"] {
        row(&format!("   bytes: {table}"), &|f| mib(bytes_of(f, table)));
    }
    row("ratio first / (pull + bulk)   ≤ 1.5", &|f| {
        format!("{:.2}", ratio(f.first, f.pull + f.bulk))
    });
    row("ratio apply / bulk            ≤ 2", &|f| {
        format!("{:.2}", ratio(f.first_phases[2], f.bulk))
    });
    row("ratio resync / pull           ≤ 1.1", &|f| {
        format!("{:.2}", ratio(f.resync, f.pull))
    });
    row("ratio (plans + log) / roster  ≤ 1", &|f| {
        format!(
            "{:.2}",
            (bytes_of(f, "run_plan") + bytes_of(f, "change_log")) as f64
                / roster_bytes(f).max(1) as f64
        )
    });

    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let width = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|c| c.chars().count()))
        .chain(results.iter().map(|(d, _)| d.name().len()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "rostersync bench: {} students in {} schools (seed {}), PowerSchool simulator over the loopback\n",
        args.students, args.schools, args.seed
    );
    out.push_str(&format!("{:label_width$}", ""));
    for (d, _) in results {
        out.push_str(&format!("  {:>width$}", d.name()));
    }
    out.push('\n');
    for (label, cells) in rows {
        out.push_str(&format!("{label:label_width$}"));
        for c in cells {
            out.push_str(&format!("  {c:>width$}"));
        }
        out.push('\n');
    }
    out
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
    print!("{}", render(&args, &results));
    Ok(())
}
