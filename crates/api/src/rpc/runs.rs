//! Sync runs: start, read, list, watch, plan, approve, cancel.

use std::time::Duration;

use engine::Engine;
use model::ids::RunId;
use model::run::{RunMode, RunTrigger};
use proto::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::district_id;
use crate::convert::runs::{
    change_to_proto, entity_from_proto, entity_to_proto, entry_to_proto, feed_change_to_proto,
    operation_from_proto, run_to_proto,
};
use crate::page;
use crate::status::{from_engine, invalid_field};

fn run_id(raw: &str) -> Result<RunId, Status> {
    if raw.trim().is_empty() {
        return Err(Status::invalid_argument("run_id: is required"));
    }
    raw.trim().parse().map_err(invalid_field)
}

pub(super) async fn start(engine: &Engine, r: pb::StartSyncRequest) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let mode = if r.dry_run {
        RunMode::DryRun
    } else {
        RunMode::Full
    };
    let run = match super::districts::request_id(&r.request_id)? {
        None => {
            engine
                .runs()
                .start_sync(&district, mode, RunTrigger::Manual)
                .await
        }
        Some(request_id) => {
            engine
                .runs()
                .start_sync_once(&district, mode, RunTrigger::Manual, request_id)
                .await
        }
    }
    .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

/// `ImportGuardians`: the pieces written to the upload as they arrive (refused as soon
/// as the file passes the size an import takes: memory holds one piece), then the file
/// imported as a run.
pub(super) async fn import(
    engine: &Engine,
    caller: &model::access::Caller,
    mut pieces: tonic::Streaming<pb::ImportGuardiansRequest>,
) -> Result<pb::SyncRun, Status> {
    let Some(first) = pieces.message().await.map_err(crate::status::framing)? else {
        return Err(Status::invalid_argument(
            "district_id: is required (the first piece names the district)",
        ));
    };
    crate::access::reach(caller, &first.district_id)?;
    let district = district_id(&first.district_id)?;
    let request_id = super::districts::request_id(&first.request_id)?.map(str::to_owned);
    let name = match first.file_name.trim() {
        "" => "guardians.csv".to_owned(),
        n => n.chars().take(200).collect(),
    };
    let mode = if first.dry_run {
        RunMode::DryRun
    } else {
        RunMode::Full
    };
    let upload_error = |e| from_engine(engine::EngineError::Upload(e));
    let mut upload = engine::import::UploadWriter::new().map_err(upload_error)?;
    upload.write(&first.data).map_err(upload_error)?;
    while let Some(piece) = pieces.message().await.map_err(crate::status::framing)? {
        if !piece.district_id.is_empty() && piece.district_id != first.district_id {
            return Err(Status::invalid_argument(
                "district_id: every piece of one upload names the same district",
            ));
        }
        upload.write(&piece.data).map_err(upload_error)?;
    }
    let upload = upload.finish().map_err(upload_error)?;
    let run = engine
        .runs()
        .import_guardians(&district, &name, upload, mode, request_id.as_deref())
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

pub(super) async fn get(engine: &Engine, r: pb::GetSyncRunRequest) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let run = engine
        .runs()
        .get_run(&district, id)
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

/// A run's place in the newest-first list: its creation time and id.
fn run_key(run: &model::run::SyncRun) -> String {
    format!(
        "{}|{}",
        run.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        run.id
    )
}

fn parse_run_key(key: &str) -> Result<(chrono::DateTime<chrono::Utc>, RunId), Status> {
    let bad = || Status::invalid_argument("page_token: is not a token this server gave");
    let (at, id) = key.split_once('|').ok_or_else(bad)?;
    let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    Ok((
        at.with_timezone(&chrono::Utc),
        id.parse().map_err(|_| bad())?,
    ))
}

pub(super) async fn list(
    engine: &Engine,
    r: pb::ListSyncRunsRequest,
) -> Result<pb::ListSyncRunsResponse, Status> {
    let district = district_id(&r.district_id)?;
    let size = page::size(r.page_size, 50, 500)?;
    let request = format!("runs/{district}");
    let after = page::after(&r.page_token, &request)?
        .map(|k| parse_run_key(&k))
        .transpose()?;
    let runs = engine
        .runs()
        .list_runs(&district, after, size + 1)
        .await
        .map_err(from_engine)?;
    let mut shown: Vec<pb::SyncRun> = runs.iter().map(run_to_proto).collect();
    let (n, more) = page::fit(&shown, size);
    shown.truncate(n);
    Ok(pb::ListSyncRunsResponse {
        runs: shown,
        next_page_token: match (more, n.checked_sub(1).and_then(|i| runs.get(i))) {
            (true, Some(last)) => page::token(&request, &run_key(last)),
            _ => String::new(),
        },
    })
}

pub(super) async fn changes(
    engine: &Engine,
    r: pb::ListRunChangesRequest,
) -> Result<pb::ListRunChangesResponse, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let entity = pb::Entity::try_from(r.entity)
        .map(entity_from_proto)
        .map_err(|_| Status::invalid_argument(format!("entity: {} is not an Entity", r.entity)))?;
    let operation = pb::Operation::try_from(r.operation)
        .map(operation_from_proto)
        .map_err(|_| {
            Status::invalid_argument(format!("operation: {} is not an Operation", r.operation))
        })?;
    let size = page::size(r.page_size, 100, 1000)?;
    let request = format!(
        "changes/{district}/{id}/{}/{}",
        entity.map_or("", |e| e.as_str()),
        operation.map_or("", |o| o.as_str())
    );
    let after = page::after(&r.page_token, &request)?
        .map(|k| {
            k.parse::<u64>().map_err(|_| {
                Status::invalid_argument("page_token: is not a token this server gave")
            })
        })
        .transpose()?;
    let (run, items) = engine
        .runs()
        .list_run_changes(&district, id, entity, operation, after, size + 1)
        .await
        .map_err(from_engine)?;
    let mut shown: Vec<pb::RunChange> = items.iter().map(|e| entry_to_proto(e, &run)).collect();
    let (n, more) = page::fit(&shown, size);
    shown.truncate(n);
    Ok(pb::ListRunChangesResponse {
        next_page_token: match (more, n.checked_sub(1).and_then(|i| items.get(i))) {
            (true, Some(e)) => page::token(&request, &e.seq.to_string()),
            _ => String::new(),
        },
        changes: shown,
    })
}

