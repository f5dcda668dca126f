//! Run plans: the items a run intends to apply, numbered in order, and applying them.
//!
//! A plan is written whole before anything is applied, so a run paused over a threshold
//! can be approved later. Applying takes the items after the run's checkpoint a batch at
//! a time: each batch's records, change-log rows and new checkpoint land in one
//! transaction, so a crash leaves the last committed checkpoint, never half a batch.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use model::change::{ChangeSource, Entity, Operation};
use model::ids::{DistrictId, GuardianId, RunId, SourceId, StudentId};
use model::link::Link;
use model::roster::Enrollment;
use model::run::{PlanEntry, PlanItem};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::convert::stored;
use crate::entities::run_plan as row;
use crate::{
    change_log, guardians, links, review, roster, runs, students, Store, StoreError, BATCH_ROWS,
};

const ENTITY: &str = "plan item";

/// What a batch's transaction writes beside its records and change log.
enum AlsoWrite<'a> {
    /// A run's checkpoint: the last plan item the batch applied.
    Checkpoint(RunId, u64),
    /// A spot sync's request id and answer.
    Request(SpotRequest<'a>),
    Nothing,
}

/// A caller's spot sync request and the answer a retry of it gets.
struct SpotRequest<'a> {
    district: &'a DistrictId,
    request_id: &'a str,
    spot_sync: model::ids::SpotSyncId,
    answer: &'a str,
    at: DateTime<Utc>,
}

impl SpotRequest<'_> {
    async fn record<C: sea_orm::ConnectionTrait>(&self, conn: &C) -> Result<(), StoreError> {
        use crate::entities::spot_sync_requests as req;
        let row = req::Model {
            district_id: self.district.to_string(),
            request_id: self.request_id.to_owned(),
            spot_sync_id: self.spot_sync.to_string(),
            answer: self.answer.to_owned(),
            created_at: stored(self.at),
        };
        match req::Entity::insert(sea_orm::IntoActiveModel::into_active_model(row))
            .exec_without_returning(conn)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    Err(StoreError::AlreadyExists {
                        entity: "spot sync request",
                        id: self.request_id.to_owned(),
                    })
                }
                _ => Err(e.into()),
            },
        }
    }
}

