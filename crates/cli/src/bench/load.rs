//! The bench's raw limit: the stored rows written to a file, then loaded from it into an
//! empty store, in a process of its own so what it holds is not counted in the sync's
//! memory. Only the load is timed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use store::tables::{PARENT_TABLES, ROSTER_TABLES};
use store::Store;

/// `rostersync bench-load`: writes the roster and change log of one store to a file, then
/// loads them from it into another store, empty, of the same schema; prints
/// `loaded ROWS in SECONDS` (the load alone) and removes the file. The bench runs it as a
/// child process.
#[derive(Debug, clap::Args)]
pub struct BenchLoadArgs {
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub to: String,
    /// The file the rows pass through (removed after).
    #[arg(long)]
    pub dump: PathBuf,
}

pub async fn bulk_load(args: BenchLoadArgs) -> anyhow::Result<()> {
    let from = Store::connect(&args.from).await?;
    let to = Store::connect(&args.to).await?;
    let tables: Vec<&str> = PARENT_TABLES.iter().chain(ROSTER_TABLES).copied().collect();
    let loaded = async {
        let dump = from.dump_tables(&tables, &args.dump).await?;
        let started = Instant::now();
        let rows = to.bulk_load(&dump).await?;
        Ok::<_, store::StoreError>((rows, started.elapsed()))
    }
    .await;
    let _ = std::fs::remove_file(&args.dump);
    let (rows, took) = loaded?;
    println!("loaded {rows} in {}", took.as_secs_f64());
    Ok(())
}

/// Runs `bench-load` from `from` into `to` through a file at `dump`: the rows it loaded
/// and how long loading took.
pub(super) fn bulk_load_in_child(
    from: &str,
    to: &str,
    dump: &Path,
) -> anyhow::Result<(u64, Duration)> {
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
            "--dump",
        ])
        .arg(dump)
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
