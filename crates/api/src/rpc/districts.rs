//! CreateDistrict, UpdateDistrict, GetDistrict, ListDistricts.

use engine::{DistrictDraft, DistrictUpdate, Engine};
use model::district::DistrictSettings;
use model::ids::DistrictId;
use proto::v1 as pb;
use tonic::Status;

use super::district_id;
use crate::convert::districts::{apply_settings, connector_draft, district_to_proto};
use crate::status::{from_engine, invalid, invalid_field};

const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

pub(super) async fn create(
    engine: &Engine,
    request: pb::CreateDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::CreateDistrictRequest {
        district_id,
        name,
        connector,
        settings,
        time_zone,
    } = request;
    let mut district_settings = DistrictSettings::default();
    if let Some(patch) = settings {
        apply_settings(&mut district_settings, patch).map_err(invalid)?;
    }
    let draft = DistrictDraft {
        id: district_id,
        name,
        connector: connector.map(connector_draft),
        settings: district_settings,
        time_zone,
    };
    let district = engine.create_district(draft).await.map_err(from_engine)?;
    tracing::info!(district = %district.id, kind = %district.connector.kind, "district created");
    Ok(district_to_proto(&district))
}

pub(super) async fn update(
    engine: &Engine,
    request: pb::UpdateDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::UpdateDistrictRequest {
        district_id: raw_id,
        name,
        connector,
        settings,
        time_zone,
    } = request;
    let id = district_id(&raw_id)?;
    let settings = match settings {
        Some(patch) => {
            let mut merged = engine
                .get_district(&id)
                .await
                .map_err(from_engine)?
                .settings;
            apply_settings(&mut merged, patch).map_err(invalid)?;
            Some(merged)
        }
        None => None,
    };
    let update = DistrictUpdate {
        name,
        connector: connector.map(connector_draft),
        settings,
        time_zone,
    };
    let district = engine
        .update_district(&id, update)
        .await
        .map_err(from_engine)?;
    tracing::info!(district = %district.id, "district updated");
    Ok(district_to_proto(&district))
}

pub(super) async fn get(
    engine: &Engine,
    request: pb::GetDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::GetDistrictRequest { district_id: raw } = request;
    let id = district_id(&raw)?;
    let district = engine.get_district(&id).await.map_err(from_engine)?;
    Ok(district_to_proto(&district))
}

pub(super) async fn list(
    engine: &Engine,
    request: pb::ListDistrictsRequest,
) -> Result<pb::ListDistrictsResponse, Status> {
    let pb::ListDistrictsRequest {
        page_size,
        page_token,
    } = request;
    let limit = crate::page::size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
    let after = crate::page::after(&page_token, "districts")?
        .map(|k| {
            k.parse::<DistrictId>().map_err(|_| {
                invalid_field(model::FieldError::new(
                    "page_token",
                    "is not a token this server gave",
                ))
            })
        })
        .transpose()?;
    let page = engine
        .store()
        .list_districts(after.as_ref(), limit)
        .await
        .map_err(crate::status::from_store)?;
    Ok(pb::ListDistrictsResponse {
        districts: page.districts.iter().map(district_to_proto).collect(),
        next_page_token: page
            .next_after
            .map(|id| crate::page::token("districts", id.as_str()))
            .unwrap_or_default(),
    })
}
