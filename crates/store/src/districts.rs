//! Districts: create, read, list, update (compare-and-set on the revision), delete.

use std::collections::BTreeMap;

use model::access::Districts;
use model::district::{ConnectorConfig, District, DistrictSettings};
use model::ids::DistrictId;
use model::Secret;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::convert::{json, parse, to_json};
use crate::entities::districts as row;
use crate::{Store, StoreError};

const ENTITY: &str = "district";

/// One page of districts, ordered by id.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictPage {
    pub districts: Vec<District>,
    /// The id to continue after, when more remain.
    pub next_after: Option<DistrictId>,
}

impl Store {
    /// Stores a new district; `AlreadyExists` if its id is taken.
    pub async fn create_district(&self, district: &District) -> Result<(), StoreError> {
        self.create_district_for(district, None).await
    }

    /// Stores a new district created by the caller's request `request_id` (kept so a
    /// retry can tell its own district from someone else's); `AlreadyExists` if its id is
    /// taken.
    pub async fn create_district_for(
        &self,
        district: &District,
        request_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut model = self.row_of(district);
        model.revision = 1;
        model.create_request_id = request_id.map(str::to_owned);
        let inserted = row::Entity::insert(model.into_active_model())
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(row::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                entity: ENTITY,
                id: district.id.to_string(),
            });
        }
        Ok(())
    }

    /// The request id the district was created by, if its creator gave one.
    pub async fn district_create_request(
        &self,
        id: &DistrictId,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<Option<String>> = row::Entity::find_by_id(id.as_str())
            .select_only()
            .column(row::Column::CreateRequestId)
            .into_tuple()
            .one(self.db())
            .await?;
        match found {
            Some(request) => Ok(request),
            None => Err(StoreError::NotFound {
                entity: ENTITY,
                id: id.to_string(),
            }),
        }
    }

    /// Which of `ids` name a stored district (their secrets are not read).
    pub async fn existing_districts(
        &self,
        ids: &[DistrictId],
    ) -> Result<Vec<DistrictId>, StoreError> {
        let found: Vec<String> = row::Entity::find()
            .select_only()
            .column(row::Column::Id)
            .filter(row::Column::Id.is_in(ids.iter().map(|d| d.as_str())))
            .into_tuple()
            .all(self.db())
            .await?;
        found
            .into_iter()
            .map(|id| {
                id.parse()
                    .map_err(|e| StoreError::corrupt(ENTITY, &id, "id", e))
            })
            .collect()
    }

    pub async fn get_district(&self, id: &DistrictId) -> Result<District, StoreError> {
        let found = row::Entity::find_by_id(id.as_str()).one(self.db()).await?;
        match found {
            Some(m) => self.district_of(m),
            None => Err(StoreError::NotFound {
                entity: ENTITY,
                id: id.to_string(),
            }),
        }
    }

    /// Districts ordered by id, `limit` at a time, after `after`.
    pub async fn list_districts(
        &self,
        after: Option<&DistrictId>,
        limit: u64,
    ) -> Result<DistrictPage, StoreError> {
        self.list_districts_in(&Districts::All, after, limit).await
    }

    /// As [`Store::list_districts`], only the districts `within` names.
    pub async fn list_districts_in(
        &self,
        within: &Districts,
        after: Option<&DistrictId>,
        limit: u64,
    ) -> Result<DistrictPage, StoreError> {
        let mut query = row::Entity::find().order_by_asc(row::Column::Id);
        if let Districts::Only(ids) = within {
            query = query.filter(row::Column::Id.is_in(ids.iter().map(|d| d.as_str())));
        }
        if let Some(after) = after {
            query = query.filter(row::Column::Id.gt(after.as_str()));
        }
        let mut rows = query.limit(limit + 1).all(self.db()).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let districts = rows
            .into_iter()
            .map(|m| self.district_of(m))
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = if more {
            districts.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(DistrictPage {
            districts,
            next_after,
        })
    }

    /// Replaces a stored district with `district` (same id) if it is still at
    /// `district.revision`, stamping `updated_at` and raising the revision; `Stale` when
    /// someone updated it first, `NotFound` when it is gone.
    pub async fn update_district(&self, district: &District) -> Result<District, StoreError> {
        let current = self.get_district(&district.id).await?;
        let mut updated = district.clone();
        updated.created_at = current.created_at;
        updated.created_by = current.created_by.clone();
        updated.updated_at = crate::convert::now();
        updated.revision = district.revision + 1;
        let new = self.row_of(&updated);
        let written = row::Entity::update_many()
            .col_expr(row::Column::Name, Expr::value(new.name))
            .col_expr(row::Column::ConnectorKind, Expr::value(new.connector_kind))
            .col_expr(
                row::Column::ConnectorSettings,
                Expr::value(new.connector_settings),
            )
            .col_expr(
                row::Column::ConnectorSecrets,
                Expr::value(new.connector_secrets),
            )
            .col_expr(row::Column::Settings, Expr::value(new.settings))
            .col_expr(row::Column::TimeZone, Expr::value(new.time_zone))
            .col_expr(row::Column::UpdatedAt, Expr::value(new.updated_at))
            .col_expr(row::Column::Revision, Expr::value(new.revision))
            .col_expr(row::Column::UpdatedBy, Expr::value(new.updated_by));
        // Daily sync turned on or off, or a new time zone: the nightly clock starts over
        // (tonight's run, if not started yet, is due at once).
        let written = if model::nightly::nightly_moved(&current, &updated) {
            written.col_expr(row::Column::NightlyDueAt, Expr::value(new.nightly_due_at))
        } else {
            written
        };
        let written = written
            .filter(row::Column::Id.eq(district.id.as_str()))
            .filter(row::Column::Revision.eq(district.revision as i64))
            .exec(self.db())
            .await?;
        if written.rows_affected == 0 {
            let now = self.get_district(&district.id).await?;
            return Err(StoreError::Stale {
                entity: ENTITY,
                id: district.id.to_string(),
                expected: district.revision,
                found: now.revision,
            });
        }
        Ok(updated)
    }

    /// Deletes a district with everything stored under it — roster, links, runs, plans,
    /// staged records, change log — in one transaction, if it is still at `revision` and
    /// has no open run (`StateChanged` naming the open run's state otherwise).
    pub async fn delete_district(&self, id: &DistrictId, revision: u64) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        // Writing the district's row first holds off other writers of the district (a
        // stale revision writes nothing).
        let claimed = row::Entity::update_many()
            .col_expr(row::Column::Revision, Expr::value(revision as i64 + 1))
            .filter(row::Column::Id.eq(id.as_str()))
            .filter(row::Column::Revision.eq(revision as i64))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            drop(txn);
            let now = self.get_district(id).await?;
            return Err(StoreError::Stale {
                entity: ENTITY,
                id: id.to_string(),
                expected: revision,
                found: now.revision,
            });
        }
        if let Some(open) = crate::runs::open_run_state(&txn, id).await? {
            return Err(StoreError::StateChanged {
                entity: ENTITY,
                id: id.to_string(),
                found: format!("syncing (a run is {open})"),
            });
        }
        let backend = txn.get_database_backend();
        for table in DISTRICT_TABLES {
            let sql = format!(
                "DELETE FROM {table} WHERE district_id = {}",
                placeholder(backend)
            );
            txn.execute(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [id.as_str().into()],
            ))
            .await?;
        }
        row::Entity::delete_by_id(id.as_str()).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many students, guardians, staff and runs a district holds.
    pub async fn district_record_count(&self, id: &DistrictId) -> Result<u64, StoreError> {
        let mut total = 0;
        for table in ["students", "guardians", "staff", "sync_runs"] {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE district_id = {}",
                placeholder(self.db().get_database_backend())
            );
            let row = self
                .db()
                .query_one(sea_orm::Statement::from_sql_and_values(
                    self.db().get_database_backend(),
                    sql,
                    [id.as_str().into()],
                ))
                .await?;
            let n: i64 = match row {
                Some(r) => r.try_get("", "n")?,
                None => 0,
            };
            total += n.max(0) as u64;
        }
        Ok(total)
    }
}