impl Store {
    /// Appends numbered `items` to the run's plan, in one transaction. Numbers need not
    /// be consecutive (a plan is numbered in the order it applies); a number the plan
    /// already holds fails and writes nothing.
    pub async fn append_plan(
        &self,
        district: &DistrictId,
        run: RunId,
        items: &[(u64, PlanItem)],
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let run_id = run.to_string();
        let txn = self.db().begin().await?;
        for chunk in items.chunks(BATCH_ROWS) {
            let rows = chunk.iter().map(|(seq, item)| {
                sea_orm::IntoActiveModel::into_active_model(row::Model {
                    district_id: district.to_string(),
                    run_id: run_id.clone(),
                    seq: *seq as i64,
                    entity: item.entity().as_str().to_owned(),
                    operation: item.operation().as_str().to_owned(),
                    record_id: item.record_id(),
                    item: crate::plan_codec::encode(item),
                })
            });
            row::Entity::insert_many(rows).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// How many of the run's plan items are numbered `seq` or lower and not kept out by a
    /// review: how many an apply whose checkpoint is `seq` has applied.
    pub async fn count_plan_through(
        &self,
        district: &DistrictId,
        run: RunId,
        seq: u64,
    ) -> Result<u64, StoreError> {
        let planned = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RunId.eq(run.to_string()))
            .filter(row::Column::Seq.lte(seq as i64))
            .count(self.db())
            .await?;
        let kept_out = review::count_excluded_through(self.db(), district, run, seq).await?;
        Ok(planned.saturating_sub(kept_out))
    }

    /// The run's plan items after `after_seq` (exclusive), in order, at most `limit`; the
    /// items a review kept out among them.
    pub async fn read_plan(
        &self,
        district: &DistrictId,
        run: RunId,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, PlanItem)>, StoreError> {
        self.read_plan_items(district, run, None, None, after_seq, limit)
            .await
    }

    /// Like [`Store::read_plan`], keeping only the items about `entity` and doing
    /// `operation`, when given, each with why a review kept it out, if it did.
    pub async fn list_plan(
        &self,
        district: &DistrictId,
        run: RunId,
        entity: Option<Entity>,
        operation: Option<Operation>,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<Vec<PlanEntry>, StoreError> {
        let items = self
            .read_plan_items(district, run, entity, operation, after_seq, limit)
            .await?;
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return Ok(Vec::new());
        };
        let kept_out = review::excluded_between(self.db(), district, run, first.0, last.0).await?;
        Ok(items
            .into_iter()
            .map(|(seq, item)| PlanEntry {
                seq,
                item,
                excluded: kept_out.get(&seq).copied(),
            })
            .collect())
    }

    async fn read_plan_items(
        &self,
        district: &DistrictId,
        run: RunId,
        entity: Option<Entity>,
        operation: Option<Operation>,
        after_seq: Option<u64>,
        limit: u64,
    ) -> Result<Vec<(u64, PlanItem)>, StoreError> {
        let mut query = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RunId.eq(run.to_string()));
        if let Some(entity) = entity {
            query = query.filter(row::Column::Entity.eq(entity.as_str()));
        }
        if let Some(operation) = operation {
            query = query.filter(row::Column::Operation.eq(operation.as_str()));
        }
        if let Some(after) = after_seq {
            query = query.filter(row::Column::Seq.gt(after as i64));
        }
        query
            .order_by_asc(row::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Drops a run's plan and its checkpoint (a run planned again from the start).
    pub async fn delete_plan(&self, district: &DistrictId, run: RunId) -> Result<u64, StoreError> {
        let txn = self.db().begin().await?;
        let deleted = row::Entity::delete_many()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RunId.eq(run.to_string()))
            .exec(&txn)
            .await?;
        review::delete_exclusions(&txn, district, vec![run.to_string()]).await?;
        crate::runs::clear_checkpoint(&txn, district, run).await?;
        txn.commit().await?;
        Ok(deleted.rows_affected)
    }

    /// Drops the plans of a district's finished runs beyond the newest `keep` runs (the
    /// change log keeps what they applied); open runs keep theirs. Returns the items
    /// dropped.
    pub async fn prune_plans(&self, district: &DistrictId, keep: u64) -> Result<u64, StoreError> {
        let mut dropped = 0;
        let newest = self.list_runs(district, None, keep).await?;
        let Some(last) = newest.last() else {
            return Ok(0);
        };
        if (newest.len() as u64) < keep {
            return Ok(0);
        }
        let mut after = Some((last.created_at, last.id));
        loop {
            let older = self.list_runs(district, after, 100).await?;
            let Some(last) = older.last() else {
                return Ok(dropped);
            };
            after = Some((last.created_at, last.id));
            let ids: Vec<String> = older
                .iter()
                .filter(|r| r.state.is_final())
                .map(|r| r.id.to_string())
                .collect();
            if ids.is_empty() {
                continue;
            }
            review::delete_exclusions(self.db(), district, ids.clone()).await?;
            let deleted = row::Entity::delete_many()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::RunId.is_in(ids))
                .exec(self.db())
                .await?;
            dropped += deleted.rows_affected;
        }
    }

