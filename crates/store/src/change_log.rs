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
    let rows: Vec<row::Model> = changes
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
