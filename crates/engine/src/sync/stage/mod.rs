//! Staging a pull: the connector's stream drained into the store as it arrives, record by
//! record, keyed by kind and source id with a content hash. Memory holds one batch.
//!
//! Each record is checked on its own ([`model::validate`]): a malformed one is refused by
//! itself with a warning naming it, and staged as refused when its id can be read, so it
//! still counts as present (a refused student is never archived). When the source says
//! the pull is complete, the counts are checked (declared = received + rejected by the
//! connector), and the run fails if any kind refused more than the district allows.
//!
//! A guardian account is staged without its students; each account–student pair the
//! source lists — in the account, or on its own ([`connector::RosterEvent::AccountStudents`]) — is
//! a record of its own, so an account sent with each page of its students is one
//! account, and the pairs can be read student by student.

use std::sync::Arc;

use connector::{Connector, PullCounts, RecordKind, Tally};
use futures::StreamExt;
use model::district::District;
use model::run::SyncRun;
use model::staging::{StagedKind, StagedRecord};
use serde::Serialize;

use super::Runs;
use super::{RunControl, Stop};

mod event;

/// Duplicate records listed by name in the run's warnings, per kind.
const NAMED_DUPLICATES: u64 = 20;
/// Batches read from the source and not yet written: the pull runs this far ahead of
/// the store.
const STAGING_QUEUE: usize = 8;

/// What staging learned of the pull.
#[derive(Debug, Default)]
pub(super) struct Pulled {
    pub tally: Tally,
    /// Records the engine refused (malformed), by kind.
    pub refused: PullCounts,
    /// The source said its data changed mid-pull: the pull is to start again.
    changed: Option<String>,
}

/// How many times a pull starts, when the source's data keeps changing while it is read.
const PULL_ATTEMPTS: u32 = 3;