/// Every table keyed by district other than `districts`: what a district's deletion
/// removes.
const DISTRICT_TABLES: [&str; 20] = [
    "notification_deliveries",
    "run_events",
    "run_input_pieces",
    "run_inputs",
    "staged_records",
    "run_plan_exclusions",
    "run_plan",
    "change_log",
    "change_feed_heads",
    "spot_sync_requests",
    "sync_runs",
    "form_authorships",
    "links",
    "contacts",
    "enrollments",
    "classrooms",
    "staff",
    "guardians",
    "students",
    "schools",
];

fn placeholder(backend: sea_orm::DatabaseBackend) -> &'static str {
    match backend {
        sea_orm::DatabaseBackend::Postgres => "$1",
        _ => "?",
    }
}

impl Store {
    /// The district's row, its secrets sealed when a key is configured.
    fn row_of(&self, d: &District) -> row::Model {
        let mut m = plain_row(d);
        if let Some(sealer) = &self.sealer {
            m.connector_secrets = sealer.seal(&m.connector_secrets);
        }
        m
    }

    /// The district a row holds, its secrets opened.
    fn district_of(&self, mut m: row::Model) -> Result<District, StoreError> {
        if crate::sealing::is_sealed(&m.connector_secrets) {
            let opened = match &self.sealer {
                Some(sealer) => sealer.open(&m.connector_secrets),
                None => Err(crate::sealing::SealingError::UnknownKey(
                    "(none configured)".into(),
                )),
            };
            m.connector_secrets =
                opened.map_err(|e| StoreError::corrupt(ENTITY, &m.id, "connector_secrets", e))?;
        }
        from_row(m)
    }

