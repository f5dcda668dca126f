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
//! source lists — in the account, or on its own ([`RosterEvent::AccountStudents`]) — is
//! a record of its own, so an account sent with each page of its students is one
//! account, and the pairs can be read student by student.

use std::collections::HashMap;
use std::sync::Arc;

use connector::{Connector, PullCounts, RecordKind, RosterEvent, Tally};
use futures::StreamExt;
use model::district::District;
use model::ids::SourceId;
use model::run::SyncRun;
use model::staging::{compound_key, StagedKind, StagedRecord};
use model::validate;
use serde::Serialize;

use super::{RunControl, Stop};
use crate::Engine;

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

/// A source record as staged: our ids are not the source's to give, so the ids a
/// connector filled in are cleared (the content hash must not move with them).
trait Unassigned: Clone {
    fn unassigned(&self) -> Self;
}

impl Unassigned for model::roster::School {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::SchoolId::unassigned(),
            ..self.clone()
        }
    }
}

impl Unassigned for model::roster::Staff {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::StaffId::unassigned(),
            ..self.clone()
        }
    }
}

impl Unassigned for model::roster::Classroom {
    fn unassigned(&self) -> Self {
        Self {
            id: model::ids::ClassroomId::unassigned(),
            ..self.clone()
        }
    }
}

/// The records of one event, deduplicated by kind and key as they are added.
struct Batch {
    event: u64,
    records: Vec<StagedRecord>,
    at: HashMap<(StagedKind, String), usize>,
}

impl Batch {
    fn new(event: u64) -> Self {
        Batch {
            event,
            records: Vec::new(),
            at: HashMap::new(),
        }
    }

    fn arrival(&self, i: usize) -> String {
        format!("event {}, record {}", self.event, i + 1)
    }

    /// Adds a record. The same key twice in one event: the same content is one record;
    /// other content is kept as the first record's duplicate.
    fn push(&mut self, kind: StagedKind, key: String, group: String, payload: String, i: usize) {
        let hash = bytes_hash(payload.as_bytes());
        let arrival = self.arrival(i);
        if let Some(&at) = self.at.get(&(kind, key.clone())) {
            let first = &mut self.records[at];
            if first.hash != hash && first.duplicate.is_none() {
                first.duplicate = Some((hash, arrival));
            }
            return;
        }
        self.at.insert((kind, key.clone()), self.records.len());
        self.records.push(StagedRecord {
            kind,
            key,
            group,
            hash,
            arrival,
            payload,
            rejected: None,
            duplicate: None,
        });
    }

    /// Stages that `account` may see `student`: a record of its own, read student by
    /// student.
    fn account_student(&mut self, account: &SourceId, student: &SourceId, i: usize) {
        self.push(
            StagedKind::AccountStudent,
            compound_key(&[account.as_str(), student.as_str()]),
            student.to_string(),
            to_json(&(account.as_str(), student.as_str())),
            i,
        );
    }

    /// Stages a refused record, when its key can be read, so it counts as present.
    fn refuse(&mut self, kind: StagedKind, key: Option<String>, reason: &str, i: usize) {
        let Some(key) = key.filter(|k| !k.trim().is_empty() && !k.chars().any(char::is_control))
        else {
            return;
        };
        let payload = String::new();
        let group = key.clone();
        self.push(kind, key.clone(), group, payload, i);
        if let Some(&at) = self.at.get(&(kind, key)) {
            self.records[at].rejected = Some(reason.to_owned());
        }
    }
}

