//! Staged pulls: what a source sent in a run's pull, record by record, read back in key
//! order by the planner and by support.
//!
//! Staging is one insert per batch. A key staged twice in one pull with the same content
//! is one record; with other content, the first record keeps its place and the second's
//! hash and arrival are kept beside it, so the planner can refuse both and name both.

use model::ids::{DistrictId, RunId, SourceId, StudentId};
use model::staging::{StagedKind, StagedRecord};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::convert::parse;
use crate::entities::staged_records as row;
use crate::entities::students;
use crate::{Store, StoreError, BATCH_ROWS};

const ENTITY: &str = "staged record";

/// Rows of an older pull dropped per statement on SQLite.
pub const DROP_CHUNK: u64 = 20_000;

impl Store {
    /// Stages records of `run`'s pull in one transaction. The records of one call have
    /// distinct (kind, key); a key the pull staged before is kept as it was, and a
    /// different content under it is recorded as its duplicate.
    pub async fn stage(
        &self,
        district: &DistrictId,
        run: RunId,
        records: &[StagedRecord],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let run_id = run.to_string();
        let txn = self.db().begin().await?;
        for chunk in records.chunks(BATCH_ROWS) {
            let models = chunk
                .iter()
                .map(|r| sea_orm::IntoActiveModel::into_active_model(to_row(district, &run_id, r)));
            let on_conflict = OnConflict::columns([
                row::Column::DistrictId,
                row::Column::RunId,
                row::Column::Kind,
                row::Column::RecordKey,
            ])
            .values([
                (row::Column::DupHash, Expr::cust("excluded.content_hash")),
                (row::Column::DupArrival, Expr::cust("excluded.arrival")),
            ])
            .action_and_where(
                Expr::col((row::Entity, row::Column::ContentHash))
                    .ne(Expr::cust("excluded.content_hash")),
            )
            .to_owned();
            row::Entity::insert_many(models)
                .on_conflict(on_conflict)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Staged records of one kind in key order after `after` (exclusive), at most `limit`.
    pub async fn staged_page(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<StagedRecord>, StoreError> {
        let mut query = of_kind(district, run, kind).order_by_asc(row::Column::RecordKey);
        if let Some(after) = after {
            query = query.filter(row::Column::RecordKey.gt(after));
        }
        query
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Staged records of one kind whose group lies from `first` to `last` (inclusive), in
    /// group then key order: the contacts of a page of students, say.
    pub async fn staged_in_groups(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
        first: &str,
        last: &str,
    ) -> Result<Vec<StagedRecord>, StoreError> {
        of_kind(district, run, kind)
            .filter(row::Column::GroupKey.gte(first))
            .filter(row::Column::GroupKey.lte(last))
            .order_by_asc(row::Column::GroupKey)
            .order_by_asc(row::Column::RecordKey)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Staged records of one kind whose group is one of `groups`, in group then key order.
    pub async fn staged_of_groups(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
        groups: &[String],
    ) -> Result<Vec<StagedRecord>, StoreError> {
        let mut out = Vec::new();
        for chunk in groups.chunks(BATCH_ROWS) {
            let rows = of_kind(district, run, kind)
                .filter(row::Column::GroupKey.is_in(chunk.iter().map(String::as_str)))
                .order_by_asc(row::Column::GroupKey)
                .order_by_asc(row::Column::RecordKey)
                .all(self.db())
                .await?;
            for m in rows {
                out.push(from_row(m)?);
            }
        }
        Ok(out)
    }

    /// Staged records of one kind with these keys (unknown keys are left out), in key
    /// order within each chunk of keys.
    pub async fn staged_by_keys(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
        keys: &[String],
    ) -> Result<Vec<StagedRecord>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_ROWS) {
            let rows = of_kind(district, run, kind)
                .filter(row::Column::RecordKey.is_in(chunk.iter().map(String::as_str)))
                .order_by_asc(row::Column::RecordKey)
                .all(self.db())
                .await?;
            for m in rows {
                out.push(from_row(m)?);
            }
        }
        Ok(out)
    }

    /// How many records of one kind the run staged (refused ones included).
    pub async fn count_staged(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
    ) -> Result<u64, StoreError> {
        Ok(of_kind(district, run, kind).count(self.db()).await?)
    }

    /// Records of one kind the pull sent twice under one key with different content,
    /// in key order, at most `limit`.
    pub async fn staged_duplicates(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
        limit: u64,
    ) -> Result<Vec<StagedRecord>, StoreError> {
        of_kind(district, run, kind)
            .filter(row::Column::DupHash.is_not_null())
            .order_by_asc(row::Column::RecordKey)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// How many keys of one kind the pull sent twice with different content.
    pub async fn count_staged_duplicates(
        &self,
        district: &DistrictId,
        run: RunId,
        kind: StagedKind,
    ) -> Result<u64, StoreError> {
        Ok(of_kind(district, run, kind)
            .filter(row::Column::DupHash.is_not_null())
            .count(self.db())
            .await?)
    }

    /// Drops what `run` staged (a pull started again from the start, a failed pull, or
    /// an older pull once a newer one is complete).
    ///
    /// On SQLite, [`DROP_CHUNK`] rows at a time: a table with a foreign key cannot be
    /// deleted from in one pass, so one statement deleting a whole pull first gathers
    /// every row id it deletes in memory (4.6 million of them, about 100 MiB, for a
    /// district of a million students). A chunk is its own commit; a pull left
    /// half-dropped by a crash is dropped again by the next complete pull, and is never
    /// the one support reads (the latest).
    pub async fn delete_staged(
        &self,
        district: &DistrictId,
        run: RunId,
    ) -> Result<u64, StoreError> {
        self.delete_staged_in_chunks(district, run, DROP_CHUNK)
            .await
    }

    async fn delete_staged_in_chunks(
        &self,
        district: &DistrictId,
        run: RunId,
        chunk: u64,
    ) -> Result<u64, StoreError> {
        use sea_orm::{ConnectionTrait, Statement};
        if self.backend() == crate::Backend::Postgres {
            // The server's memory, not ours: one statement.
            let deleted = row::Entity::delete_many()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::RunId.eq(run.to_string()))
                .exec(self.db())
                .await?;
            return Ok(deleted.rows_affected);
        }
        let db = self.db();
        let chunk = chunk.max(1);
        let mut deleted = 0;
        loop {
            let gone = db
                .execute(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    "DELETE FROM staged_records WHERE rowid IN (SELECT rowid FROM \
                     staged_records WHERE district_id = ? AND run_id = ? LIMIT ?)",
                    [
                        district.as_str().into(),
                        run.to_string().into(),
                        (chunk as i64).into(),
                    ],
                ))
                .await?
                .rows_affected();
            deleted += gone;
            if gone < chunk {
                return Ok(deleted);
            }
        }
    }

    /// Tells the database what staged records now hold, after a pull (or a planning
    /// pass) staged many: PostgreSQL plans its reads from statistics, and statistics taken
    /// while the table was nearly empty made it filter a run's whole pull for each page's
    /// list of keys (250-400 ms a read at 30,000-50,000 students, instead of a few ms).
    /// SQLite plans these reads from the indexes alone: nothing to do.
    pub async fn refresh_staging_statistics(&self) -> Result<(), StoreError> {
        self.analyze(&["staged_records"]).await
    }

    /// As [`Store::refresh_staging_statistics`], for the roster tables, after a run
    /// wrote many rows to them: the next run's reads by lists of ids (links of a page of
    /// students) otherwise filtered a district's whole table on PostgreSQL until its
    /// background analysis came round.
    pub async fn refresh_roster_statistics(&self) -> Result<(), StoreError> {
        let tables: Vec<&str> = crate::tables::ROSTER_TABLES
            .iter()
            .filter(|t| **t != "change_log")
            .copied()
            .collect();
        self.analyze(&tables).await
    }

    /// `ANALYZE` of `tables` on PostgreSQL; nothing on SQLite.
    async fn analyze(&self, tables: &[&str]) -> Result<(), StoreError> {
        if self.backend() == crate::Backend::Postgres {
            use sea_orm::ConnectionTrait;
            self.db()
                .execute_unprepared(&format!("ANALYZE {}", tables.join(", ")))
                .await?;
        }
        Ok(())
    }

    /// Drops every staged pull of the district but `run`'s: once a pull is complete, it
    /// is the one support reads. Each goes as [`Store::delete_staged`] drops it.
    pub async fn keep_only_staged(
        &self,
        district: &DistrictId,
        run: RunId,
    ) -> Result<u64, StoreError> {
        self.keep_only_staged_in_chunks(district, run, DROP_CHUNK)
            .await
    }

    pub(crate) async fn keep_only_staged_in_chunks(
        &self,
        district: &DistrictId,
        run: RunId,
        chunk: u64,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for older in self.staged_runs(district).await? {
            if older != run {
                deleted += self.delete_staged_in_chunks(district, older, chunk).await?;
            }
        }
        Ok(deleted)
    }

    /// Drops the planner's notes of `run` (marks), keeping what the source sent.
    pub async fn delete_marks(&self, district: &DistrictId, run: RunId) -> Result<u64, StoreError> {
        let deleted = row::Entity::delete_many()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RunId.eq(run.to_string()))
            .filter(row::Column::Kind.eq(StagedKind::Mark.as_str()))
            .exec(self.db())
            .await?;
        Ok(deleted.rows_affected)
    }

    /// The run whose pull the district has staged, if any (the latest complete one, or
    /// the one in progress).
    ///
    /// In run-id order, one seek on the key's (district, run) prefix a run: a district
    /// holds a pull or two of millions of rows, and `DISTINCT` would read every one.
    pub async fn staged_runs(&self, district: &DistrictId) -> Result<Vec<RunId>, StoreError> {
        let mut runs = Vec::new();
        let mut after = String::new();
        loop {
            let next: Option<String> = row::Entity::find()
                .select_only()
                .column(row::Column::RunId)
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::RunId.gt(after.as_str()))
                .order_by_asc(row::Column::RunId)
                .limit(1)
                .into_tuple()
                .one(self.db())
                .await?;
            let Some(id) = next else { return Ok(runs) };
            runs.push(parse(ENTITY, &id, "run_id", &id)?);
            after = id;
        }
    }

