//! The [`Connector`] trait: what every source does once it is configured.
//!
//! Shaped after the check / read split of connector protocols, not after any one SIS:
//!
//! | | `check` | `roster` | `user` |
//! |---|---|---|---|
//! | **PowerSchool** | token, `/ws/v1/metadata`, school and student counts, one probe per table and PowerQuery the pull reads (so a missing field grant is named) | schools; per school, pages of students (status ≤ 0); per page, the contacts (table access) and guardian accounts (`student_guardian_detail`) of those students | `/ws/v1/student/{dcid}` or the guardian's `student_guardian_detail` rows, with their contacts |
//! | **Clever** | token owner (`/me`), district, school count | `/schools`, `/students`, `/contacts`, `/teachers`, `/sections` by `starting_after`; counts are what was paged once the last page came back empty | `/users/{id}` and its `/contacts` or `/students` |
//! | **OneRoster (ClassLink)** | OAuth token, `orgs?limit=1` with `X-Total-Count` | `orgs`, `users` by role, `classes`, `enrollments` by `limit`/`offset`; `X-Total-Count` is the declared count | `users/{sourcedId}` and its `agents` / `students` |
//!
//! A roster stream yields bounded batches and ends with exactly one
//! [`RosterEvent::Complete`]; an error ends it instead. The producer runs as its own task
//! behind a small bounded channel, so a slow consumer slows the pull rather than letting
//! batches pile up, and dropping the stream stops the pull.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::stream::BoxStream;
use model::ids::SourceId;
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::error::ConnectorError;
use crate::pull::RosterEvent;

/// The items of a pull: events, or the error that ended it.
pub type RosterStream = BoxStream<'static, Result<RosterEvent, ConnectorError>>;

/// A configured source.
#[async_trait::async_trait]
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// Can we authenticate and see the district? Never fails: every problem is a failed
    /// step of the report, in words a district administrator can act on.
    async fn check(&self) -> CheckReport;

    /// The whole district as a stream of batches ending in [`RosterEvent::Complete`].
    fn roster(&self) -> RosterStream;

    /// One user's current record with what the link rules need; `None` when the source
    /// does not know the user.
    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError>;

    /// The link rules this source's relationships are held to — and so what its word
    /// covers in the district (the policy's `Authority` of the set); its factory's.
    fn link_rules(&self) -> model::link::LinkRuleSet;
}

/// A user to look up at the source, by the source's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Student(SourceId),
    Guardian(SourceId),
}

/// What the source holds about one user: for a student, the student, its contacts and
/// the guardian accounts with access to it; for a guardian, its account, the students it
/// has access to, and their contacts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserSnapshot {
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub guardian_accounts: Vec<GuardianAccount>,
}

/// The outcome of [`Connector::check`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckReport {
    pub steps: Vec<CheckStep>,
    /// What the source says it is (e.g. "PowerSchool 24.7.0").
    pub source_version: Option<String>,
    pub schools: Option<u64>,
    pub students: Option<u64>,
}

impl CheckReport {
    /// True when no step failed.
    pub fn ok(&self) -> bool {
        self.steps
            .iter()
            .all(|s| !matches!(s.outcome, CheckOutcome::Failed { .. }))
    }

    pub fn passed(&mut self, name: &str, detail: impl Into<String>) {
        self.push(
            name,
            CheckOutcome::Passed {
                detail: detail.into(),
            },
        );
    }

    pub fn failed(&mut self, name: &str, problem: impl Into<String>, cause: impl Into<String>) {
        self.push(
            name,
            CheckOutcome::Failed {
                problem: problem.into(),
                cause: cause.into(),
            },
        );
    }

    /// The source refuses an optional kind: runs go on without it.
    pub fn limited(&mut self, name: &str, problem: impl Into<String>, cause: impl Into<String>) {
        self.push(
            name,
            CheckOutcome::Limited {
                problem: problem.into(),
                cause: cause.into(),
            },
        );
    }

    /// Probes an optional kind at `endpoint`: passed when it answers, limited (what the
    /// district will not get, and why) when the source refuses it (403, 404), failed
    /// on any other error.
    pub fn optional<T>(&mut self, name: &str, kinds: &str, read: &Result<T, ConnectorError>) {
        match read {
            Ok(_) => self.passed(name, format!("{kinds} can be read")),
            Err(e) => match crate::pull::Unavailable::refusal(e) {
                Some((_, reason)) => self.limited(
                    name,
                    format!(
                        "{kinds} will not be synced: {reason}; students and guardians still are. Ask the district to grant the application access to them"
                    ),
                    e.to_string(),
                ),
                None => self.failed(name, format!("{kinds} could not be read"), e.to_string()),
            },
        }
    }

    pub fn skipped(&mut self, name: &str, reason: impl Into<String>) {
        self.push(
            name,
            CheckOutcome::Skipped {
                reason: reason.into(),
            },
        );
    }

    fn push(&mut self, name: &str, outcome: CheckOutcome) {
        self.steps.push(CheckStep {
            name: name.to_owned(),
            outcome,
        });
    }
}

