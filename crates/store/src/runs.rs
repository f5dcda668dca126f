//! Sync runs: what a run is doing and how far it got. A run's lease and checkpoint are
//! written by their own calls, never by [`Store::update_run`], so saving a run's progress
//! cannot undo what applying its plan recorded.

use model::ids::{DistrictId, RunId};
use model::run::{RunCounts, RunState, SyncRun, ThresholdTrip};
use sea_orm::SqlErr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::convert::{found, from_name, json, name_of, parse, stored, to_json};
use crate::entities::sync_runs as row;
use crate::{Store, StoreError};

const ENTITY: &str = "sync run";

/// What the `counts` column holds: a run's counts, threshold trips and warnings, read
/// and written whole.
#[derive(serde::Serialize)]
struct DetailOut<'a> {
    counts: &'a RunCounts,
    trips: &'a [ThresholdTrip],
    warnings: &'a [String],
    approved_at: Option<chrono::DateTime<chrono::Utc>>,
    phases: &'a [model::run::PhaseMark],
    by: &'a model::run::RunActors,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exclusions: &'a [model::run::Exclusion],
    #[serde(skip_serializing_if = "Option::is_none")]
    revert: &'a Option<model::run::Revert>,
}

#[derive(serde::Deserialize)]
struct DetailIn {
    counts: RunCounts,
    #[serde(default)]
    trips: Vec<ThresholdTrip>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    approved_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    phases: Vec<model::run::PhaseMark>,
    #[serde(default)]
    by: model::run::RunActors,
    #[serde(default)]
    exclusions: Vec<model::run::Exclusion>,
    #[serde(default)]
    revert: Option<model::run::Revert>,
}

impl Store {
    /// Stores a new run, without a lease or checkpoint. `AlreadyExists` (entity "open
    /// sync run") if the district already has a running or paused run — the database
    /// holds at most one — and `NotFound` if the district is unknown.
    pub async fn create_run(&self, run: &SyncRun) -> Result<(), StoreError> {
        self.insert_run(run, None).await
    }

    /// As [`Store::create_run`], the run's lease held by `owner` until `until` from the
    /// moment it exists: no other replica can take a run over while its starter is still
    /// setting it going.
    pub async fn create_held_run(
        &self,
        run: &SyncRun,
        owner: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.insert_run(run, Some((owner, until))).await
    }