    /// Non-archived students the run's pull did not list (by source id, refused records
    /// counting as listed), in source-id order after `after`, at most `limit`: the ones a
    /// complete pull archives.
    pub async fn students_not_staged(
        &self,
        district: &DistrictId,
        run: RunId,
        after: Option<&SourceId>,
        limit: u64,
    ) -> Result<Vec<(StudentId, SourceId)>, StoreError> {
        let listed = Query::select()
            .expr(Expr::val(1))
            .from(row::Entity)
            .and_where(
                Expr::col((row::Entity, row::Column::DistrictId))
                    .equals((students::Entity, students::Column::DistrictId)),
            )
            .and_where(Expr::col((row::Entity, row::Column::RunId)).eq(run.to_string()))
            .and_where(Expr::col((row::Entity, row::Column::Kind)).eq(StagedKind::Student.as_str()))
            .and_where(
                Expr::col((row::Entity, row::Column::RecordKey))
                    .equals((students::Entity, students::Column::SourceId)),
            )
            .to_owned();
        let mut query = students::Entity::find()
            .select_only()
            .column(students::Column::Id)
            .column(students::Column::SourceId)
            .filter(students::Column::DistrictId.eq(district.as_str()))
            .filter(students::Column::Archived.eq(false))
            .filter(Condition::all().add(Expr::exists(listed).not()))
            .order_by_asc(students::Column::SourceId);
        if let Some(after) = after {
            query = query.filter(students::Column::SourceId.gt(after.as_str()));
        }
        let rows: Vec<(String, String)> = query.limit(limit).into_tuple().all(self.db()).await?;
        rows.into_iter()
            .map(|(id, source)| Ok((parse(ENTITY, &id, "id", &id)?, SourceId::new(source))))
            .collect()
    }
}

