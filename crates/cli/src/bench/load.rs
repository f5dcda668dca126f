//! The bench's raw limit: the stored rows loaded into an empty store, in a process of its
//! own so the rows it holds are not counted in the sync's memory.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use store::raw::{PARENT_TABLES, ROSTER_TABLES};
use store::Store;

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
pub(super) fn bulk_load_in_child(from: &str, to: &str) -> anyhow::Result<(u64, Duration)> {
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
