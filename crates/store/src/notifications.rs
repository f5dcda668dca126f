//! The notification outbox: one delivery per run event and subscriber the district had
//! when the event was written (in that transaction), tried in event order per subscriber,
//! claimed by one replica at a time, until delivered, given up, or dropped with its
//! subscriber.

use chrono::{DateTime, Utc};
use model::district::DistrictSettings;
use model::ids::DistrictId;
use model::notify::{RunEvent, RunSummary};
use sea_orm::ConnectionTrait;

use crate::convert::stored;
use crate::sql::Params;
use crate::{Store, StoreError};

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// The subscriber answered 2xx.
    Delivered,
    /// Refused or unreachable for as long as a delivery is tried.
    GaveUp,
    /// Its subscriber is no longer the district's.
    Dropped,
}

impl Done {
    pub fn as_str(self) -> &'static str {
        match self {
            Done::Delivered => "delivered",
            Done::GaveUp => "gave_up",
            Done::Dropped => "dropped",
        }
    }
}

/// A delivery due now, claimed by this replica.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub district_id: DistrictId,
    pub subscriber: String,
    pub attempts: u32,
    pub event: RunEvent,
    /// When its event was written: a delivery is tried for a day from then.
    pub since: DateTime<Utc>,
}

/// What the outbox holds for a subscriber (support reads it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub seq: u64,
    pub attempts: u32,
    pub last_error: String,
    /// `pending`, `delivered`, `gave_up` or `dropped`.
    pub outcome: String,
}

/// Queues event `seq` of `district` for each of its subscribers, on `conn` (the
/// transaction that writes the event).
pub(crate) async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    seq: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    let mut p = Params::new(backend);
    let sql = format!(
        "SELECT settings FROM districts WHERE id = {}",
        p.bind(district)
    );
    let Some(row) = conn.query_one(p.statement(sql)).await? else {
        return Ok(());
    };
    let raw: String = row.try_get_by_index(0)?;
    let settings: DistrictSettings = crate::convert::json("district", district, "settings", &raw)?;
    for s in &settings.subscribers {
        let mut p = Params::new(backend);
        let sql = format!(
            "INSERT INTO notification_deliveries (district_id, subscriber, seq, attempts, \
             next_attempt_at, last_error, done_at, outcome) VALUES ({}, {}, {}, 0, {}, '', NULL, 'pending')",
            p.bind(district),
            p.bind(s.name.clone()),
            p.bind(seq),
            p.bind(stored(at)),
        );
        conn.execute(p.statement(sql)).await?;
    }
    Ok(())
}

