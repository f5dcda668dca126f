//! WatchRunEvents: runs that ended or were held, across the districts a caller's key
//! reaches, in commit order, from a resumable cursor.

use std::time::Duration;

use model::access::{Caller, Districts};
use model::ids::DistrictId;
use model::notify::{Outcome, RunEvent};
use proto::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::convert::runs::{mode_to_proto, trigger_to_proto, trip_to_proto};
use crate::convert::time;
use crate::page;
use engine::Engine;

/// How often a watcher with nothing new looks again.
const EVENTS_POLL: Duration = Duration::from_millis(250);
/// Events read per look.
const EVENTS_BATCH: u64 = 200;

pub(super) type EventStream = ReceiverStream<Result<pb::RunEvent, Status>>;

/// What a cursor is tied to: the stream, not a district (a key's districts can change).
const CURSOR_OF: &str = "run-events";

fn cursor(seq: u64) -> String {
    page::token(CURSOR_OF, &seq.to_string())
}

fn after_of(raw: &str) -> Result<u64, Status> {
    match page::after_named(raw.trim(), CURSOR_OF, "after")? {
        None => Ok(0),
        Some(key) => key
            .parse()
            .map_err(|_| Status::invalid_argument("after: is not a cursor this server gave")),
    }
}

pub(super) fn event_to_proto(e: &RunEvent) -> pb::RunEvent {
    let s = &e.summary;
    pb::RunEvent {
        cursor: cursor(e.seq),
        district_id: s.district_id.clone(),
        run_id: s.run_id.clone(),
        trigger: trigger_to_proto(s.trigger) as i32,
        mode: mode_to_proto(s.mode) as i32,
        outcome: match s.outcome {
            Outcome::Succeeded => pb::RunOutcome::Succeeded,
            Outcome::Failed => pb::RunOutcome::Failed,
            Outcome::Cancelled => pb::RunOutcome::Cancelled,
            Outcome::Held => pb::RunOutcome::Held,
        } as i32,
        planned: s.counts.clone(),
        plan_items: s.plan_items,
        applied: s.applied,
        excluded: s.excluded,
        trips: s.thresholds_tripped.iter().map(trip_to_proto).collect(),
        warning_count: s.warnings,
        first_failure: s.first_failure.clone().unwrap_or_default(),
        time: time(s.at),
    }
}

pub(super) async fn watch(
    engine: &Engine,
    caller: &Caller,
    r: pb::WatchRunEventsRequest,
) -> Result<EventStream, Status> {
    if r.from_now && !r.after.trim().is_empty() {
        return Err(Status::invalid_argument(
            "after: give a cursor or from_now, not both",
        ));
    }
    let mut after = after_of(&r.after)?;
    let store = engine.store().clone();
    if r.from_now {
        after = store
            .run_events_head()
            .await
            .map_err(crate::status::from_store)?;
    }
    let districts: Option<Vec<DistrictId>> = match &caller.scope.districts {
        Districts::All => None,
        Districts::Only(ids) => Some(ids.iter().cloned().collect()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let events = match store
                .run_events_after(after, districts.as_deref(), EVENTS_BATCH)
                .await
            {
                Ok(events) => events,
                Err(e) => {
                    let _ = tx.send(Err(crate::status::from_store(e))).await;
                    return;
                }
            };
            if events.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(EVENTS_POLL) => continue,
                    () = tx.closed() => return,
                }
            }
            for e in &events {
                if tx.send(Ok(event_to_proto(e))).await.is_err() {
                    return;
                }
                after = e.seq;
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

pub(super) async fn test(
    engine: &Engine,
    r: pb::TestNotificationRequest,
) -> Result<pb::TestNotificationResponse, Status> {
    let district = super::district_id(&r.district_id)?;
    let name = r.subscriber.trim();
    if name.is_empty() {
        return Err(Status::invalid_argument("subscriber: is required"));
    }
    model::limits::text("subscriber", name, 40).map_err(crate::status::invalid_field)?;
    let answer = engine
        .notify()
        .test(&district, name)
        .await
        .map_err(crate::status::from_engine)?;
    Ok(match answer {
        Ok(status) => pb::TestNotificationResponse {
            delivered: true,
            http_status: u32::from(status),
            error: String::new(),
        },
        Err(why) => pb::TestNotificationResponse {
            delivered: false,
            http_status: 0,
            error: why,
        },
    })
}
