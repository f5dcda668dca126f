//! Districts: create, read, list, update.

use std::collections::BTreeMap;

use model::district::{ConnectorConfig, District, DistrictSettings};
use model::ids::DistrictId;
use model::Secret;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
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
        let existing = row::Entity::find_by_id(district.id.as_str())
            .one(self.db())
            .await?;
        if existing.is_some() {
            return Err(StoreError::AlreadyExists {
                entity: ENTITY,
                id: district.id.to_string(),
            });
        }
        to_row(district)
            .into_active_model()
            .insert(self.db())
            .await?;
        Ok(())
    }

    pub async fn get_district(&self, id: &DistrictId) -> Result<District, StoreError> {
        let found = row::Entity::find_by_id(id.as_str()).one(self.db()).await?;
        match found {
            Some(m) => from_row(m),
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
        let mut query = row::Entity::find().order_by_asc(row::Column::Id);
        if let Some(after) = after {
            query = query.filter(row::Column::Id.gt(after.as_str()));
        }
        let mut rows = query.limit(limit + 1).all(self.db()).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let districts = rows
            .into_iter()
            .map(from_row)
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

    /// Replaces a stored district with `district` (same id), stamping `updated_at`.
    pub async fn update_district(&self, district: &District) -> Result<District, StoreError> {
        // The read confirms the district exists and keeps its creation time.
        let current = self.get_district(&district.id).await?;
        let mut updated = district.clone();
        updated.created_at = current.created_at;
        updated.updated_at = crate::convert::now();
        // Every column but the key and the creation time is written.
        let mut active = to_row(&updated).into_active_model().reset_all();
        active.id = sea_orm::ActiveValue::Unchanged(updated.id.to_string());
        active.created_at = sea_orm::ActiveValue::NotSet;
        active.update(self.db()).await?;
        Ok(updated)
    }
}

fn to_row(d: &District) -> row::Model {
    row::Model {
        id: d.id.to_string(),
        name: d.name.clone(),
        connector_kind: d.connector.kind.clone(),
        connector_settings: to_json(&d.connector.settings),
        connector_secrets: to_json(&d.connector.secrets),
        settings: to_json(&d.settings),
        time_zone: d.time_zone.name().to_owned(),
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

fn from_row(m: row::Model) -> Result<District, StoreError> {
    let id = m.id.as_str();
    let settings: BTreeMap<String, String> =
        json(ENTITY, id, "connector_settings", &m.connector_settings)?;
    let secrets: BTreeMap<String, Secret> =
        json(ENTITY, id, "connector_secrets", &m.connector_secrets)?;
    let district_settings: DistrictSettings = json(ENTITY, id, "settings", &m.settings)?;
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
    })
}
