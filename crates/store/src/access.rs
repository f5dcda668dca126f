//! API keys (their scope and the hash of their secret, never the secret) and the audit
//! trail of who did what to a district.

use chrono::{DateTime, Utc};
use model::access::{ApiKey, Scope};
use model::ids::DistrictId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use crate::convert::{json, stored, to_json};
use crate::entities::api_keys as key_row;
use crate::entities::audit_events as audit_row;
use crate::{Store, StoreError};

const KEY: &str = "api key";

/// One thing someone did to a district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its place in the trail (ascending); 0 for an event not yet stored.
    pub seq: u64,
    pub district_id: DistrictId,
    pub at: DateTime<Utc>,
    /// The caller's key name, `anonymous`, `schedule`, `drop-folder` or `cli`.
    pub actor: String,
    /// `district.create`, `run.start`, `run.approve`, `spot_sync`, …
    pub action: String,
    /// What it was done to: a run id, `student <id>`, the district.
    pub target: String,
    /// A few words more (a run's mode, the fields a spot sync changed).
    pub detail: String,
}

impl Store {
    /// Stores a new key with the hash of its secret; `AlreadyExists` when the name (or
    /// the id) is taken.
    pub async fn create_api_key(&self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError> {
        let row = key_row::Model {
            id: key.id.clone(),
            name: key.name.clone(),
            secret_hash: secret_hash.to_owned(),
            scope: to_json(&key.scope),
            created_at: stored(key.created_at),
            created_by: key.created_by.clone(),
            revoked_at: key.revoked_at.map(stored),
        };
        match key_row::Entity::insert(row.into_active_model())
            .exec_without_returning(self.db())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Err(StoreError::AlreadyExists {
                    entity: KEY,
                    id: key.name.clone(),
                }),
                _ => Err(e.into()),
            },
        }
    }

    /// The key with public id `id` and the hash of its secret, revoked or not.
    pub async fn api_key(&self, id: &str) -> Result<Option<(ApiKey, String)>, StoreError> {
        let Some(row) = key_row::Entity::find_by_id(id).one(self.db()).await? else {
            return Ok(None);
        };
        let hash = row.secret_hash.clone();
        Ok(Some((key_of(row)?, hash)))
    }

    /// The key named `name`; `NotFound` when there is none.
    pub async fn api_key_named(&self, name: &str) -> Result<ApiKey, StoreError> {
        let row = key_row::Entity::find()
            .filter(key_row::Column::Name.eq(name))
            .one(self.db())
            .await?;
        match row {
            Some(row) => key_of(row),
            None => Err(StoreError::NotFound {
                entity: KEY,
                id: name.to_owned(),
            }),
        }
    }

    /// Every key, by name.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        key_row::Entity::find()
            .order_by_asc(key_row::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(key_of)
            .collect()
    }

    /// Whether any key was ever created (a revoked key counts: a server that once had
    /// keys never opens again by revoking them).
    pub async fn any_api_keys(&self) -> Result<bool, StoreError> {
        Ok(key_row::Entity::find().count(self.db()).await? > 0)
    }

    /// Revokes the key named `name` at `at` (a key already revoked keeps its first
    /// revocation); `NotFound` when there is no such key.
    pub async fn revoke_api_key(
        &self,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<ApiKey, StoreError> {
        key_row::Entity::update_many()
            .col_expr(key_row::Column::RevokedAt, Expr::value(stored(at)))
            .filter(key_row::Column::Name.eq(name))
            .filter(key_row::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        self.api_key_named(name).await
    }

    /// Gives the key named `name` a new id and secret hash (its old token stops working
    /// at once) and lifts a revocation; `NotFound` when there is no such key.
    pub async fn reissue_api_key(
        &self,
        name: &str,
        id: &str,
        secret_hash: &str,
    ) -> Result<ApiKey, StoreError> {
        key_row::Entity::update_many()
            .col_expr(key_row::Column::Id, Expr::value(id))
            .col_expr(key_row::Column::SecretHash, Expr::value(secret_hash))
            .col_expr(
                key_row::Column::RevokedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(key_row::Column::Name.eq(name))
            .exec(self.db())
            .await?;
        self.api_key_named(name).await
    }

    /// Adds `event` to its district's trail.
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let row = audit_row::ActiveModel {
            seq: sea_orm::ActiveValue::NotSet,
            district_id: sea_orm::ActiveValue::Set(event.district_id.to_string()),
            at: sea_orm::ActiveValue::Set(stored(event.at)),
            actor: sea_orm::ActiveValue::Set(event.actor.clone()),
            action: sea_orm::ActiveValue::Set(event.action.clone()),
            target: sea_orm::ActiveValue::Set(event.target.clone()),
            detail: sea_orm::ActiveValue::Set(event.detail.clone()),
        };
        audit_row::Entity::insert(row)
            .exec_without_returning(self.db())
            .await?;
        Ok(())
    }

    /// A district's trail, oldest first, after `after` (a `seq`), `limit` at a time. It
    /// outlives the district: who deleted it stays readable.
    pub async fn list_audit(
        &self,
        district: &DistrictId,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let mut query = audit_row::Entity::find()
            .filter(audit_row::Column::DistrictId.eq(district.as_str()))
            .order_by_asc(audit_row::Column::Seq);
        if let Some(after) = after {
            query = query.filter(audit_row::Column::Seq.gt(after as i64));
        }
        query
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| {
                Ok(AuditEvent {
                    seq: m.seq.max(0) as u64,
                    district_id: crate::convert::parse(
                        "audit event",
                        &m.seq.to_string(),
                        "district_id",
                        &m.district_id,
                    )?,
                    at: m.at,
                    actor: m.actor,
                    action: m.action,
                    target: m.target,
                    detail: m.detail,
                })
            })
            .collect()
    }
}

fn key_of(row: key_row::Model) -> Result<ApiKey, StoreError> {
    let scope: Scope = json(KEY, &row.name, "scope", &row.scope)?;
    Ok(ApiKey {
        id: row.id,
        name: row.name,
        scope,
        created_at: row.created_at,
        created_by: row.created_by,
        revoked_at: row.revoked_at,
    })
}
