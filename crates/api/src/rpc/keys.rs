//! CreateApiKey, ListApiKeys, RevokeApiKey (for `admin` keys), and ListAuditEvents.

use engine::Engine;
use model::access::{ApiKey, Caller, Districts};
use proto::v1 as pb;
use tonic::Status;

use super::district_id;
use crate::convert::time;
use crate::page;
use crate::status::from_engine;

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
    let pb::CreateApiKeyRequest {
        name,
        district_ids,
        abilities,
    } = r;
    let issued = engine
        .access()
        .create_api_key_as_asked(&name, &district_ids, &abilities, caller)
        .await
        .map_err(from_engine)?;
    Ok(pb::CreateApiKeyResponse {
        key: Some(key_to_proto(&issued.key)),
        token: issued.token,
    })
}

/// The keys whose scope lies within the caller's, by name: an admin of some districts
/// does not learn of others.
pub(super) async fn list(
    engine: &Engine,
    caller: &Caller,
    r: pb::ListApiKeysRequest,
) -> Result<pb::ListApiKeysResponse, Status> {
    let pb::ListApiKeysRequest {
        page_size,
        page_token,
    } = r;
    let size = page::size(page_size, 100, 1000)?;
    let after = page::after(&page_token, "keys")?;
    let mut keys = engine.access().list_api_keys().await.map_err(from_engine)?;
    keys.sort_by(|a, b| a.name.cmp(&b.name));
    let mut keys: Vec<pb::ApiKey> = keys
        .iter()
        .filter(|k| caller.scope.districts.covers(&k.scope.districts))
        .filter(|k| after.as_deref().is_none_or(|a| k.name.as_str() > a))
        .take(size as usize + 1)
        .map(key_to_proto)
        .collect();
    let (n, more) = page::fit(&keys, size);
    keys.truncate(n);
    Ok(pb::ListApiKeysResponse {
        next_page_token: match (more, keys.last()) {
            (true, Some(last)) => page::token("keys", &last.name),
            _ => String::new(),
        },
        keys,
    })
}

pub(super) async fn revoke(
    engine: &Engine,
    caller: &Caller,
    r: pb::RevokeApiKeyRequest,
) -> Result<pb::ApiKey, Status> {
    let name = model::access::parse_key_name(&r.name).map_err(crate::status::invalid_field)?;
    let unknown = || Status::not_found(format!("api key {name} not found"));
    let key = match engine.access().api_key(&name).await {
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
    let revoked = engine
        .access()
        .revoke_api_key(&name)
        .await
        .map_err(from_engine)?;
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
    let events = engine
        .access()
        .list_audit(&district, after, size + 1)
        .await
        .map_err(from_engine)?;
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let mut shown: Vec<pb::AuditEvent> = events
        .into_iter()
        .map(|e| pb::AuditEvent {
            time: time(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect();
    let (n, more) = page::fit(&shown, size);
    shown.truncate(n);
    Ok(pb::ListAuditEventsResponse {
        next_page_token: match (more, n.checked_sub(1).and_then(|i| seqs.get(i))) {
            (true, Some(last)) => page::token(&request, &last.to_string()),
            _ => String::new(),
        },
        events: shown,
    })
}