pub use planner::{bytes_hash, content_hash};

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Runs {
    /// Drains the connector into the store under `run`. Fails the run (writing nothing
    /// but the staged records) if the pull fails, ends short, or refuses too much.
    pub(super) async fn stage_pull(
        &self,
        district: &District,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        control: &RunControl,
    ) -> Result<Pulled, Stop> {
        let mut attempt = 1;
        loop {
            // The pull and the writes overlap: batches go to the writer through a short
            // queue, so the source's next pages arrive while the store writes the last.
            let (batches, mut queued) =
                tokio::sync::mpsc::channel::<Vec<StagedRecord>>(STAGING_QUEUE);
            let (store, run_id) = (&self.store, run.id);
            let writer = async move {
                while let Some(records) = queued.recv().await {
                    store.stage(&district.id, run_id, &records).await?;
                }
                Ok::<(), store::StoreError>(())
            };
            let reader = self.read_pull(run, connector.clone(), control, batches);
            let (read, written) = tokio::join!(reader, writer);
            // A store that failed is the cause: the reader only saw its queue close.
            written?;
            let (pulled, declared) = read?;
            let Some(changed) = pulled.changed else {
                return self.check_pull(district, run, pulled, declared).await;
            };
            if attempt == PULL_ATTEMPTS {
                return Err(Stop::Failed(format!(
                    "the pull failed, nothing was written: the source's data kept changing while it was read ({PULL_ATTEMPTS} pulls): {changed}"
                )));
            }
            // What was staged is not one roster: drop it and read the district again.
            self.store.delete_staged(&district.id, run.id).await?;
            Self::warn(run, format!("the pull started again: {changed}"));
            attempt += 1;
        }
    }

    /// Reads the connector's stream into batches of staged records, sent to `batches`;
    /// returns what it learned and the counts the source declared, if it did.
    async fn read_pull(
        &self,
        run: &mut SyncRun,
        connector: Arc<dyn Connector>,
        control: &RunControl,
        batches: tokio::sync::mpsc::Sender<Vec<StagedRecord>>,
    ) -> Result<(Pulled, Option<PullCounts>), Stop> {
        let today = crate::now().date_naive();
        let mut pulled = Pulled::default();
        let mut declared = None;
        let mut stream = connector.roster();
        let mut event = 0u64;
        // A source slow to send its next page (or sending the same page for ever) does not
        // hold a cancel back: every half second the run records its progress, which is
        // how a cancel asked of another replica reaches this one, and looks for a stop.
        let mut tick = tokio::time::interval(super::PROGRESS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = tick.tick() => {
                    if control.stopping() {
                        return Err(Stop::Cancelled);
                    }
                    run.counts.fetched = fetched(&pulled.tally.received);
                    self.save_progress(run).await?;
                    continue;
                }
            };
            let Some(item) = item else { break };
            if control.stopping() {
                return Err(Stop::Cancelled);
            }
            if let Err(e @ connector::ConnectorError::SourceChanged { .. }) = &item {
                tracing::info!(run = %run.id, error = %e, "the source changed during the pull");
                pulled.changed = Some(e.to_string());
                return Ok((pulled, None));
            }
            let e = item.map_err(|e| {
                // What the source said goes to the log; the run's error is in our words.
                tracing::warn!(run = %run.id, error = %e, source_said = e.source_said().unwrap_or(""), "the pull failed");
                Stop::Failed(format!("the pull failed, nothing was written: {e}"))
            })?;
            event += 1;
            pulled.tally.add(&e);
            let staged = event::stage_event(&e, event, today, &mut pulled.refused)?;
            if staged.declared.is_some() {
                declared = staged.declared;
            }
            for text in staged.warnings {
                Self::warn(run, text);
            }
            let records = staged.records;
            if !records.is_empty() && batches.send(records).await.is_err() {
                // The writer stopped on a store error, which the caller reports.
                return Err(Stop::Failed("the store stopped taking the pull".into()));
            }
        }
        Ok((pulled, declared))
    }

    /// Checks a pull the source said was complete: its counts, and what it refused.
    async fn check_pull(
        &self,
        district: &District,
        run: &mut SyncRun,
        pulled: Pulled,
        declared: Option<PullCounts>,
    ) -> Result<Pulled, Stop> {
        run.counts.fetched = fetched(&pulled.tally.received);
        let Some(declared) = declared else {
            return Err(Stop::Failed(
                "the pull ended without the source declaring it complete; nothing was written"
                    .into(),
            ));
        };
        let mismatches = pulled.tally.verify(&declared);
        if !mismatches.is_empty() {
            let list: Vec<String> = mismatches
                .iter()
                .map(|m| {
                    format!(
                        "{}: declared {}, received {}",
                        m.entity, m.declared, m.received
                    )
                })
                .collect();
            return Err(Stop::Failed(format!(
                "the pull is incomplete ({}); nothing was written or archived",
                list.join("; ")
            )));
        }
        self.check_refused(district, run, &declared, &pulled)
            .await?;
        Ok(pulled)
    }

    /// Names the records the source sent twice with different content, and fails the
    /// run when any kind refused more records than the district allows.
    async fn check_refused(
        &self,
        district: &District,
        run: &mut SyncRun,
        declared: &PullCounts,
        pulled: &Pulled,
    ) -> Result<(), Stop> {
        let mut over = Vec::new();
        for kind in RecordKind::ALL {
            let staged = StagedKind::from(kind);
            let twice = self
                .store
                .count_staged_duplicates(&district.id, run.id, staged)
                .await?;
            if twice > 0 {
                for d in self
                    .store
                    .staged_duplicates(&district.id, run.id, staged, NAMED_DUPLICATES)
                    .await?
                {
                    let (_, second) = d.duplicate.clone().unwrap_or_default();
                    Self::warn(
                        run,
                        format!(
                            "{} {:?} was sent twice with different content ({} and {}); both were refused and what we hold of it is left as it is",
                            staged.as_str(),
                            d.key,
                            d.arrival,
                            second
                        ),
                    );
                }
            }
            let refused = pulled.tally.rejected.get(kind) + pulled.refused.get(kind) + twice;
            let of = declared.get(kind).max(1);
            let share = refused as f64 * 100.0 / of as f64;
            let allowed = district.settings.max_rejected(kind.as_str());
            if refused > 0 && share > allowed {
                over.push(format!(
                    "{refused} of {} {} ({share:.1} %, more than the {allowed} % allowed)",
                    declared.get(kind),
                    kind.as_str()
                ));
            }
        }
        if over.is_empty() {
            return Ok(());
        }
        Err(Stop::Failed(format!(
            "the pull refused too many malformed records: {}; nothing was written",
            over.join("; ")
        )))
    }
}

/// The records received so far, by kind, as a run's counts show them.
fn fetched(received: &PullCounts) -> std::collections::BTreeMap<String, u64> {
    RecordKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_owned(), received.get(k)))
        .filter(|(_, n)| *n > 0)
        .collect()
}