/// One step of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckStep {
    pub name: String,
    pub outcome: CheckOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckOutcome {
    Passed {
        detail: String,
    },
    /// `problem` is for the district administrator; `cause` is the technical reason
    /// (endpoint and answer) for support.
    Failed {
        problem: String,
        cause: String,
    },
    /// Not tried because an earlier step failed.
    Skipped {
        reason: String,
    },
    /// The source refuses an optional kind: the district will not get it, and runs go
    /// on without it. Not a failure of the check.
    Limited {
        problem: String,
        cause: String,
    },
}

/// Why a roster producer stopped early.
#[derive(Debug)]
pub enum PullStop {
    /// The pull failed; the error ends the stream.
    Failed(ConnectorError),
    /// The consumer dropped the stream.
    Cancelled,
}

impl From<ConnectorError> for PullStop {
    fn from(e: ConnectorError) -> Self {
        PullStop::Failed(e)
    }
}

/// Where a roster producer sends its events.
#[derive(Debug, Clone)]
pub struct RosterSink {
    tx: mpsc::Sender<Result<RosterEvent, ConnectorError>>,
    completed: Arc<AtomicBool>,
}

impl RosterSink {
    pub async fn send(&self, event: RosterEvent) -> Result<(), PullStop> {
        let complete = matches!(event, RosterEvent::Complete(_));
        self.tx
            .send(Ok(event))
            .await
            .map_err(|_| PullStop::Cancelled)?;
        if complete {
            self.completed.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The outcome of reading an optional kind (SPEC §2c): a refusal (403, 404) sends
    /// each of `kinds` as [`RosterEvent::Unavailable`] and answers `false`, so the pull
    /// goes on without them; any other error stays the pull's error. `true` when the
    /// kind was read.
    pub async fn optional(
        &self,
        read: Result<(), PullStop>,
        kinds: &[crate::pull::RecordKind],
    ) -> Result<bool, PullStop> {
        let e = match read {
            Ok(()) => return Ok(true),
            Err(PullStop::Failed(e)) => e,
            Err(stop) => return Err(stop),
        };
        let refused: Vec<crate::pull::Unavailable> = kinds
            .iter()
            .filter(|k| k.is_optional())
            .filter_map(|k| crate::pull::Unavailable::from_refusal(*k, &e))
            .collect();
        if refused.is_empty() {
            return Err(e.into());
        }
        tracing::warn!(error = %e, source_said = e.source_said().unwrap_or(""), "an optional kind is refused; the pull goes on without it");
        for u in refused {
            self.send(RosterEvent::Unavailable(u)).await?;
        }
        Ok(false)
    }
}

/// Runs `producer` as a task and returns its events as a stream. At most `capacity`
/// batches wait in between. An error from the producer becomes the stream's last item;
/// a producer that returns without having sent [`RosterEvent::Complete`] is reported as
/// [`ConnectorError::EndedEarly`], so a stream never just ends short.
pub fn roster_stream<F, Fut>(capacity: usize, producer: F) -> RosterStream
where
    F: FnOnce(RosterSink) -> Fut,
    Fut: Future<Output = Result<(), PullStop>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let completed = Arc::new(AtomicBool::new(false));
    let sink = RosterSink {
        tx: tx.clone(),
        completed: completed.clone(),
    };
    let work = producer(sink);
    // The pull logs under whatever asked for it (a run: its district and run id).
    let span = tracing::Span::current();
    let task = async move {
        match work.await {
            Err(PullStop::Failed(e)) => {
                let _ = tx.send(Err(e)).await;
            }
            Ok(()) if !completed.load(Ordering::SeqCst) => {
                let _ = tx.send(Err(ConnectorError::EndedEarly)).await;
            }
            Ok(()) | Err(PullStop::Cancelled) => {}
        }
    };
    tokio::spawn(tracing::Instrument::instrument(task, span));
    Box::pin(ReceiverStream::new(rx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::PullCounts;
    use futures::StreamExt;

    async fn collect(stream: RosterStream) -> Vec<Result<RosterEvent, ConnectorError>> {
        stream.collect().await
    }

    #[tokio::test]
    async fn a_stream_ends_with_its_completion() {
        let items = collect(roster_stream(2, |sink| async move {
            sink.send(RosterEvent::Schools(vec![])).await?;
            sink.send(RosterEvent::Complete(PullCounts::default()))
                .await?;
            Ok(())
        }))
        .await;
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Ok(RosterEvent::Complete(_))));
    }

    #[tokio::test]
    async fn a_failed_producer_ends_the_stream_with_its_error() {
        let items = collect(roster_stream(2, |sink| async move {
            sink.send(RosterEvent::Schools(vec![])).await?;
            Err(ConnectorError::Timeout {
                endpoint: "GET /ws/v1/district/school".into(),
                timeout: std::time::Duration::from_secs(1),
            }
            .into())
        }))
        .await;
        assert!(matches!(
            items.last(),
            Some(Err(ConnectorError::Timeout { .. }))
        ));
    }

    #[tokio::test]
    async fn a_producer_that_forgets_to_complete_is_an_error() {
        let items = collect(roster_stream(2, |sink| async move {
            sink.send(RosterEvent::Schools(vec![])).await?;
            Ok(())
        }))
        .await;
        assert!(matches!(
            items.last(),
            Some(Err(ConnectorError::EndedEarly))
        ));
    }
}