impl Engine {
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
            let mut batch = Batch::new(event);
            let mut refused = Vec::new();
            macro_rules! each {
                ($v:expr, $kind:expr, $record:expr, $check:expr, $key:expr, $group:expr) => {
                    for (i, r) in $v.iter().enumerate() {
                        match $check(r) {
                            Ok(()) => batch.push($kind, $key(r), $group(r), to_json(r), i),
                            Err(reason) => {
                                batch.refuse($kind, Some($key(r)), &reason, i);
                                pulled.refused.add($record, 1);
                                refused.push(format!(
                                    "refused {} {:?} ({}): {reason}",
                                    $kind.as_str(),
                                    $key(r),
                                    batch.arrival(i)
                                ));
                            }
                        }
                    }
                };
            }
            match &e {
                RosterEvent::Schools(v) => each!(
                    v.iter().map(Unassigned::unassigned).collect::<Vec<_>>(),
                    StagedKind::School,
                    RecordKind::School,
                    validate::school,
                    |s: &model::roster::School| s.source_id.to_string(),
                    |s: &model::roster::School| s.source_id.to_string()
                ),
                RosterEvent::Students(v) => each!(
                    v,
                    StagedKind::Student,
                    RecordKind::Student,
                    |s| validate::student(s, today),
                    |s: &model::source::SourceStudent| s.source_id.to_string(),
                    |s: &model::source::SourceStudent| s.source_id.to_string()
                ),
                RosterEvent::Contacts(v) => each!(
                    v,
                    StagedKind::Contact,
                    RecordKind::Contact,
                    validate::contact,
                    |c: &model::roster::Contact| compound_key(&[
                        c.student_source_id.as_str(),
                        c.source_id.as_str()
                    ]),
                    |c: &model::roster::Contact| c.student_source_id.to_string()
                ),
                RosterEvent::GuardianAccounts(v) => {
                    for (i, a) in v.iter().enumerate() {
                        if let Err(reason) = validate::guardian_account(a) {
                            batch.refuse(
                                StagedKind::GuardianAccount,
                                Some(a.source_id.to_string()),
                                &reason,
                                i,
                            );
                            pulled.refused.add(RecordKind::GuardianAccount, 1);
                            refused.push(format!(
                                "refused guardian_account {:?} ({}): {reason}",
                                a.source_id.as_str(),
                                batch.arrival(i)
                            ));
                            continue;
                        }
                        let mut account = a.clone();
                        let students = std::mem::take(&mut account.student_source_ids);
                        let key = account.source_id.to_string();
                        batch.push(
                            StagedKind::GuardianAccount,
                            key.clone(),
                            key,
                            to_json(&account),
                            i,
                        );
                        for s in students {
                            batch.account_student(&account.source_id, &s, i);
                        }
                    }
                }
                RosterEvent::AccountStudents(v) => {
                    for (i, p) in v.iter().enumerate() {
                        if let Err(reason) = validate::account_student(p) {
                            // Not staged, as the students of a malformed account are
                            // not; not counted, as pairs never are.
                            refused.push(format!(
                                "refused account_student {:?} ({}): {reason}",
                                compound_key(&[
                                    p.account_source_id.as_str(),
                                    p.student_source_id.as_str()
                                ]),
                                batch.arrival(i)
                            ));
                            continue;
                        }
                        batch.account_student(&p.account_source_id, &p.student_source_id, i);
                    }
                }
                RosterEvent::Staff(v) => each!(
                    v.iter().map(Unassigned::unassigned).collect::<Vec<_>>(),
                    StagedKind::Staff,
                    RecordKind::Staff,
                    validate::staff,
                    |s: &model::roster::Staff| s.source_id.to_string(),
                    |s: &model::roster::Staff| s.source_id.to_string()
                ),
                RosterEvent::Classrooms(v) => each!(
                    v.iter().map(Unassigned::unassigned).collect::<Vec<_>>(),
                    StagedKind::Classroom,
                    RecordKind::Classroom,
                    validate::classroom,
                    |c: &model::roster::Classroom| c.source_id.to_string(),
                    |c: &model::roster::Classroom| c.source_id.to_string()
                ),
                RosterEvent::Enrollments(v) => each!(
                    v,
                    StagedKind::Enrollment,
                    RecordKind::Enrollment,
                    validate::enrollment,
                    |x: &model::roster::Enrollment| compound_key(&[
                        x.classroom_source_id.as_str(),
                        x.person_source_id.as_str(),
                        enrollment_role(x)
                    ]),
                    |x: &model::roster::Enrollment| x.classroom_source_id.to_string()
                ),
                RosterEvent::Warning(w) => {
                    Self::warn(run, format!("{} {}: {}", w.endpoint, w.record, w.message))
                }
                RosterEvent::Rejected(r) => {
                    let kind = staged_kind(r.kind);
                    batch.refuse(
                        kind,
                        r.source_id.as_ref().map(SourceId::to_string),
                        &r.reason,
                        0,
                    );
                    Self::warn(
                        run,
                        format!("{} {}: refused: {}", r.endpoint, r.record, r.reason),
                    );
                }
                RosterEvent::Unavailable(u) if !u.kind.is_optional() => {
                    return Err(Stop::Failed(format!(
                        "the pull failed, nothing was written: {} cannot be read ({}: {})",
                        u.kind.as_str(),
                        u.endpoint,
                        u.reason
                    )));
                }
                RosterEvent::Unavailable(u) => Self::warn(run, u.to_string()),
                RosterEvent::Complete(counts) => declared = Some(*counts),
            }
            for w in refused {
                Self::warn(run, w);
            }
            if !batch.records.is_empty() && batches.send(batch.records).await.is_err() {
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
            let staged = staged_kind(kind);
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

fn staged_kind(kind: RecordKind) -> StagedKind {
    match kind {
        RecordKind::School => StagedKind::School,
        RecordKind::Student => StagedKind::Student,
        RecordKind::Contact => StagedKind::Contact,
        RecordKind::GuardianAccount => StagedKind::GuardianAccount,
        RecordKind::Staff => StagedKind::Staff,
        RecordKind::Classroom => StagedKind::Classroom,
        RecordKind::Enrollment => StagedKind::Enrollment,
    }
}

fn enrollment_role(e: &model::roster::Enrollment) -> &'static str {
    match e.role {
        model::roster::EnrollmentRole::Student => "student",
        model::roster::EnrollmentRole::Teacher => "teacher",
    }
}
