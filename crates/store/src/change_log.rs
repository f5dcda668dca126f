//! The change log: every field a run or spot sync changed, from what to what.

use chrono::{DateTime, Utc};
use model::change::{ChangeRecord, ChangeSource, Entity, FieldChange, Operation};
use model::ids::{DistrictId, RunId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::convert::{named, parse};
use crate::entities::change_log as row;
use crate::{Store, StoreError, BATCH_ROWS};

const ENTITY: &str = "change";

fn source_parts(source: ChangeSource) -> (&'static str, String) {
    match source {
        ChangeSource::Run(id) => ("run", id.to_string()),
        ChangeSource::SpotSync(id) => ("spot_sync", id.to_string()),
    }
}

impl Store {
    /// Appends `changes` for `source`, numbered from `first_seq`, in one transaction.
    /// Appending the same numbers again fails rather than duplicating a change.
    pub async fn append_changes(
        &self,
        district: &DistrictId,
        source: ChangeSource,
        first_seq: u64,
        changes: &[FieldChange],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let txn = self.db().begin().await?;
        append(&txn, district, source, first_seq, changes.iter(), at).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The changes of `source` after `after_seq`, in order, at most `limit`.
    pub async fn list_changes(
        &self,
        district: &DistrictId,
        source: ChangeSource,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let (kind, id) = source_parts(source);
        let mut query = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::SourceKind.eq(kind))
            .filter(row::Column::SourceId.eq(id))
            .order_by_asc(row::Column::Seq);
        if let Some(after) = after_seq {
            query = query.filter(row::Column::Seq.gt(after as i64));
        }
        query
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| from_row(source, m))
            .collect()
    }

    /// How many changes the log holds for a district.
    pub async fn count_changes(&self, district: &DistrictId) -> Result<u64, StoreError> {
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .count(self.db())
            .await?)
    }

    /// How many change-log rows the run `run` wrote in a district.
    pub async fn count_change_log_rows_of_run(
        &self,
        district: &DistrictId,
        run: RunId,
    ) -> Result<u64, StoreError> {
        let (kind, id) = source_parts(ChangeSource::Run(run));
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::SourceKind.eq(kind))
            .filter(row::Column::SourceId.eq(id))
            .count(self.db())
            .await?)
    }

    /// The number the next change of `source` takes: one past the highest, or 0 when the
    /// log has none.
    pub async fn next_change_seq(
        &self,
        district: &DistrictId,
        source: ChangeSource,
    ) -> Result<u64, StoreError> {
        let (kind, id) = source_parts(source);
        let max: Option<Option<i64>> = row::Entity::find()
            .select_only()
            .expr(Expr::col(row::Column::Seq).max())
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::SourceKind.eq(kind))
            .filter(row::Column::SourceId.eq(id.as_str()))
            .into_tuple()
            .one(self.db())
            .await?;
        match max.flatten() {
            None => Ok(0),
            Some(max) => {
                let max: u64 = parse(ENTITY, &id, "seq", &max.to_string())?;
                Ok(max + 1)
            }
        }
    }
}

/// Appends `changes` for `source` on `conn`, numbered from `first_seq`, [`BATCH_ROWS`]
/// per statement; returns how many rows it wrote.
pub(crate) async fn append<'a, C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    source: ChangeSource,
    first_seq: u64,
    changes: impl Iterator<Item = &'a FieldChange>,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let (kind, id) = source_parts(source);
    let changes: Vec<&FieldChange> = changes.collect();
    if changes.is_empty() {
        return Ok(0);
    }
    let first_feed = claim_feed(conn, district, changes.len() as u64).await?;
    let rows: Vec<row::Model> = changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| row::Model {
            district_id: district.to_string(),
            source_kind: kind.to_owned(),
            source_id: id.clone(),
            seq: (first_seq + i as u64) as i64,
            entity: c.entity.as_str().to_owned(),
            record_id: c.record_id.clone(),
            operation: c.operation.as_str().to_owned(),
            field: c.field.clone(),
            old_value: c.old_value.clone(),
            new_value: c.new_value.clone(),
            at,
            feed_seq: Some((first_feed + i as u64) as i64),
        })
        .collect();
    for chunk in rows.chunks(BATCH_ROWS) {
        let models = chunk
            .iter()
            .cloned()
            .map(sea_orm::IntoActiveModel::into_active_model);
        row::Entity::insert_many(models).exec(conn).await?;
    }
    Ok(rows.len() as u64)
}

/// Takes the next `n` places of the district's change feed on `conn` and returns the first.
/// The head row stays locked until `conn`'s transaction ends, so a later writer's places
/// commit after these: a reader that has seen place P has seen every place before it.
async fn claim_feed<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    n: u64,
) -> Result<u64, StoreError> {
    let backend = conn.get_database_backend();
    let (a, b) = match backend {
        sea_orm::DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "INSERT INTO change_feed_heads (district_id, head) VALUES ({a}, {b}) \
         ON CONFLICT (district_id) DO UPDATE SET head = change_feed_heads.head + excluded.head \
         RETURNING head"
    );
    let row = conn
        .query_one(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [district.as_str().into(), (n as i64).into()],
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            entity: "change feed",
            id: district.to_string(),
            field: "head",
            reason: "no head returned".into(),
        })?;
    let head: i64 = row.try_get("", "head")?;
    Ok((head as u64 + 1).saturating_sub(n))
}

/// One change at its place in its district's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Its place in the district's feed, from 1 and without gaps.
    pub position: u64,
    pub record: ChangeRecord,
}

impl Store {
    /// The district's changes after place `after` of its feed (0: from the start), in
    /// order, at most `limit`; each with the run or spot sync that made it.
    pub async fn change_feed(
        &self,
        district: &DistrictId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::FeedSeq.gt(after as i64))
            .order_by_asc(row::Column::FeedSeq)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| {
                let position = m.feed_seq.unwrap_or_default().max(0) as u64;
                let id = format!("{}#{}", m.source_id, m.seq);
                let source = match m.source_kind.as_str() {
                    "run" => ChangeSource::Run(parse(ENTITY, &id, "source_id", &m.source_id)?),
                    _ => ChangeSource::SpotSync(parse(ENTITY, &id, "source_id", &m.source_id)?),
                };
                Ok(FeedEntry {
                    position,
                    record: from_row(source, m)?,
                })
            })
            .collect()
    }

    /// The last place of the district's change feed (0 when it has none).
    pub async fn change_feed_head(&self, district: &DistrictId) -> Result<u64, StoreError> {
        let max: Option<Option<i64>> = row::Entity::find()
            .select_only()
            .expr(Expr::col(row::Column::FeedSeq).max())
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(max.flatten().unwrap_or_default().max(0) as u64)
    }
}

fn from_row(source: ChangeSource, m: row::Model) -> Result<ChangeRecord, StoreError> {
    let id = format!("{}#{}", m.source_id, m.seq);
    let seq: u64 = parse(ENTITY, &id, "seq", &m.seq.to_string())?;
    Ok(ChangeRecord {
        source,
        seq,
        change: FieldChange {
            entity: named(ENTITY, &id, "entity", &m.entity, Entity::parse)?,
            record_id: m.record_id,
            operation: named(ENTITY, &id, "operation", &m.operation, Operation::parse)?,
            field: m.field,
            old_value: m.old_value,
            new_value: m.new_value,
        },
        at: m.at,
    })
}
