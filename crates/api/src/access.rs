//! Who is calling and what they may do: the bearer token of each call is checked by the
//! engine; the ability an RPC needs and the district its request names are checked here,
//! before the request reaches its handler.

use engine::access::AuthError;
use engine::Engine;
use model::access::{Ability, Caller, Districts};
use model::ids::DistrictId;
use proto::v1 as pb;
use tonic::{Request, Status};

/// The district a request names, as the caller wrote it (None: it names none).
pub trait Scoped {
    fn district(&self) -> Option<&str>;
}

macro_rules! scoped_by_district_id {
    ($($t:ty),* $(,)?) => {
        $(impl Scoped for $t {
            fn district(&self) -> Option<&str> {
                Some(&self.district_id)
            }
        })*
    };
}

scoped_by_district_id!(
    pb::DeleteDistrictRequest,
    pb::GetDistrictRequest,
    pb::TestConnectionRequest,
    pb::TestNotificationRequest,
    pb::GetStudentRequest,
    pb::GetGuardianRequest,
    pb::ListStudentLinksRequest,
    pb::GetStaffRequest,
    pb::SearchRosterRequest,
    pb::GetClassroomRequest,
    pb::ListStudentClassroomsRequest,
    pb::GetSourceRecordsRequest,
    pb::StartSyncRequest,
    pb::GetSyncRunRequest,
    pb::ListSyncRunsRequest,
    pb::ListRunChangesRequest,
    pb::WatchSyncRunRequest,
    pb::WatchChangesRequest,
    pb::ListChangesRequest,
    pb::ApproveSyncRunRequest,
    pb::CancelSyncRunRequest,
    pb::RevertSyncRunRequest,
    pb::SpotSyncRequest,
    pb::ListAuditEventsRequest,
);

impl Scoped for pb::CreateDistrictRequest {
    fn district(&self) -> Option<&str> {
        Some(
            self.district
                .as_ref()
                .map_or("", |d| d.district_id.as_str()),
        )
    }
}

impl Scoped for pb::UpdateDistrictRequest {
    fn district(&self) -> Option<&str> {
        Some(
            self.district
                .as_ref()
                .map_or("", |d| d.district_id.as_str()),
        )
    }
}

macro_rules! unscoped {
    ($($t:ty),* $(,)?) => {
        $(impl Scoped for $t {
            fn district(&self) -> Option<&str> {
                None
            }
        })*
    };
}

unscoped!(
    pb::WatchRunEventsRequest,
    pb::ListDistrictsRequest,
    pb::ListConnectorsRequest,
    pb::CreateApiKeyRequest,
    pb::ListApiKeysRequest,
    pb::RevokeApiKeyRequest,
);

/// The token of a call's `authorization: Bearer <token>` metadata, if it has one.
fn bearer<T>(request: &Request<T>) -> Result<Option<&str>, Status> {
    bearer_of(request.metadata())
}

fn bearer_of(metadata: &tonic::metadata::MetadataMap) -> Result<Option<&str>, Status> {
    let Some(value) = metadata.get("authorization") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| Status::unauthenticated("authorization: is not text"))?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Status::unauthenticated(
            "authorization: must read `Bearer <key>`",
        ));
    }
    Ok(Some(token.trim()))
}

/// Who makes `request`, or UNAUTHENTICATED.
pub async fn caller<T>(engine: &Engine, request: &Request<T>) -> Result<Caller, Status> {
    let token = bearer(request)?;
    engine
        .access()
        .authenticate(token)
        .await
        .map_err(|e| match e {
            AuthError::Store => Status::unavailable(e.to_string()),
            e => Status::unauthenticated(e.to_string()),
        })
}

/// PERMISSION_DENIED unless `caller` holds `ability`.
pub fn require(caller: &Caller, ability: Ability) -> Result<(), Status> {
    if caller.may(ability) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "API key {:?} does not hold `{ability}` (it holds {})",
            caller.name,
            caller.scope.describe()
        )))
    }
}

/// PERMISSION_DENIED unless `caller` reaches the district `raw` names. An id that does
/// not parse is left to the handler, which says what is wrong with it (no district by
/// that name exists for anyone).
pub fn reach(caller: &Caller, raw: &str) -> Result<(), Status> {
    if caller.scope.districts == Districts::All {
        return Ok(());
    }
    let Ok(district) = raw.trim().parse::<DistrictId>() else {
        return Ok(());
    };
    if caller.reaches(&district) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "API key {:?} does not reach district {district}",
            caller.name
        )))
    }
}

/// How often an open stream checks that its caller's key still stands.
pub const STREAM_RECHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// `stream`, ended with UNAUTHENTICATED as soon as the key that opened it is revoked
/// (here or on another replica: the check reads the store every [`STREAM_RECHECK`]), or,
/// for an anonymous caller, once a key exists. A store that cannot be read keeps the
/// stream open; it is checked again at the next tick.
pub fn guard<T: Send + 'static>(
    engine: &Engine,
    metadata: &tonic::metadata::MetadataMap,
    mut stream: tokio_stream::wrappers::ReceiverStream<Result<T, Status>>,
) -> tokio_stream::wrappers::ReceiverStream<Result<T, Status>> {
    use tokio_stream::StreamExt as _;
    let token = bearer_of(metadata).ok().flatten().map(str::to_owned);
    let engine = engine.clone();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(STREAM_RECHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next: Option<Result<T, Status>> = None;
        loop {
            tokio::select! {
                item = stream.next(), if next.is_none() => match item {
                    Some(item) => next = Some(item),
                    None => return,
                },
                place = tx.reserve(), if next.is_some() => match (place, next.take()) {
                    (Ok(place), Some(item)) => place.send(item),
                    _ => return,
                },
                _ = tick.tick() => match engine.access().authenticate(token.as_deref()).await {
                    Ok(_) | Err(AuthError::Store) => {}
                    Err(e) => {
                        let _ = tx.send(Err(Status::unauthenticated(format!("{e}; the stream ends")))).await;
                        return;
                    }
                },
                () = tx.closed() => return,
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// The caller of `request` if they hold `ability` on the district it names, and the
/// engine acting for them.
pub async fn admit<T: Scoped>(
    engine: &Engine,
    request: &Request<T>,
    ability: Ability,
) -> Result<(Caller, Engine), Status> {
    let caller = caller(engine, request).await?;
    require(&caller, ability)?;
    if let Some(raw) = request.get_ref().district() {
        reach(&caller, raw)?;
    }
    let acting = engine.acting_for(&caller);
    Ok((caller, acting))
}
