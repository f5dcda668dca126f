//! CreateApiKey, ListApiKeys, RevokeApiKey (for `admin` keys), and ListAuditEvents.

use engine::Engine;
use model::access::{ApiKey, Caller, Districts};
use proto::v1 as pb;
use tonic::Status;

use super::district_id;
use crate::convert::time;
use crate::page;
use crate::status::{from_engine, invalid};

pub(crate) fn key_to_proto(key: &ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        name: key.name.clone(),
        district_ids: match &key.scope.districts {
            Districts::All => vec![],
            Districts::Only(ids) => ids.iter().map(|d| d.to_string()).collect(),
        },
        abilities: key
            .scope
            .abilities
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        create_time: time(key.created_at),
        created_by: key.created_by.clone(),
        revoke_time: key.revoked_at.and_then(time),
    }
}

pub(super) async fn create(
    engine: &Engine,
    caller: &Caller,
    r: pb::CreateApiKeyRequest,
) -> Result<pb::CreateApiKeyResponse, Status> {
    let mut errors = model::ValidationErrors::new();
    if let Err(e) = model::access::parse_key_name(&r.name) {
        errors.0.push(e);
    }
    let scope = match model::access::parse_scope(&r.district_ids, &r.abilities) {
        Ok(scope) => Some(scope),
        Err(more) => {
            errors.0.extend(more.0);
            None
        }
    };
    let Some(scope) = scope.filter(|_| errors.is_empty()) else {
        return Err(invalid(errors));
    };
    let issued = engine
        .create_api_key(&r.name, scope, caller)
        .await
        .map_err(from_engine)?;
    Ok(pb::CreateApiKeyResponse {
        key: Some(key_to_proto(&issued.key)),
        token: issued.token,
    })
}

/// The keys whose scope lies within the caller's: an admin of some districts does not
/// learn of others.
pub(super) async fn list(
    engine: &Engine,
    caller: &Caller,
) -> Result<pb::ListApiKeysResponse, Status> {
    let keys = engine.list_api_keys().await.map_err(from_engine)?;
    Ok(pb::ListApiKeysResponse {
        keys: keys
            .iter()
            .filter(|k| caller.scope.districts.covers(&k.scope.districts))
            .map(key_to_proto)
            .collect(),
    })
}

pub(super) async fn revoke(
    engine: &Engine,
    caller: &Caller,
    r: pb::RevokeApiKeyRequest,
) -> Result<pb::ApiKey, Status> {
    let name = model::access::parse_key_name(&r.name).map_err(crate::status::invalid_field)?;
    let unknown = || Status::not_found(format!("api key {name} not found"));
    let key = match engine.api_key(&name).await {
        Ok(key) => key,
        Err(engine::EngineError::NotFound { .. }) => return Err(unknown()),
        Err(e) => return Err(from_engine(e)),
    };
    if !caller.scope.districts.covers(&key.scope.districts) {
        // Keys beyond the caller's districts are not theirs to know of.
        return Err(unknown());
    }
    // A key is revoked only by one that could have made it: every ability it holds.
    let lacking: Vec<&str> = key
        .scope
        .abilities
        .difference(&caller.scope.abilities)
        .map(|a| a.as_str())
        .collect();
    if !lacking.is_empty() {
        return Err(Status::permission_denied(format!(
            "api key {name} holds {}, which this key does not: only a key with every ability of another may revoke it",
            lacking.join(", ")
        )));
    }
    let revoked = engine.revoke_api_key(&name).await.map_err(from_engine)?;
    Ok(key_to_proto(&revoked))
}

pub(super) async fn audit(
    engine: &Engine,
    r: pb::ListAuditEventsRequest,
) -> Result<pb::ListAuditEventsResponse, Status> {
    let district = district_id(&r.district_id)?;
    let size = page::size(r.page_size, 100, 1000)?;
    let request = format!("audit/{district}");
    let after = page::after(&r.page_token, &request)?
        .map(|k| {
            k.parse::<u64>().map_err(|_| {
                Status::invalid_argument("page_token: is not a token this server gave")
            })
        })
        .transpose()?;
    let mut events = engine
        .list_audit(&district, after, size + 1)
        .await
        .map_err(from_engine)?;
    let more = events.len() as u64 > size;
    events.truncate(size as usize);
    Ok(pb::ListAuditEventsResponse {
        next_page_token: match (more, events.last()) {
            (true, Some(last)) => page::token(&request, &last.seq.to_string()),
            _ => String::new(),
        },
        events: events
            .into_iter()
            .map(|e| pb::AuditEvent {
                time: time(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
    })
}
