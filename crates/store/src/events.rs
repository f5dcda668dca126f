//! What districts are told: run events, written in the transaction that stores the run's
//! state ([`Store::update_run`]) and numbered in commit order without gaps, read by the
//! event stream and the notification outbox from a `seq`.

use chrono::{DateTime, Utc};
use model::ids::DistrictId;
use model::notify::{RunEvent, RunSummary};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

use crate::sql::Params;
use crate::{Store, StoreError};

/// Appends `summary` as the next event on `conn` (a transaction that also stores the
/// run's state). The counter's row stays locked until that transaction ends, so the next
/// event waits for this one to commit: numbers follow commit order with no gaps.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    summary: &RunSummary,
) -> Result<u64, StoreError> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one(Statement::from_string(
            backend,
            "UPDATE event_counters SET value = value + 1 WHERE name = 'run_events' RETURNING value",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            entity: "event counter",
            id: "run_events".into(),
            field: "value",
            reason: "the counter row is missing".into(),
        })?;
    let seq: i64 = row.try_get_by_index(0)?;
    let body = serde_json::to_string(summary).map_err(|e| StoreError::Corrupt {
        entity: "run event",
        id: summary.run_id.clone(),
        field: "summary",
        reason: e.to_string(),
    })?;
    let mut p = Params::new(backend);
    let sql = format!(
        "INSERT INTO run_events (seq, district_id, run_id, outcome, summary, created_at) \
         VALUES ({}, {}, {}, {}, {}, {})",
        p.bind(seq),
        p.bind(summary.district_id.clone()),
        p.bind(summary.run_id.clone()),
        p.bind(summary.outcome.as_str()),
        p.bind(body),
        p.bind(summary.at),
    );
    conn.execute(p.statement(sql)).await?;
    crate::notifications::enqueue(conn, &summary.district_id, seq, summary.at).await?;
    Ok(seq as u64)
}

impl Store {
    /// Up to `limit` events after `after`, in order, of `districts` (every district with
    /// `None`).
    pub async fn run_events_after(
        &self,
        after: u64,
        districts: Option<&[DistrictId]>,
        limit: u64,
    ) -> Result<Vec<RunEvent>, StoreError> {
        let mut p = Params::new(self.db().get_database_backend());
        let mut sql = format!(
            "SELECT seq, summary FROM run_events WHERE seq > {}",
            p.bind(after as i64)
        );
        if let Some(districts) = districts {
            if districts.is_empty() {
                return Ok(vec![]);
            }
            let marks: Vec<String> = districts.iter().map(|d| p.bind(d.to_string())).collect();
            sql += &format!(" AND district_id IN ({})", marks.join(", "));
        }
        sql += &format!(" ORDER BY seq LIMIT {limit}");
        let rows = self.db().query_all(p.statement(sql)).await?;
        rows.into_iter()
            .map(|row| {
                let seq: i64 = row.try_get_by_index(0)?;
                let body: String = row.try_get_by_index(1)?;
                let summary = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    entity: "run event",
                    id: seq.to_string(),
                    field: "summary",
                    reason: e.to_string(),
                })?;
                Ok(RunEvent {
                    seq: seq as u64,
                    summary,
                })
            })
            .collect()
    }

    /// Drops the run events written before `before` once each of their deliveries is done
    /// (delivered, given up after its day, or dropped with its subscriber), with those
    /// deliveries; an event still being delivered stays. The numbering goes on from the
    /// latest event. Returns how many events went.
    pub async fn prune_run_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let txn = self.db().begin().await?;
        let backend = txn.get_database_backend();
        let mut p = Params::new(backend);
        let sql = format!(
            "DELETE FROM notification_deliveries WHERE done_at IS NOT NULL AND seq IN \
             (SELECT seq FROM run_events WHERE created_at < {})",
            p.bind(before)
        );
        txn.execute(p.statement(sql)).await?;
        let mut p = Params::new(backend);
        let sql = format!(
            "DELETE FROM run_events WHERE created_at < {} AND NOT EXISTS \
             (SELECT 1 FROM notification_deliveries d WHERE d.seq = run_events.seq)",
            p.bind(before)
        );
        let dropped = txn.execute(p.statement(sql)).await?.rows_affected();
        txn.commit().await?;
        Ok(dropped)
    }

    /// The number of the latest event (0 before the first).
    pub async fn run_events_head(&self) -> Result<u64, StoreError> {
        let backend = self.db().get_database_backend();
        let row = self
            .db()
            .query_one(Statement::from_string(
                backend,
                "SELECT value FROM event_counters WHERE name = 'run_events'",
            ))
            .await?;
        let value: i64 = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(value as u64)
    }
}