    /// Claims up to `limit` districts whose nightly run is due at `now`, soonest first:
    /// each claimed district's due time moves to `hold_until`, so no other replica claims
    /// it while this one starts its run (and another may once that time passes, should
    /// this one die first). Districts another replica is claiming at this moment are
    /// skipped, not waited for (`FOR UPDATE SKIP LOCKED` on PostgreSQL). One query when
    /// nothing is due, however many districts there are.
    pub async fn claim_due_nightly(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        hold_until: chrono::DateTime<chrono::Utc>,
        limit: u64,
    ) -> Result<Vec<District>, StoreError> {
        use sea_orm::sea_query::{LockBehavior, LockType, Query};
        let hold = crate::convert::stored(hold_until);
        let mut due = Query::select();
        due.column(row::Column::Id)
            .from(row::Entity)
            .and_where(row::Column::NightlyDueAt.lte(crate::convert::stored(now)))
            .order_by(row::Column::NightlyDueAt, sea_orm::Order::Asc)
            .order_by(row::Column::Id, sea_orm::Order::Asc)
            .limit(limit);
        let mut rows = match self.backend() {
            // One statement: the due rows picked, locked and moved to `hold_until` at
            // once; rows another claimer has locked are skipped, not waited for.
            crate::Backend::Postgres => {
                due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
                row::Entity::update_many()
                    .col_expr(row::Column::NightlyDueAt, Expr::value(hold))
                    .filter(row::Column::Id.in_subquery(due))
                    .exec_with_returning(self.db())
                    .await?
            }
            // One writer at a time: the transaction takes the write lock before it reads,
            // so no other claimer reads the same rows before this one moves them.
            crate::Backend::Sqlite => {
                let txn = self.db().begin().await?;
                txn.execute_unprepared(
                    "UPDATE districts SET nightly_due_at = nightly_due_at WHERE id IS NULL",
                )
                .await?;
                let rows = row::Entity::find()
                    .filter(row::Column::Id.in_subquery(due))
                    .all(&txn)
                    .await?;
                if !rows.is_empty() {
                    row::Entity::update_many()
                        .col_expr(row::Column::NightlyDueAt, Expr::value(hold))
                        .filter(row::Column::Id.is_in(rows.iter().map(|m| m.id.as_str())))
                        .exec(&txn)
                        .await?;
                }
                txn.commit().await?;
                rows
            }
        };
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.into_iter().map(|m| self.district_of(m)).collect()
    }

