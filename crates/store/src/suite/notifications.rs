//! The notification outbox: a delivery per event and subscriber, written with the event,
//! tried in order per subscriber, held by one replica at a time.

use chrono::{Duration, Utc};
use model::ids::DistrictId;
use model::notify::Subscriber;
use model::run::RunState;
use model::Secret;

use super::runs::{at, run};
use super::{district, store_with_district};
use crate::notifications::Done;
use crate::{Backend, Store};

crate::on_both_backends!(
    deliveries_are_written_with_their_event_and_tried_in_order_by_one_replica,
    old_events_go_once_every_subscriber_was_told,
);

/// Gives the district one webhook subscriber, `ops`.
async fn subscribe(store: &Store, cbe: &DistrictId) {
    let mut d = district(cbe.as_str());
    d.settings.subscribers = vec![Subscriber {
        name: "ops".into(),
        webhook_url: "https://hooks.example.org/rs".into(),
        emails: vec![],
        secret: Some(Secret::new("0123456789abcdef-secret")),
    }];
    d.revision = store.get_district(cbe).await.expect("read").revision;
    store.update_district(&d).await.expect("subscribe");
}

async fn old_events_go_once_every_subscriber_was_told(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let untold = end_a_run(&store, &cbe).await;
    subscribe(&store, &cbe).await;
    let told = end_a_run(&store, &cbe).await;
    assert_eq!(
        store
            .prune_run_events(Utc::now() - Duration::days(30))
            .await
            .expect("prune"),
        0,
        "nothing is a month old"
    );
    // Both are older than a moment from now: the one nobody was to be told of goes; the
    // one still to deliver stays.
    let soon = Utc::now() + Duration::seconds(5);
    assert_eq!(store.prune_run_events(soon).await.expect("prune"), 1);
    let kept = store.run_events_after(0, None, 10).await.expect("events");
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [told]);
    assert!(untold < told);

    let now = Utc::now();
    let due = store
        .claim_due_deliveries("a", now, now + Duration::seconds(60), 10)
        .await
        .expect("claim");
    store
        .delivery_done(&due[0], Done::Delivered, "")
        .await
        .expect("done");
    assert_eq!(store.prune_run_events(soon).await.expect("prune"), 1);
    assert!(store
        .run_events_after(0, None, 10)
        .await
        .expect("events")
        .is_empty());
    assert!(store
        .deliveries_of(&cbe, "ops")
        .await
        .expect("states")
        .is_empty());
    // The numbering goes on.
    assert_eq!(end_a_run(&store, &cbe).await, told + 1);
}

async fn end_a_run(store: &Store, d: &DistrictId) -> u64 {
    let mut r = run(d, at(1, 0));
    r.state = RunState::Running;
    store.create_run(&r).await.expect("create");
    r.state = RunState::Succeeded;
    store
        .update_run(&r, &[RunState::Running])
        .await
        .expect("end");
    store.run_events_head().await.expect("head")
}

async fn deliveries_are_written_with_their_event_and_tried_in_order_by_one_replica(
    backend: Backend,
) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    // Before any subscriber: an event, and nothing to deliver.
    end_a_run(&store, &cbe).await;
    let now = Utc::now();
    let later = now + Duration::seconds(60);
    assert!(store
        .claim_due_deliveries("a", now, later, 10)
        .await
        .expect("claim")
        .is_empty());

    let mut d = district("cbe");
    d.settings.subscribers = vec![Subscriber {
        name: "ops".into(),
        webhook_url: "https://hooks.example.org/rs".into(),
        emails: vec![],
        secret: Some(Secret::new("0123456789abcdef-secret")),
    }];
    let current = store.get_district(&cbe).await.expect("read");
    d.revision = current.revision;
    let stored = store.update_district(&d).await.expect("subscribe");
    // The secret is kept, sealed with the connector's, never in the settings' column.
    assert_eq!(
        stored.settings.subscribers[0]
            .secret
            .as_ref()
            .map(|s| s.expose().to_owned()),
        Some("0123456789abcdef-secret".into())
    );
    use sea_orm::ConnectionTrait;
    let row = store
        .db()
        .query_one(sea_orm::Statement::from_string(
            store.db().get_database_backend(),
            "SELECT settings FROM districts WHERE id = 'cbe'",
        ))
        .await
        .expect("read")
        .expect("a row");
    let settings: String = row.try_get_by_index(0).expect("settings");
    assert!(settings.contains("hooks.example.org"), "{settings}");
    assert!(!settings.contains("0123456789abcdef-secret"), "{settings}");
    let first = end_a_run(&store, &cbe).await;
    let second = end_a_run(&store, &cbe).await;

    // Only the oldest is due; another replica cannot take what one holds.
    let now = Utc::now();
    let later = now + Duration::seconds(60);
    let got = store
        .claim_due_deliveries("a", now, later, 10)
        .await
        .expect("claim");
    assert_eq!(got.iter().map(|d| d.event.seq).collect::<Vec<_>>(), [first]);
    assert_eq!(got[0].subscriber, "ops");
    assert!(store
        .claim_due_deliveries("b", now, later, 10)
        .await
        .expect("claim")
        .is_empty());
    // The same replica, restarted, takes its own claim back.
    assert_eq!(
        store
            .claim_due_deliveries("a", now, later, 10)
            .await
            .expect("again")
            .len(),
        1
    );

    // A failed attempt keeps the order: the second waits behind the first.
    store
        .delivery_failed(
            &got[0],
            now + Duration::seconds(30),
            "503 Service Unavailable",
        )
        .await
        .expect("failed");
    assert!(store
        .claim_due_deliveries("b", now, later, 10)
        .await
        .expect("claim")
        .is_empty());
    let retry_at = now + Duration::seconds(31);
    let again = store
        .claim_due_deliveries("b", retry_at, retry_at + Duration::seconds(60), 10)
        .await
        .expect("claim");
    assert_eq!((again[0].event.seq, again[0].attempts), (first, 1));
    store
        .delivery_done(&again[0], Done::Delivered, "")
        .await
        .expect("done");
    let next = store
        .claim_due_deliveries("b", retry_at, retry_at + Duration::seconds(60), 10)
        .await
        .expect("claim");
    assert_eq!(
        next.iter().map(|d| d.event.seq).collect::<Vec<_>>(),
        [second]
    );
    let states = store.deliveries_of(&cbe, "ops").await.expect("states");
    assert_eq!(
        states
            .iter()
            .map(|s| (s.seq, s.attempts, s.outcome.as_str(), s.last_error.as_str()))
            .collect::<Vec<_>>(),
        [(first, 2, "delivered", ""), (second, 0, "pending", "")]
    );
}
