//! CreateDistrict, UpdateDistrict, GetDistrict, ListDistricts.

use engine::{DistrictDraft, Engine, EngineError};
use model::district::DistrictSettings;
use model::ids::DistrictId;
use proto::v1 as pb;
use tonic::Status;

use super::district_id;
use crate::convert::districts::{connector_draft, district_to_proto, masked_update, parse_etag};
use crate::convert::settings::apply_settings;
use crate::status::{from_engine, invalid, invalid_field};

const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

/// A caller's request id: at most [`model::limits::REQUEST_ID`] characters of one line,
/// not one of the schedule's; empty means none.
pub(super) fn request_id(raw: &str) -> Result<Option<&str>, Status> {
    let id = raw.trim();
    model::limits::text("request_id", id, model::limits::REQUEST_ID).map_err(invalid_field)?;
    if id.starts_with(engine::schedule::NIGHTLY_REQUEST_PREFIX) {
        return Err(invalid_field(model::FieldError::new(
            "request_id",
            format!(
                "ids starting with {:?} name the schedule's nightly runs",
                engine::schedule::NIGHTLY_REQUEST_PREFIX
            ),
        )));
    }
    Ok((!id.is_empty()).then_some(id))
}

/// The engine's verdict on a district in the request's terms: its field paths are under
/// `district`, where the request carries it.
fn under_district(e: EngineError) -> Status {
    match e {
        EngineError::Invalid(errors) => {
            let mut named = model::ValidationErrors::new();
            named.extend_under("district", errors);
            invalid(named)
        }
        other => from_engine(other),
    }
}

/// An etag from a read: the district's revision; empty means none.
fn etag(raw: &str, path: &str) -> Result<Option<u64>, Status> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    parse_etag(raw).map(Some).ok_or_else(|| {
        invalid_field(model::FieldError::new(
            path,
            "is not an etag this server gave",
        ))
    })
}

pub(super) async fn create(
    engine: &Engine,
    request: pb::CreateDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::CreateDistrictRequest {
        district,
        request_id: raw_request,
    } = request;
    let request = request_id(&raw_request)?;
    let Some(district) = district else {
        return Err(invalid_field(model::FieldError::new(
            "district",
            "is required",
        )));
    };
    let pb::District {
        district_id,
        name,
        connector,
        settings,
        time_zone,
        create_time: _,
        update_time: _,
        etag: _,
        created_by: _,
        updated_by: _,
    } = district;
    let mut district_settings = DistrictSettings::default();
    if let Some(patch) = settings {
        apply_settings(&mut district_settings, patch)
            .map_err(|e| under_district(EngineError::Invalid(e)))?;
    }
    let draft = DistrictDraft {
        id: district_id,
        name,
        connector: connector.map(connector_draft),
        settings: district_settings,
        time_zone,
    };
    let district = engine
        .districts()
        .create_district_once(draft, request)
        .await
        .map_err(under_district)?;
    tracing::info!(district = %district.id, kind = %district.connector.kind, "district created");
    Ok(district_to_proto(&district))
}

pub(super) async fn update(
    engine: &Engine,
    request: pb::UpdateDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::UpdateDistrictRequest {
        district,
        update_mask,
    } = request;
    let Some(district) = district else {
        return Err(invalid_field(model::FieldError::new(
            "district",
            "is required",
        )));
    };
    let id = super::district_id(&district.district_id).map_err(|_| {
        invalid_field(model::FieldError::new(
            "district.district_id",
            "is required",
        ))
    })?;
    let expected_revision = etag(&district.etag, "district.etag")?;
    let paths = update_mask.map(|m| m.paths).unwrap_or_default();
    let mut update = masked_update(district, &paths).map_err(invalid)?;
    update.expected_revision = expected_revision;
    let district = engine
        .districts()
        .update_district(&id, update)
        .await
        .map_err(under_district)?;
    tracing::info!(district = %district.id, fields = ?paths, "district updated");
    Ok(district_to_proto(&district))
}

pub(super) async fn delete(
    engine: &Engine,
    request: pb::DeleteDistrictRequest,
) -> Result<pb::DeleteDistrictResponse, Status> {
    let pb::DeleteDistrictRequest {
        district_id: raw,
        etag: raw_etag,
        force,
    } = request;
    let id = district_id(&raw)?;
    let expected = etag(&raw_etag, "etag")?;
    engine
        .districts()
        .delete_district(&id, expected, force)
        .await
        .map_err(from_engine)?;
    tracing::info!(district = %id, force, "district deleted");
    Ok(pb::DeleteDistrictResponse {})
}

pub(super) async fn get(
    engine: &Engine,
    request: pb::GetDistrictRequest,
) -> Result<pb::District, Status> {
    let pb::GetDistrictRequest { district_id: raw } = request;
    let id = district_id(&raw)?;
    let district = engine
        .districts()
        .get_district(&id)
        .await
        .map_err(from_engine)?;
    Ok(district_to_proto(&district))
}

pub(super) async fn list(
    engine: &Engine,
    within: &model::access::Districts,
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
        .list_districts_in(within, after.as_ref(), limit)
        .await
        .map_err(crate::status::from_store)?;
    let mut districts: Vec<pb::District> = page.districts.iter().map(district_to_proto).collect();
    let (n, cut) = crate::page::fit(&districts, limit);
    districts.truncate(n);
    let more = cut || page.next_after.is_some();
    Ok(pb::ListDistrictsResponse {
        next_page_token: match (more, districts.last()) {
            (true, Some(last)) => crate::page::token("districts", &last.district_id),
            _ => String::new(),
        },
        districts,
    })
}