impl Store {
    /// Claims for `owner`, until `until`, up to `limit` deliveries due at `now`: for each
    /// district's subscriber, its oldest one not done — and only when that one is due and
    /// no other live replica holds it, so a subscriber is told its events in order. A
    /// claim `owner` itself left (it restarted mid-delivery) is taken back at once.
    pub async fn claim_due_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let backend = self.db().get_database_backend();
        let mut p = Params::new(backend);
        let now_at = p.bind(stored(now));
        let now_held = p.bind(stored(now));
        let mine = p.bind(owner);
        let sql = format!(
            "SELECT d.district_id, d.subscriber, d.seq, d.attempts, e.summary, e.created_at \
             FROM notification_deliveries d JOIN run_events e ON e.seq = d.seq \
             WHERE d.done_at IS NULL AND d.next_attempt_at <= {now_at} \
             AND (d.held_until IS NULL OR d.held_until < {now_held} OR d.held_by = {mine}) \
             AND d.seq = (SELECT MIN(x.seq) FROM notification_deliveries x \
                 WHERE x.district_id = d.district_id AND x.subscriber = d.subscriber \
                 AND x.done_at IS NULL) \
             ORDER BY d.seq LIMIT {limit}"
        );
        let rows = self.db().query_all(p.statement(sql)).await?;
        let mut claimed = Vec::new();
        for row in rows {
            let district: String = row.try_get_by_index(0)?;
            let subscriber: String = row.try_get_by_index(1)?;
            let seq: i64 = row.try_get_by_index(2)?;
            let attempts: i32 = row.try_get_by_index(3)?;
            let body: String = row.try_get_by_index(4)?;
            let since: DateTime<Utc> = row.try_get_by_index(5)?;
            let mut p = Params::new(backend);
            let sql = format!(
                "UPDATE notification_deliveries SET held_by = {}, held_until = {} \
                 WHERE district_id = {} AND subscriber = {} AND seq = {} AND done_at IS NULL \
                 AND (held_until IS NULL OR held_until < {} OR held_by = {})",
                p.bind(owner),
                p.bind(stored(until)),
                p.bind(district.clone()),
                p.bind(subscriber.clone()),
                p.bind(seq),
                p.bind(stored(now)),
                p.bind(owner),
            );
            if self.db().execute(p.statement(sql)).await?.rows_affected() == 0 {
                continue;
            }
            let summary: RunSummary =
                crate::convert::json("run event", &seq.to_string(), "summary", &body)?;
            claimed.push(Delivery {
                district_id: crate::convert::parse(
                    "delivery",
                    &district,
                    "district_id",
                    &district,
                )?,
                subscriber,
                attempts: attempts.max(0) as u32,
                event: RunEvent {
                    seq: seq as u64,
                    summary,
                },
                since,
            });
        }
        Ok(claimed)
    }

    /// Records that `d` is done, and how; its subscriber's next event is due at once.
    pub async fn delivery_done(
        &self,
        d: &Delivery,
        how: Done,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut p = Params::new(self.db().get_database_backend());
        let sql = format!(
            "UPDATE notification_deliveries SET done_at = {}, outcome = {}, attempts = {}, \
             last_error = {}, held_by = NULL, held_until = NULL \
             WHERE district_id = {} AND subscriber = {} AND seq = {}",
            p.bind(crate::convert::now()),
            p.bind(how.as_str()),
            p.bind(i64::from(d.attempts) + 1),
            p.bind(error),
            p.bind(d.district_id.to_string()),
            p.bind(d.subscriber.clone()),
            p.bind(d.event.seq as i64),
        );
        self.db().execute(p.statement(sql)).await?;
        Ok(())
    }

    /// Records a failed attempt at `d`: tried again at `next`, `error` kept for support.
    pub async fn delivery_failed(
        &self,
        d: &Delivery,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut p = Params::new(self.db().get_database_backend());
        let sql = format!(
            "UPDATE notification_deliveries SET attempts = {}, next_attempt_at = {}, \
             last_error = {}, held_by = NULL, held_until = NULL \
             WHERE district_id = {} AND subscriber = {} AND seq = {} AND done_at IS NULL",
            p.bind(i64::from(d.attempts) + 1),
            p.bind(stored(next)),
            p.bind(error),
            p.bind(d.district_id.to_string()),
            p.bind(d.subscriber.clone()),
            p.bind(d.event.seq as i64),
        );
        self.db().execute(p.statement(sql)).await?;
        Ok(())
    }

    /// A subscriber's deliveries, oldest first.
    pub async fn deliveries_of(
        &self,
        district: &DistrictId,
        subscriber: &str,
    ) -> Result<Vec<DeliveryState>, StoreError> {
        let mut p = Params::new(self.db().get_database_backend());
        let sql = format!(
            "SELECT seq, attempts, last_error, outcome FROM notification_deliveries \
             WHERE district_id = {} AND subscriber = {} ORDER BY seq",
            p.bind(district.to_string()),
            p.bind(subscriber),
        );
        let rows = self.db().query_all(p.statement(sql)).await?;
        rows.into_iter()
            .map(|row| {
                let seq: i64 = row.try_get_by_index(0)?;
                let attempts: i32 = row.try_get_by_index(1)?;
                Ok(DeliveryState {
                    seq: seq as u64,
                    attempts: attempts.max(0) as u32,
                    last_error: row.try_get_by_index(2)?,
                    outcome: row.try_get_by_index(3)?,
                })
            })
            .collect()
    }
}
