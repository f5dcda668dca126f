//! A held run's review: the plan items an approver kept out, stored with the approval in
//! one transaction, read beside the plan by its listing and its apply.

use std::collections::HashMap;

use model::ids::{DistrictId, RunId};
use model::run::{Excluded, RunState, SyncRun};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};

use crate::entities::run_plan_exclusions as row;
use crate::{Store, StoreError, BATCH_ROWS};

impl Store {
    /// Approves a paused run: stores `run` as given (running, with its exclusions) only if
    /// it is still paused, with the plan items `kept_out` names, in one transaction. Of two
    /// approvals (or an approval and a cancel) at once, one wins; the other writes nothing
    /// and fails `StateChanged` with the state it found.
    pub async fn approve_run(
        &self,
        run: &SyncRun,
        kept_out: &[(u64, Excluded)],
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        if !crate::runs::update_run_on(&txn, run, &[RunState::Paused]).await? {
            txn.rollback().await?;
            return Err(self.lost_race(run).await);
        }
        for chunk in kept_out.chunks(BATCH_ROWS) {
            let rows = chunk.iter().map(|(seq, x)| {
                sea_orm::IntoActiveModel::into_active_model(row::Model {
                    district_id: run.district_id.to_string(),
                    run_id: run.id.to_string(),
                    seq: *seq as i64,
                    exclusion: x.exclusion as i32,
                    via: x.via.map(|v| v as i64),
                })
            });
            row::Entity::insert_many(rows).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// The run's plan items numbered `from` to `to` (both included) kept out by a review.
pub(crate) async fn excluded_between<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    run: RunId,
    from: u64,
    to: u64,
) -> Result<HashMap<u64, Excluded>, StoreError> {
    let rows = row::Entity::find()
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::RunId.eq(run.to_string()))
        .filter(row::Column::Seq.between(from as i64, to as i64))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.seq as u64,
                Excluded {
                    exclusion: r.exclusion.max(0) as u32,
                    via: r.via.map(|v| v as u64),
                },
            )
        })
        .collect())
}

/// How many of the run's plan items numbered `seq` or lower a review kept out.
pub(crate) async fn count_excluded_through<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    run: RunId,
    seq: u64,
) -> Result<u64, StoreError> {
    Ok(row::Entity::find()
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::RunId.eq(run.to_string()))
        .filter(row::Column::Seq.lte(seq as i64))
        .count(conn)
        .await?)
}

/// Drops what reviews of these runs kept out (their plans are dropped with them).
pub(crate) async fn delete_exclusions<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    runs: Vec<String>,
) -> Result<(), StoreError> {
    row::Entity::delete_many()
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::RunId.is_in(runs))
        .exec(conn)
        .await?;
    Ok(())
}
