//! The bench's simulator: a generated district served from a process of its own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::BenchArgs;

/// `rostersync bench-sim`: the simulator of a bench, in its own process. It prints its
/// URL, then answers lines on standard input: `change P` changes the last name of P % of
/// the students (`changed N`), `requests` tells how many requests it served since the
/// last asking (`requests N`), `latency MS` makes every answer wait MS milliseconds
/// (`latency MS`), `inflight` tells the most requests it answered at once since the last
/// asking (`inflight N`). It stops when its input closes.
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
            (Some("latency"), Some(ms)) => {
                let ms: u64 = ms.parse().unwrap_or(0);
                sim.set_latency(Duration::from_millis(ms));
                println!("latency {ms}");
            }
            (Some("inflight"), _) => println!("inflight {}", sim.take_most_in_flight()),
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
pub(super) struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
    pub(super) url: String,
}

impl SimProcess {
    pub(super) fn start(args: &BenchArgs) -> anyhow::Result<Self> {
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

    pub(super) fn ask(&mut self, line: &str) -> anyhow::Result<u64> {
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