    async fn insert_run(
        &self,
        run: &SyncRun,
        lease: Option<(&str, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<(), StoreError> {
        let mut model = to_row(run);
        if let Some((owner, until)) = lease {
            model.lease_owner = Some(owner.to_owned());
            model.lease_expires_at = Some(stored(until));
        }
        let inserted = row::Entity::insert(model.into_active_model())
            .exec(self.db())
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) => match e.sql_err() {
                // The same id again, or a second open run in the district.
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    let same_request = match &run.request_id {
                        Some(r) => self.run_of_request(&run.district_id, r).await?.is_some(),
                        None => false,
                    };
                    if same_request {
                        Err(StoreError::AlreadyExists {
                            entity: "run of request",
                            id: run.request_id.clone().unwrap_or_default(),
                        })
                    } else if self.get_run(&run.district_id, run.id).await.is_ok() {
                        Err(StoreError::AlreadyExists {
                            entity: ENTITY,
                            id: run.id.to_string(),
                        })
                    } else {
                        Err(StoreError::AlreadyExists {
                            entity: "open sync run",
                            id: run.district_id.to_string(),
                        })
                    }
                }
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => Err(StoreError::NotFound {
                    entity: "district",
                    id: run.district_id.to_string(),
                }),
                _ => Err(e.into()),
            },
        }
    }

    pub async fn get_run(&self, district: &DistrictId, id: RunId) -> Result<SyncRun, StoreError> {
        let row = row::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        found(row, ENTITY, || id.to_string(), from_row)
    }

    /// Replaces every field of a stored run (same district and id) but its lease and
    /// checkpoint — if, and only if, its stored state is one of `from`: one conditional
    /// update, so of two callers racing to move a run, exactly one wins. The loser gets
    /// `StateChanged` naming the state it found; `NotFound` if there is no such run.
    ///
    /// A run that ends or is held this way is told to its district's subscribers: the
    /// event is written in the same transaction ([`crate::events`]).
    pub async fn update_run(&self, run: &SyncRun, from: &[RunState]) -> Result<(), StoreError> {
        let updated = match model::notify::RunSummary::of(run, crate::convert::now()) {
            None => update_run_on(self.db(), run, from).await?,
            Some(summary) => {
                let txn = sea_orm::TransactionTrait::begin(self.db()).await?;
                let updated = update_run_on(&txn, run, from).await?;
                if updated {
                    crate::events::append(&txn, &summary).await?;
                    txn.commit().await?;
                }
                updated
            }
        };
        if !updated {
            // Read once the transaction is over: it holds one of the pool's connections.
            return Err(self.lost_race(run).await);
        }
        Ok(())
    }

    /// What a caller whose compare-and-set on `run` lost is told: `StateChanged` naming
    /// the state the run is in now (or why it cannot be read).
    pub(crate) async fn lost_race(&self, run: &SyncRun) -> StoreError {
        match self.get_run(&run.district_id, run.id).await {
            Ok(found) => StoreError::StateChanged {
                entity: ENTITY,
                id: run.id.to_string(),
                found: found.state.as_str().to_owned(),
            },
            Err(e) => e,
        }
    }

    /// The run a caller's request started, if any.
    pub async fn run_of_request(
        &self,
        district: &DistrictId,
        request_id: &str,
    ) -> Result<Option<SyncRun>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RequestId.eq(request_id))
            .one(self.db())
            .await?
            .map(from_row)
            .transpose()
    }

    /// The stored state of a run: how a replica working it learns that someone asked it
    /// to stop.
    pub async fn run_state(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<RunState, StoreError> {
        let row: Option<String> = row::Entity::find()
            .select_only()
            .column(row::Column::State)
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Id.eq(id.to_string()))
            .into_tuple()
            .one(self.db())
            .await?;
        let raw = found(row, ENTITY, || id.to_string(), Ok)?;
        from_name(ENTITY, &id.to_string(), "state", &raw)
    }

    /// A district's runs, newest first (by creation time, then id), at most `limit`,
    /// starting after `after` (the creation time and id of the last run of the previous
    /// page): keyset pages, so runs started meanwhile shift nothing.
    pub async fn list_runs(
        &self,
        district: &DistrictId,
        after: Option<(chrono::DateTime<chrono::Utc>, RunId)>,
        limit: u64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        use sea_orm::sea_query::Condition;
        let mut query = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .order_by_desc(row::Column::CreatedAt)
            .order_by_desc(row::Column::Id);
        if let Some((at, id)) = after {
            let at = stored(at);
            query = query.filter(
                Condition::any().add(row::Column::CreatedAt.lt(at)).add(
                    Condition::all()
                        .add(row::Column::CreatedAt.eq(at))
                        .add(row::Column::Id.lt(id.to_string())),
                ),
            );
        }
        query
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// A district's runs that are running, paused or cancelling, oldest first.
    pub async fn open_runs(&self, district: &DistrictId) -> Result<Vec<SyncRun>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::State.is_in(
                [RunState::Running, RunState::Paused, RunState::Cancelling].map(RunState::as_str),
            ))
            .order_by_asc(row::Column::CreatedAt)
            .order_by_asc(row::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Runs of any district that are running or cancelling and that no other replica
    /// holds at `now` (no lease, a lease that lapsed, or a lease of `owner`'s — its own
    /// runs from before a restart), oldest first, at most `limit`: the runs replica
    /// `owner` may take over. One indexed query, however many districts there are.
    pub async fn unheld_open_runs(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        owner: &str,
        limit: u64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        use sea_orm::sea_query::Condition;
        row::Entity::find()
            .filter(
                row::Column::State
                    .is_in([RunState::Running, RunState::Cancelling].map(RunState::as_str)),
            )
            .filter(
                Condition::any()
                    .add(row::Column::LeaseOwner.is_null())
                    .add(row::Column::LeaseOwner.eq(owner))
                    .add(row::Column::LeaseExpiresAt.lt(stored(now))),
            )
            .order_by_asc(row::Column::CreatedAt)
            .order_by_asc(row::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Takes or renews the run's lease for `owner` until `until`. False when another
    /// owner holds a lease that has not lapsed at `now`: exactly one replica works a run.
    pub async fn acquire_run_lease(
        &self,
        district: &DistrictId,
        id: RunId,
        owner: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        use sea_orm::sea_query::{Condition, Expr};
        let updated = row::Entity::update_many()
            .col_expr(row::Column::LeaseOwner, Expr::value(owner))
            .col_expr(row::Column::LeaseExpiresAt, Expr::value(stored(until)))
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Id.eq(id.to_string()))
            .filter(
                Condition::any()
                    .add(row::Column::LeaseOwner.is_null())
                    .add(row::Column::LeaseOwner.eq(owner))
                    .add(row::Column::LeaseExpiresAt.lt(stored(now))),
            )
            .exec(self.db())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Gives up `owner`'s lease on the run (nothing if another owner holds it).
    pub async fn release_run_lease(
        &self,
        district: &DistrictId,
        id: RunId,
        owner: &str,
    ) -> Result<(), StoreError> {
        use sea_orm::sea_query::Expr;
        row::Entity::update_many()
            .col_expr(row::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                row::Column::LeaseExpiresAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Id.eq(id.to_string()))
            .filter(row::Column::LeaseOwner.eq(owner))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Who holds the run's lease, and until when.
    pub async fn run_lease(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
        let row = row::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        let row = found(row, ENTITY, || id.to_string(), Ok)?;
        Ok(row.lease_owner.zip(row.lease_expires_at))
    }

    /// The sequence number of the last plan item the run applied, if any;
    /// `NotFound` if there is no such run.
    pub async fn run_checkpoint(
        &self,
        district: &DistrictId,
        id: RunId,
    ) -> Result<Option<u64>, StoreError> {
        let row: Option<Option<String>> = row::Entity::find()
            .select_only()
            .column(row::Column::Checkpoint)
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Id.eq(id.to_string()))
            .into_tuple()
            .one(self.db())
            .await?;
        let checkpoint = found(row, ENTITY, || id.to_string(), Ok)?;
        checkpoint
            .map(|raw| parse(ENTITY, &id.to_string(), "checkpoint", &raw))
            .transpose()
    }
}

/// Records `seq` as the run's checkpoint, on `conn` (the transaction that applied it) —
/// only while the run is running: a run someone asked to stop fails here, and the
/// transaction that would have applied one more page writes nothing.
pub(crate) async fn set_checkpoint<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    run: RunId,
    seq: u64,
) -> Result<(), StoreError> {
    let updated = row::Entity::update_many()
        .col_expr(
            row::Column::Checkpoint,
            sea_orm::sea_query::Expr::value(seq.to_string()),
        )
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::Id.eq(run.to_string()))
        .filter(row::Column::State.eq(RunState::Running.as_str()))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        let state: Option<String> = row::Entity::find()
            .select_only()
            .column(row::Column::State)
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Id.eq(run.to_string()))
            .into_tuple()
            .one(conn)
            .await?;
        return Err(match state {
            Some(found) => StoreError::StateChanged {
                entity: ENTITY,
                id: run.to_string(),
                found,
            },
            None => StoreError::NotFound {
                entity: ENTITY,
                id: run.to_string(),
            },
        });
    }
    Ok(())
}

