//! Sync runs: start, read, list, watch, plan, approve, cancel.

use std::time::Duration;

use engine::Engine;
use model::ids::RunId;
use model::run::{RunMode, RunState, RunTrigger};
use proto::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::district_id;
use crate::convert::runs::{
    change_to_proto, entity_from_proto, entity_to_proto, operation_from_proto, run_to_proto,
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
    let request_id = r.request_id.trim();
    if request_id.chars().count() > 128 {
        return Err(Status::invalid_argument(
            "request_id: is longer than 128 characters",
        ));
    }
    let run = if request_id.is_empty() {
        engine.start_sync(&district, mode, RunTrigger::Manual).await
    } else {
        engine
            .start_sync_once(&district, mode, RunTrigger::Manual, request_id)
            .await
    }
    .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

pub(super) async fn get(engine: &Engine, r: pb::GetSyncRunRequest) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let run = engine.get_run(&district, id).await.map_err(from_engine)?;
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
        .list_runs(&district, after, size + 1)
        .await
        .map_err(from_engine)?;
    let more = runs.len() as u64 > size;
    let shown: Vec<_> = runs.iter().take(size as usize).collect();
    Ok(pb::ListSyncRunsResponse {
        runs: shown.iter().map(|r| run_to_proto(r)).collect(),
        next_page_token: match (more, shown.last()) {
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
    let items = engine
        .list_run_changes(&district, id, entity, operation, after, size + 1)
        .await
        .map_err(from_engine)?;
    let more = items.len() as u64 > size;
    let shown: Vec<_> = items.iter().take(size as usize).collect();
    Ok(pb::ListRunChangesResponse {
        next_page_token: match (more, shown.last()) {
            (true, Some((seq, _))) => page::token(&request, &seq.to_string()),
            _ => String::new(),
        },
        changes: shown
            .iter()
            .map(|(seq, item)| change_to_proto(*seq, item))
            .collect(),
    })
}

pub(super) async fn approve(
    engine: &Engine,
    r: pb::ApproveSyncRunRequest,
) -> Result<pb::SyncRun, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let run = engine
        .approve_run(&district, id)
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
        .cancel_run(&district, id)
        .await
        .map_err(from_engine)?;
    Ok(run_to_proto(&run))
}

/// How often a watch looks at the run.
const WATCH_EVERY: Duration = Duration::from_millis(250);

pub(super) type WatchStream = ReceiverStream<Result<pb::SyncRun, Status>>;

/// Streams the run each time it changes, ending after it ends or pauses.
pub(super) async fn watch(
    engine: &Engine,
    r: pb::WatchSyncRunRequest,
) -> Result<WatchStream, Status> {
    let district = district_id(&r.district_id)?;
    let id = run_id(&r.run_id)?;
    let first = engine.get_run(&district, id).await.map_err(from_engine)?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let engine = engine.clone();
    tokio::spawn(async move {
        let mut last = first;
        if tx.send(Ok(run_to_proto(&last))).await.is_err() {
            return;
        }
        while !(last.state.is_final() || last.state == RunState::Paused) {
            tokio::time::sleep(WATCH_EVERY).await;
            let now = match engine.get_run(&district, id).await {
                Ok(run) => run,
                Err(e) => {
                    let _ = tx.send(Err(from_engine(e))).await;
                    return;
                }
            };
            if now != last {
                if tx.send(Ok(run_to_proto(&now))).await.is_err() {
                    return;
                }
                last = now;
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
    let out = engine
        .spot_sync(&district, who, r.dry_run)
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