    /// Sets when the district's nightly run is next looked at (`None`: not while daily
    /// sync is off), if it is still `claimed` (what [`Store::claim_due_nightly`] set):
    /// false when the district changed meanwhile (its own new time stands) or is gone.
    pub async fn set_nightly_due(
        &self,
        id: &DistrictId,
        claimed: chrono::DateTime<chrono::Utc>,
        next: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError> {
        let written = row::Entity::update_many()
            .col_expr(
                row::Column::NightlyDueAt,
                Expr::value(next.map(crate::convert::stored)),
            )
            .filter(row::Column::Id.eq(id.as_str()))
            .filter(row::Column::NightlyDueAt.eq(crate::convert::stored(claimed)))
            .exec(self.db())
            .await?;
        Ok(written.rows_affected == 1)
    }

    /// When the district's nightly run is next looked at (`None` while daily sync is off).
    #[cfg(any(test, feature = "testing"))]
    pub async fn nightly_due_at(
        &self,
        id: &DistrictId,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let found: Option<Option<chrono::DateTime<chrono::Utc>>> =
            row::Entity::find_by_id(id.as_str())
                .select_only()
                .column(row::Column::NightlyDueAt)
                .into_tuple()
                .one(self.db())
                .await?;
        found.ok_or(StoreError::NotFound {
            entity: ENTITY,
            id: id.to_string(),
        })
    }

    /// The connector secrets of a district as the database holds them (sealed or not),
    /// for tests that check what is at rest.
    #[cfg(feature = "testing")]
    pub async fn stored_secrets(&self, id: &DistrictId) -> Result<String, StoreError> {
        let found = row::Entity::find_by_id(id.as_str()).one(self.db()).await?;
        found
            .map(|m| m.connector_secrets)
            .ok_or(StoreError::NotFound {
                entity: ENTITY,
                id: id.to_string(),
            })
    }

    /// Seals every district's secrets with the current key (secrets sealed with an old
    /// key, or written before sealing was on); answers how many districts were re-sealed.
    pub async fn reseal_secrets(&self) -> Result<u64, StoreError> {
        let Some(sealer) = self.sealer.clone() else {
            return Ok(0);
        };
        // One transaction, committed before this answers: a count is only ever of rows
        // that are re-sealed on disk.
        let txn = self.db().begin().await?;
        let mut count = 0;
        for m in row::Entity::find().all(&txn).await? {
            if sealer.is_current(&m.connector_secrets) {
                continue;
            }
            let plain = sealer
                .open(&m.connector_secrets)
                .map_err(|e| StoreError::corrupt(ENTITY, &m.id, "connector_secrets", e))?;
            count += row::Entity::update_many()
                .col_expr(
                    row::Column::ConnectorSecrets,
                    Expr::value(sealer.seal(&plain)),
                )
                .filter(row::Column::Id.eq(m.id.as_str()))
                .filter(row::Column::ConnectorSecrets.eq(m.connector_secrets.as_str()))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        txn.commit().await?;
        Ok(count)
    }
}

/// How a subscriber's signing secret is named among the district's sealed secrets: kept
/// with the connector's, sealed and re-sealed with them, and never in the settings'
/// column. No connector secret's name begins with `@`.
const SUBSCRIBER_SECRET: &str = "@subscriber:";

fn plain_row(d: &District) -> row::Model {
    let mut secrets = d.connector.secrets.clone();
    let mut settings = d.settings.clone();
    for s in &mut settings.subscribers {
        if let Some(secret) = s.secret.take() {
            secrets.insert(format!("{SUBSCRIBER_SECRET}{}", s.name), secret);
        }
    }
    row::Model {
        id: d.id.to_string(),
        name: d.name.clone(),
        connector_kind: d.connector.kind.clone(),
        connector_settings: to_json(&d.connector.settings),
        connector_secrets: to_json(&secrets),
        settings: to_json(&settings),
        time_zone: d.time_zone.name().to_owned(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        revision: d.revision as i64,
        create_request_id: None,
        created_by: Some(d.created_by.clone()),
        updated_by: Some(d.updated_by.clone()),
        nightly_due_at: model::nightly::nightly_from(d, d.updated_at).map(crate::convert::stored),
    }
}

fn from_row(m: row::Model) -> Result<District, StoreError> {
    let id = m.id.as_str();
    let settings: BTreeMap<String, String> =
        json(ENTITY, id, "connector_settings", &m.connector_settings)?;
    let mut secrets: BTreeMap<String, Secret> =
        json(ENTITY, id, "connector_secrets", &m.connector_secrets)?;
    let mut district_settings: DistrictSettings = json(ENTITY, id, "settings", &m.settings)?;
    for s in &mut district_settings.subscribers {
        s.secret = secrets.remove(&format!("{SUBSCRIBER_SECRET}{}", s.name));
    }
    secrets.retain(|name, _| !name.starts_with(SUBSCRIBER_SECRET));
    Ok(District {
        id: parse(ENTITY, id, "id", id)?,
        name: m.name,
        connector: ConnectorConfig {
            kind: m.connector_kind,
            settings,
            secrets,
        },
        settings: district_settings,
        time_zone: parse(ENTITY, id, "time_zone", &m.time_zone)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision.max(0) as u64,
        created_by: m.created_by.unwrap_or_default(),
        updated_by: m.updated_by.unwrap_or_default(),
    })
}