pub(super) async fn approve(
    engine: &Engine,
    r: pb::ApproveSyncRunRequest,
) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let exclusions = super::review::exclusions(r.exclusions)?;
    let run = engine
        .runs()
        .approve_run(&district, id, exclusions)
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

pub(super) async fn revert(
    engine: &Engine,
    r: pb::RevertSyncRunRequest,
) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let mode = if r.dry_run {
        RunMode::DryRun
    } else {
        RunMode::Full
    };
    let run = engine
        .runs()
        .start_revert(&district, id, mode, r.force)
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

pub(super) async fn cancel(
    engine: &Engine,
    r: pb::CancelSyncRunRequest,
) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let run = engine
        .runs()
        .cancel_run(&district, id)
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

pub(super) type WatchStream = ReceiverStream<Result<pb::SyncRun, Status>>;

/// Streams the run each time it changes, ending after it ends or pauses.
pub(super) async fn watch(
    engine: &Engine,
    r: pb::WatchSyncRunRequest,
) -> Result<WatchStream, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let mut readings = engine
        .watches()
        .watch_run(&district, id)
        .await
        .map_err(from_engine)?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        loop {
            let reading = readings.borrow_and_update().clone();
            let settled = match reading {
                Ok(run) => {
                    let settled = engine::watch::settled(&run);
                    if tx.send(Ok(run_to_proto(&run))).await.is_err() {
                        return;
                    }
                    settled
                }
                Err(e) => {
                    let _ = tx.send(Err(shared_error(&e))).await;
                    return;
                }
            };
            if settled {
                return;
            }
            tokio::select! {
                changed = readings.changed() => if changed.is_err() { return },
                // The caller left: stop watching, so the run's poll can stop.
                () = tx.closed() => return,
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

/// A watcher's copy of an engine error.
fn shared_error(e: &engine::EngineError) -> Status {
    match e {
        engine::EngineError::NotFound { entity, id } => {
            Status::not_found(format!("{entity} {id} not found"))
        }
        other => Status::unavailable(other.to_string()),
    }
}

/// How long a caught-up change feed waits before looking for more.
const FEED_POLL: Duration = Duration::from_millis(500);
const FEED_BATCH: u64 = 500;

pub(super) type ChangeStream = ReceiverStream<Result<pb::Change, Status>>;

fn feed_request(district: &model::ids::DistrictId) -> String {
    format!("feed/{district}")
}

/// The feed place a cursor names (0: before the first change).
fn feed_after(district: &model::ids::DistrictId, cursor: &str) -> Result<u64, Status> {
    match page::after_named(cursor.trim(), &feed_request(district), "after")? {
        None => Ok(0),
        Some(key) => key
            .parse()
            .map_err(|_| Status::invalid_argument("after: is not a cursor this server gave")),
    }
}

fn feed_entry(district: &model::ids::DistrictId, e: &store::change_log::FeedEntry) -> pb::Change {
    feed_change_to_proto(
        &e.record,
        page::token(&feed_request(district), &e.position.to_string()),
    )
}

pub(super) async fn list_feed(
    engine: &Engine,
    r: pb::ListChangesRequest,
) -> Result<pb::ListChangesResponse, Status> {
    let district = district_id(&r.district_id)?;
    let after = feed_after(&district, &r.after)?;
    let size = page::size(r.page_size, 500, 5000)?;
    engine
        .districts()
        .get_district(&district)
        .await
        .map_err(from_engine)?;
    let entries = engine
        .store()
        .change_feed(&district, after, size)
        .await
        .map_err(crate::status::from_store)?;
    let mut changes: Vec<pb::Change> = entries.iter().map(|e| feed_entry(&district, e)).collect();
    let (n, _) = page::fit(&changes, size);
    changes.truncate(n);
    let next_cursor = match changes.last() {
        Some(last) => last.cursor.clone(),
        None => page::token(&feed_request(&district), &after.to_string()),
    };
    Ok(pb::ListChangesResponse {
        changes,
        next_cursor,
    })
}

pub(super) async fn watch_feed(
    engine: &Engine,
    r: pb::WatchChangesRequest,
) -> Result<ChangeStream, Status> {
    let district = district_id(&r.district_id)?;
    if r.from_now && !r.after.trim().is_empty() {
        return Err(Status::invalid_argument(
            "after: give a cursor or from_now, not both",
        ));
    }
    let mut after = feed_after(&district, &r.after)?;
    engine
        .districts()
        .get_district(&district)
        .await
        .map_err(from_engine)?;
    if r.from_now {
        after = engine
            .store()
            .change_feed_head(&district)
            .await
            .map_err(crate::status::from_store)?;
    }
    let store = engine.store().clone();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let entries = match store.change_feed(&district, after, FEED_BATCH).await {
                Ok(entries) => entries,
                Err(e) => {
                    let _ = tx.send(Err(crate::status::from_store(e))).await;
                    return;
                }
            };
            if entries.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(FEED_POLL) => continue,
                    () = tx.closed() => return,
                }
            }
            for e in &entries {
                if tx.send(Ok(feed_entry(&district, e))).await.is_err() {
                    return;
                }
                after = e.position;
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

pub(super) async fn spot_sync(
    engine: &Engine,
    r: pb::SpotSyncRequest,
) -> Result<pb::SpotSyncResponse, Status> {
    let district = district_id(&r.district_id)?;
    let required = |field: &str, raw: &str| {
        if raw.trim().is_empty() {
            return Err(Status::invalid_argument(format!("{field}: is required")));
        }
        Ok(())
    };
    let who = match r.user {
        Some(pb::spot_sync_request::User::StudentId(raw)) => {
            required("student_id", &raw)?;
            engine::SpotUser::Student(raw.trim().parse().map_err(invalid_field)?)
        }
        Some(pb::spot_sync_request::User::GuardianId(raw)) => {
            required("guardian_id", &raw)?;
            engine::SpotUser::Guardian(raw.trim().parse().map_err(invalid_field)?)
        }
        None => {
            return Err(Status::invalid_argument(
                "student_id: give the student_id or the guardian_id of the user",
            ))
        }
    };
    let request = super::districts::request_id(&r.request_id)?;
    let out = engine
        .spot()
        .spot_sync_once(&district, who, r.dry_run, request)
        .await
        .map_err(from_engine)?;
    Ok(pb::SpotSyncResponse {
        spot_sync_id: out.id.to_string(),
        user_kind: entity_to_proto(out.user_kind) as i32,
        dry_run: out.dry_run,
        changes: out
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| change_to_proto(i as u64, item))
            .collect(),
    })
}