    /// How many items the run's plan holds.
    pub async fn count_plan(&self, district: &DistrictId, run: RunId) -> Result<u64, StoreError> {
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::RunId.eq(run.to_string()))
            .count(self.db())
            .await?)
    }

    /// Applies plan items in one transaction: upserts each student and guardian with its
    /// source hash, upserts each created or updated link and deletes each deleted one;
    /// appends every item's changes to the change log under the run, numbered from
    /// `first_change_seq`, at `at`; and sets the run's checkpoint to the last item's
    /// number. Returns how many change-log rows it wrote.
    ///
    /// Items are applied in order: when one record appears twice, the later item wins.
    /// Any failure (a change number already used, an unknown run) writes nothing.
    pub async fn apply_plan_items(
        &self,
        district: &DistrictId,
        run: RunId,
        items: &[(u64, PlanItem)],
        first_change_seq: u64,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let Some((last_seq, _)) = items.last() else {
            return Ok(0);
        };
        self.apply_items(
            district,
            ChangeSource::Run(run),
            items,
            first_change_seq,
            at,
            AlsoWrite::Checkpoint(run, *last_seq),
        )
        .await
    }

    /// Applies the items of one spot sync in one transaction, its change-log rows under
    /// the spot sync numbered from 0. With the caller's `request` (its request id and the
    /// answer to give a retry), the answer is stored in the same transaction: a second
    /// spot sync of the same request writes nothing and fails `AlreadyExists` (entity
    /// "spot sync request"). Returns how many change-log rows it wrote.
    pub async fn apply_spot_sync(
        &self,
        district: &DistrictId,
        id: model::ids::SpotSyncId,
        items: &[PlanItem],
        at: DateTime<Utc>,
        request: Option<(&str, &str)>,
    ) -> Result<u64, StoreError> {
        let numbered: Vec<(u64, PlanItem)> = items
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, item)| (i as u64, item))
            .collect();
        let request = request.map(|(request_id, answer)| SpotRequest {
            district,
            request_id,
            spot_sync: id,
            answer,
            at,
        });
        self.apply_items(
            district,
            ChangeSource::SpotSync(id),
            &numbered,
            0,
            at,
            request.map_or(AlsoWrite::Nothing, AlsoWrite::Request),
        )
        .await
    }

    /// The answer stored for the caller's spot sync request `request_id`, if one ran.
    pub async fn spot_sync_answer(
        &self,
        district: &DistrictId,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        use crate::entities::spot_sync_requests as req;
        Ok(
            req::Entity::find_by_id((district.to_string(), request_id.to_owned()))
                .one(self.db())
                .await?
                .map(|m| m.answer),
        )
    }

    async fn apply_items(
        &self,
        district: &DistrictId,
        source: ChangeSource,
        items: &[(u64, PlanItem)],
        first_change_seq: u64,
        at: DateTime<Utc>,
        also: AlsoWrite<'_>,
    ) -> Result<u64, StoreError> {
        let now = crate::convert::now();
        let writes = Writes::of(district, items, now);

        let txn = self.db().begin().await?;
        let (students_kept, students_gone) = kept_and_gone(writes.students);
        students::write(&txn, students_kept).await?;
        delete_records(&txn, "students", district, students_gone).await?;
        let (guardians_kept, guardians_gone) = kept_and_gone(writes.guardians);
        guardians::write(&txn, guardians_kept).await?;
        delete_records(&txn, "guardians", district, guardians_gone).await?;
        let (upserts, deletes): (Vec<_>, Vec<_>) = writes
            .links
            .into_iter()
            .partition(|(_, link)| link.is_some());
        links::write(
            &txn,
            upserts
                .into_iter()
                .filter_map(|(_, link)| link.map(|l| links::to_row(district, &l)))
                .collect(),
        )
        .await?;
        let deletes: Vec<_> = deletes.into_iter().map(|(pair, _)| pair).collect();
        links::delete(&txn, district, &deletes).await?;
        let (schools_kept, schools_gone) = kept_and_gone(writes.schools);
        roster::write_schools(&txn, schools_kept).await?;
        delete_records(&txn, "schools", district, schools_gone).await?;
        let (staff_kept, staff_gone) = kept_and_gone(writes.staff);
        roster::write_staff(&txn, staff_kept).await?;
        delete_records(&txn, "staff", district, staff_gone).await?;
        let (classrooms_kept, classrooms_gone) = kept_and_gone(writes.classrooms);
        roster::write_classrooms(&txn, classrooms_kept).await?;
        delete_records(&txn, "classrooms", district, classrooms_gone).await?;
        let (kept, gone): (Vec<_>, Vec<_>) =
            writes.contacts.into_iter().partition(|(_, c)| c.is_some());
        roster::write_contacts(&txn, kept.into_iter().filter_map(|(_, c)| c).collect()).await?;
        let gone: Vec<_> = gone.into_iter().map(|(key, _)| key).collect();
        roster::delete_contacts(&txn, district, &gone).await?;
        let (enrolled, left): (Vec<_>, Vec<_>) = writes
            .enrollments
            .into_values()
            .partition(|(_, keep)| *keep);
        roster::write_enrollments(
            &txn,
            enrolled
                .iter()
                .map(|(e, _)| roster::enrollment_row(district, e))
                .collect(),
        )
        .await?;
        let left: Vec<_> = left.into_iter().map(|(e, _)| e).collect();
        roster::delete_enrollments(&txn, district, &left).await?;
        let log: Vec<_> = items
            .iter()
            .flat_map(|(_, item)| item.log_changes())
            .collect();
        let written = change_log::append(
            &txn,
            district,
            source,
            first_change_seq,
            log.iter(),
            stored(at),
        )
        .await?;
        match also {
            AlsoWrite::Checkpoint(run, seq) => {
                runs::set_checkpoint(&txn, district, run, seq).await?
            }
            AlsoWrite::Request(request) => request.record(&txn).await?,
            AlsoWrite::Nothing => {}
        }
        txn.commit().await?;
        Ok(written)
    }
}

