//! Guardian accounts: read one or several, and write many in one statement per batch.

use model::search::{e164, name_key};
use std::collections::HashMap;

use chrono::Utc;
use model::ids::{DistrictId, GuardianId, SourceId};
use model::roster::{AccountStatus, Address, Guardian};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::convert::{found, named, parse};
use crate::entities::guardians as row;
use crate::{upsert_rows, Store, StoreError, Synced, BATCH_ROWS};

const ENTITY: &str = "guardian";

impl Store {
    pub async fn get_guardian(
        &self,
        district: &DistrictId,
        id: GuardianId,
    ) -> Result<Guardian, StoreError> {
        let row = row::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        found(row, ENTITY, || id.to_string(), from_row)
    }

    pub async fn find_guardian_by_source(
        &self,
        district: &DistrictId,
        source_id: &SourceId,
    ) -> Result<Guardian, StoreError> {
        let row = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::SourceId.eq(source_id.as_str()))
            .one(self.db())
            .await?;
        found(
            row,
            ENTITY,
            || format!("with source id {}", model::limits::echo(source_id.as_str())),
            from_row,
        )
    }

    /// The guardians with these ids, in one query; unknown ids are left out.
    pub async fn get_guardians(
        &self,
        district: &DistrictId,
        ids: &[GuardianId],
    ) -> Result<Vec<Guardian>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::Id.is_in(chunk.iter().map(|id| id.to_string())))
                .all(self.db())
                .await?;
            for r in rows {
                out.push(from_row(r)?);
            }
        }
        Ok(out)
    }

    /// The guardians with these ids with their source hashes, keyed by id; unknown ids
    /// are left out. One query per [`BATCH_ROWS`] ids.
    pub async fn synced_guardians_by_id(
        &self,
        district: &DistrictId,
        ids: &[GuardianId],
    ) -> Result<HashMap<GuardianId, Synced<Guardian>>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::Id.is_in(chunk.iter().map(|id| id.to_string())))
                .all(self.db())
                .await?;
            for m in rows {
                let source_hash = m.source_hash.clone();
                let value = from_row(m)?;
                out.insert(value.id, Synced { value, source_hash });
            }
        }
        Ok(out)
    }

    /// How many of a district's guardians are archived (`true`) or not (`false`).
    pub async fn count_guardians(
        &self,
        district: &DistrictId,
        archived: bool,
    ) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Archived.eq(archived))
            .count(self.db())
            .await?)
    }

    /// The guardians with these ids, keyed by id, in one query per [`BATCH_ROWS`] ids;
    /// unknown ids are left out.
    pub async fn guardians_by_id(
        &self,
        district: &DistrictId,
        ids: &[GuardianId],
    ) -> Result<HashMap<GuardianId, Guardian>, StoreError> {
        Ok(self
            .get_guardians(district, ids)
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect())
    }

    /// The guardians with these source ids, with their source hashes, keyed by source
    /// id; unknown ids are left out. One query per [`BATCH_ROWS`] ids.
    pub async fn guardians_by_source(
        &self,
        district: &DistrictId,
        source_ids: &[SourceId],
    ) -> Result<HashMap<SourceId, Synced<Guardian>>, StoreError> {
        let mut out = HashMap::with_capacity(source_ids.len());
        for chunk in source_ids.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::SourceId.is_in(chunk.iter().map(SourceId::as_str)))
                .all(self.db())
                .await?;
            for m in rows {
                let source_hash = m.source_hash.clone();
                let value = from_row(m)?;
                // The filter matched the source id, so it is there.
                if let Some(source_id) = value.source_id.clone() {
                    out.insert(source_id, Synced { value, source_hash });
                }
            }
        }
        Ok(out)
    }

    /// Inserts or replaces guardians by id, in one transaction.
    pub async fn upsert_guardians(
        &self,
        district: &DistrictId,
        guardians: &[Synced<Guardian>],
    ) -> Result<(), StoreError> {
        let now = crate::convert::now();
        let rows = guardians
            .iter()
            .map(|g| to_row(district, &g.value, &g.source_hash, now))
            .collect();
        let txn = self.db().begin().await?;
        write(&txn, rows).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Inserts or replaces guardian rows by id on `conn`, [`BATCH_ROWS`] per statement. Each
/// id must appear at most once.
pub(crate) async fn write<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, row::Entity>(
        conn,
        rows,
        OnConflict::columns([row::Column::DistrictId, row::Column::Id])
            .update_columns([
                row::Column::SourceId,
                row::Column::FirstName,
                row::Column::LastName,
                row::Column::Email,
                row::Column::HomePhone,
                row::Column::MobilePhone,
                row::Column::AddressStreet,
                row::Column::AddressCity,
                row::Column::AddressRegion,
                row::Column::AddressPostalCode,
                row::Column::Status,
                row::Column::SisConnected,
                row::Column::FirstKey,
                row::Column::LastKey,
                row::Column::HomePhoneE164,
                row::Column::MobilePhoneE164,
                row::Column::Archived,
                row::Column::SourceHash,
                row::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .await
}

pub(crate) fn to_row(
    district: &DistrictId,
    v: &Guardian,
    source_hash: &str,
    now: chrono::DateTime<Utc>,
) -> row::Model {
    row::Model {
        district_id: district.to_string(),
        id: v.id.to_string(),
        source_id: v.source_id.as_ref().map(|s| s.to_string()),
        first_name: v.first_name.clone(),
        last_name: v.last_name.clone(),
        email: v.email.clone(),
        home_phone: v.home_phone.clone(),
        mobile_phone: v.mobile_phone.clone(),
        address_street: v.address.street.clone(),
        address_city: v.address.city.clone(),
        address_region: v.address.region.clone(),
        address_postal_code: v.address.postal_code.clone(),
        status: v.status.as_str().to_owned(),
        sis_connected: v.sis_connected,
        first_key: name_key(&v.first_name),
        last_key: name_key(&v.last_name),
        home_phone_e164: e164(&v.home_phone).unwrap_or_default(),
        mobile_phone_e164: e164(&v.mobile_phone).unwrap_or_default(),
        archived: v.archived,
        source_hash: source_hash.to_owned(),
        created_at: now,
        updated_at: now,
    }
}

pub(crate) fn from_row(m: row::Model) -> Result<Guardian, StoreError> {
    Ok(Guardian {
        id: parse(ENTITY, &m.id, "id", &m.id)?,
        status: named(ENTITY, &m.id, "status", &m.status, AccountStatus::parse)?,
        source_id: m.source_id.map(SourceId::new),
        first_name: m.first_name,
        last_name: m.last_name,
        email: m.email,
        home_phone: m.home_phone,
        mobile_phone: m.mobile_phone,
        address: Address {
            street: m.address_street,
            city: m.address_city,
            region: m.address_region,
            postal_code: m.address_postal_code,
        },
        sis_connected: m.sis_connected,
        archived: m.archived,
    })
}
