//! Watching: one poll of a run feeds every watcher of it on this replica, and a district's
//! change feed read from a cursor.
//!
//! A run is read from the store (another replica may be working it) every
//! [`RUN_POLL`] while anyone watches it, once for all its watchers; the poll stops when
//! the run ends or pauses, or when its last watcher leaves. Each reading carries the run's
//! phase history, so a watcher that reconnects misses no phase change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::ids::{DistrictId, RunId};
use model::run::{RunState, SyncRun};
use tokio::sync::watch;

use crate::sync::Runs;
use crate::{Engine, EngineError};

/// How often a watched run is read.
pub const RUN_POLL: Duration = Duration::from_millis(250);

/// A run as its watchers see it: the latest reading, or why reading failed.
pub type RunReading = Result<Arc<SyncRun>, Arc<EngineError>>;

/// The runs being watched on this replica, each with the channel its poll feeds.
#[derive(Debug, Default)]
pub struct RunWatches {
    runs: Mutex<HashMap<RunId, watch::Sender<RunReading>>>,
}

/// True once a run will change no more without someone acting on it.
pub fn settled(run: &SyncRun) -> bool {
    run.state.is_final() || run.state == RunState::Paused
}

impl Engine {
    /// Watching runs.
    pub fn watches(&self) -> Watches {
        Watches {
            runs: self.runs(),
            polls: self.watches.clone(),
        }
    }
}

/// Watching runs: it needs to read a run and the polls this replica keeps — nothing else
/// of the engine.
#[derive(Debug, Clone)]
pub struct Watches {
    runs: Runs,
    polls: Arc<RunWatches>,
}

impl Watches {
    /// Follows a run: the receiver holds its latest reading, updated when it changes,
    /// until it ends or pauses. Watchers of one run share one poll.
    pub async fn watch_run(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<watch::Receiver<RunReading>, EngineError> {
        let first = Arc::new(self.runs.get_run(district, id).await?);
        let watches = &self.polls;
        let mut runs = watches.runs.lock().unwrap_or_else(|p| p.into_inner());
        // A run in the map has a live poll: it leaves the map, under this lock, before
        // it stops.
        if let Some(sender) = runs.get(&id) {
            return Ok(sender.subscribe());
        }
        let (sender, receiver) = watch::channel(Ok(first.clone()));
        if settled(&first) {
            // Nothing will change: no poll.
            return Ok(receiver);
        }
        runs.insert(id, sender.clone());
        drop(runs);
        let engine = self.clone();
        let district = district.clone();
        tokio::spawn(async move { engine.poll_run(district, id, sender, first).await });
        Ok(receiver)
    }

    async fn poll_run(
        &self,
        district: DistrictId,
        id: RunId,
        sender: watch::Sender<RunReading>,
        mut last: Arc<SyncRun>,
    ) {
        loop {
            tokio::time::sleep(RUN_POLL).await;
            let done = |runs: &mut HashMap<RunId, watch::Sender<RunReading>>| {
                runs.remove(&id);
            };
            if sender.receiver_count() == 0 {
                let mut runs = self.polls.runs.lock().unwrap_or_else(|p| p.into_inner());
                // A watcher may have joined since: only leave when nobody watches.
                if sender.receiver_count() == 0 {
                    done(&mut runs);
                    return;
                }
            }
            match self.runs.get_run(&district, id).await {
                Ok(now) => {
                    let ended = settled(&now);
                    if now != *last {
                        last = Arc::new(now);
                        let _previous = sender.send_replace(Ok(last.clone()));
                    }
                    if ended {
                        let mut runs = self.polls.runs.lock().unwrap_or_else(|p| p.into_inner());
                        done(&mut runs);
                        return;
                    }
                }
                Err(e) => {
                    let _previous = sender.send_replace(Err(Arc::new(e)));
                    let mut runs = self.polls.runs.lock().unwrap_or_else(|p| p.into_inner());
                    done(&mut runs);
                    return;
                }
            }
        }
    }

    /// How many runs this replica is polling for watchers.
    pub fn watched_runs(&self) -> usize {
        self.polls
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}