/// The rows to upsert, and the ids of the records to delete (`None`: an undo deletes what
/// a run created).
fn kept_and_gone<K: ToString, M>(rows: BTreeMap<K, Option<M>>) -> (Vec<M>, Vec<String>) {
    let mut kept = Vec::new();
    let mut gone = Vec::new();
    for (id, row) in rows {
        match row {
            Some(row) => kept.push(row),
            None => gone.push(id.to_string()),
        }
    }
    (kept, gone)
}

/// Deletes records of `table` by our id (only an undo of a run that created them does).
async fn delete_records<C: sea_orm::ConnectionTrait>(
    conn: &C,
    table: &str,
    district: &DistrictId,
    ids: Vec<String>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(BATCH_ROWS) {
        let mut p = crate::sql::Params::new(conn.get_database_backend());
        let d = p.bind(district.to_string());
        let listed: Vec<String> = chunk.iter().map(|id| p.bind(id.clone())).collect();
        let sql = format!(
            "DELETE FROM {table} WHERE district_id = {d} AND id IN ({})",
            listed.join(", ")
        );
        conn.execute(p.statement(sql)).await?;
    }
    Ok(())
}

/// What a batch of plan items leaves behind, one entry per record: the rows to upsert,
/// or `None` where the record is to be deleted.
struct Writes {
    students: BTreeMap<StudentId, Option<crate::entities::students::Model>>,
    guardians: BTreeMap<GuardianId, Option<crate::entities::guardians::Model>>,
    links: BTreeMap<(StudentId, GuardianId), Option<Link>>,
    schools: BTreeMap<String, Option<crate::entities::schools::Model>>,
    staff: BTreeMap<String, Option<crate::entities::staff::Model>>,
    classrooms: BTreeMap<String, Option<crate::entities::classrooms::Model>>,
    /// By (student, contact); `None` where the contact is to be deleted.
    contacts: BTreeMap<(SourceId, SourceId), Option<crate::entities::contacts::Model>>,
    /// By record id: the enrollment, and whether it is kept (false: deleted).
    enrollments: BTreeMap<String, (Enrollment, bool)>,
}