fn of_kind(district: &DistrictId, run: RunId, kind: StagedKind) -> sea_orm::Select<row::Entity> {
    row::Entity::find()
        .filter(row::Column::DistrictId.eq(district.as_str()))
        .filter(row::Column::RunId.eq(run.to_string()))
        .filter(row::Column::Kind.eq(kind.as_str()))
}

fn to_row(district: &DistrictId, run: &str, r: &StagedRecord) -> row::Model {
    let (dup_hash, dup_arrival) = match &r.duplicate {
        Some((h, a)) => (Some(h.clone()), Some(a.clone())),
        None => (None, None),
    };
    row::Model {
        district_id: district.to_string(),
        run_id: run.to_owned(),
        kind: r.kind.as_str().to_owned(),
        record_key: r.key.clone(),
        group_key: r.group.clone(),
        content_hash: r.hash.clone(),
        arrival: r.arrival.clone(),
        payload: r.payload.clone(),
        rejected: r.rejected.clone(),
        dup_hash,
        dup_arrival,
    }
}

fn from_row(m: row::Model) -> Result<StagedRecord, StoreError> {
    let kind = StagedKind::parse(&m.kind)
        .ok_or_else(|| StoreError::corrupt(ENTITY, &m.record_key, "kind", &m.kind))?;
    Ok(StagedRecord {
        kind,
        key: m.record_key,
        group: m.group_key,
        hash: m.content_hash,
        arrival: m.arrival,
        payload: m.payload,
        rejected: m.rejected,
        duplicate: m.dup_hash.zip(m.dup_arrival),
    })
}