/// The state of the district's open run (running, paused or cancelling), if it has one,
/// read on `conn`.
pub(crate) async fn open_run_state<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
) -> Result<Option<String>, StoreError> {
    Ok(row::Entity::find()
        .select_only()
        .column(row::Column::State)
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::State.is_in(
            [RunState::Running, RunState::Paused, RunState::Cancelling].map(RunState::as_str),
        ))
        .into_tuple()
        .one(conn)
        .await?)
}

/// Forgets the run's checkpoint, on `conn` (the transaction that dropped its plan).
pub(crate) async fn clear_checkpoint<C: ConnectionTrait>(
    conn: &C,
    district: &DistrictId,
    run: RunId,
) -> Result<(), StoreError> {
    row::Entity::update_many()
        .col_expr(
            row::Column::Checkpoint,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::Id.eq(run.to_string()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The compare-and-set of [`Store::update_run`] on `conn`: whether the run was in one of
/// `from` and is now replaced.
pub(crate) async fn update_run_on<C: ConnectionTrait>(
    conn: &C,
    run: &SyncRun,
    from: &[RunState],
) -> Result<bool, StoreError> {
    let mut active = to_row(run).into_active_model().reset_all();
    active.district_id = ActiveValue::NotSet;
    active.id = ActiveValue::NotSet;
    active.lease_owner = ActiveValue::NotSet;
    active.lease_expires_at = ActiveValue::NotSet;
    active.checkpoint = ActiveValue::NotSet;
    active.request_id = ActiveValue::NotSet;
    let updated = row::Entity::update_many()
        .set(active)
        .filter(row::Column::DistrictId.eq(run.district_id.as_str()))
        .filter(row::Column::Id.eq(run.id.to_string()))
        .filter(row::Column::State.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected > 0)
}

fn to_row(run: &SyncRun) -> row::Model {
    row::Model {
        district_id: run.district_id.to_string(),
        id: run.id.to_string(),
        mode: name_of(&run.mode),
        trigger: name_of(&run.trigger),
        state: run.state.as_str().to_owned(),
        phase: name_of(&run.phase),
        error: run.error.clone(),
        counts: to_json(&DetailOut {
            counts: &run.counts,
            trips: &run.trips,
            warnings: &run.warnings,
            approved_at: run.approved_at.map(stored),
            phases: &run.phases,
            by: &run.by,
            exclusions: &run.exclusions,
            revert: &run.revert,
        }),
        created_at: stored(run.created_at),
        started_at: run.started_at.map(stored),
        finished_at: run.finished_at.map(stored),
        lease_owner: None,
        lease_expires_at: None,
        checkpoint: None,
        request_id: run.request_id.clone(),
    }
}

fn from_row(m: row::Model) -> Result<SyncRun, StoreError> {
    let id = m.id.as_str();
    let detail: DetailIn = json(ENTITY, id, "counts", &m.counts)?;
    Ok(SyncRun {
        id: parse(ENTITY, id, "id", id)?,
        district_id: parse(ENTITY, id, "district_id", &m.district_id)?,
        mode: from_name(ENTITY, id, "mode", &m.mode)?,
        trigger: from_name(ENTITY, id, "trigger", &m.trigger)?,
        state: from_name(ENTITY, id, "state", &m.state)?,
        phase: from_name(ENTITY, id, "phase", &m.phase)?,
        error: m.error,
        counts: detail.counts,
        trips: detail.trips,
        warnings: detail.warnings,
        created_at: m.created_at,
        started_at: m.started_at,
        finished_at: m.finished_at,
        approved_at: detail.approved_at,
        request_id: m.request_id,
        phases: detail.phases,
        by: detail.by,
        exclusions: detail.exclusions,
        revert: detail.revert,
    })
}