impl Writes {
    fn of(district: &DistrictId, items: &[(u64, PlanItem)], now: DateTime<Utc>) -> Self {
        let mut writes = Writes {
            students: BTreeMap::new(),
            guardians: BTreeMap::new(),
            links: BTreeMap::new(),
            schools: BTreeMap::new(),
            staff: BTreeMap::new(),
            classrooms: BTreeMap::new(),
            contacts: BTreeMap::new(),
            enrollments: BTreeMap::new(),
        };
        for (_, item) in items {
            match item {
                // A run archives students and guardians, never deletes them: only an
                // undo deletes one, that the run it undoes created. Every other operation
                // writes the record as the item holds it.
                PlanItem::Student {
                    operation,
                    student,
                    source_hash,
                    changes: _,
                } => {
                    let row = (*operation != Operation::Delete)
                        .then(|| students::to_row(district, student, source_hash, now));
                    writes.students.insert(student.id, row);
                }
                PlanItem::Guardian {
                    operation,
                    guardian,
                    source_hash,
                    changes: _,
                } => {
                    let row = (*operation != Operation::Delete)
                        .then(|| guardians::to_row(district, guardian, source_hash, now));
                    writes.guardians.insert(guardian.id, row);
                }
                PlanItem::Link {
                    operation,
                    link,
                    changes: _,
                } => {
                    let kept = match operation {
                        Operation::Delete => None,
                        Operation::Create
                        | Operation::Update
                        | Operation::Archive
                        | Operation::Unarchive => Some(link.clone()),
                    };
                    writes
                        .links
                        .insert((link.student_id, link.guardian_id), kept);
                }
                // Schools, staff and classrooms too: archived by a run, deleted by an undo.
                PlanItem::School {
                    operation,
                    school,
                    source_hash,
                    ..
                } => {
                    let row = (*operation != Operation::Delete)
                        .then(|| roster::school_row(district, school, source_hash, now));
                    writes.schools.insert(school.id.to_string(), row);
                }
                PlanItem::Staff {
                    operation,
                    staff,
                    source_hash,
                    ..
                } => {
                    let row = (*operation != Operation::Delete)
                        .then(|| roster::staff_row(district, staff, source_hash, now));
                    writes.staff.insert(staff.id.to_string(), row);
                }
                PlanItem::Classroom {
                    operation,
                    classroom,
                    source_hash,
                    ..
                } => {
                    let row = (*operation != Operation::Delete)
                        .then(|| roster::classroom_row(district, classroom, source_hash, now));
                    writes.classrooms.insert(classroom.id.to_string(), row);
                }
                PlanItem::Contact {
                    operation,
                    contact,
                    source_hash,
                    ..
                } => {
                    let key = (contact.student_source_id.clone(), contact.source_id.clone());
                    let row = (*operation != Operation::Delete)
                        .then(|| roster::contact_row(district, contact, source_hash, now));
                    writes.contacts.insert(key, row);
                }
                PlanItem::Enrollment {
                    operation,
                    enrollment,
                    ..
                } => {
                    writes.enrollments.insert(
                        item.record_id(),
                        (enrollment.clone(), *operation != Operation::Delete),
                    );
                }
            }
        }
        writes
    }
}

fn from_row(m: row::Model) -> Result<(u64, PlanItem), StoreError> {
    let id = format!("{}#{}", m.run_id, m.seq);
    let seq = u64::try_from(m.seq).map_err(|e| StoreError::corrupt(ENTITY, &id, "seq", e))?;
    let entity: Entity = crate::convert::from_name(ENTITY, &id, "entity", &m.entity)?;
    let operation: Operation = crate::convert::from_name(ENTITY, &id, "operation", &m.operation)?;
    let item = crate::plan_codec::decode(&m.item, entity, operation, &m.record_id)
        .map_err(|e| StoreError::corrupt(ENTITY, &id, "item", e))?;
    Ok((seq, item))
}
