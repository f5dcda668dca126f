//! Telling districts when a run ends or is held (seed 003): the outbox's deliveries,
//! posted to each subscriber's webhook as signed JSON or mailed to its addresses
//! ([`crate::mail`]), in event order per subscriber, at least once, retried with backoff
//! for a day.
//!
//! A request carries `Rostersync-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256
//! under the subscriber's secret of `<t>.<body>` (as Stripe signs its webhooks): a
//! receiver recomputes it over the raw body, compares in constant time and refuses an old
//! `t`. `Rostersync-Delivery` names the event (`<district>:<seq>`), the same on every
//! attempt, so a receiver told twice (a replica died between the answer and recording
//! it) can tell. Requests go through the connectors' HTTP client and its outbound guard.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connector::http::{Body, HttpClient, Request};
use hmac::{Hmac, Mac};
use model::district::District;
use model::ids::DistrictId;
use model::notify::{RunEvent, Subscriber};
use store::notifications::{Delivery, Done};

use crate::{Engine, EngineError};

/// How long a delivery is tried before it is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a replica holds a delivery it is making.
const CLAIM: Duration = Duration::from_secs(60);
/// Deliveries made per look.
const BATCH: u64 = 50;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 8;
/// How long a subscriber has to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// What one attempt got: the webhook's HTTP status (250 for a message the SMTP server
/// took), or why it was not delivered, in words.
pub type Attempt = Result<u16, String>;

impl Engine {
    /// Telling districts' subscribers.
    pub fn notify(&self) -> Notify {
        Notify {
            store: self.store.clone(),
            http: self.http.clone(),
            client: self.webhooks.clone(),
            instance: self.instance.clone(),
            mailer: self.mailer.clone(),
        }
    }
}

/// Delivering notifications: it needs the store, how to talk HTTP (and the outbound
/// guard), how e-mail leaves, and the replica's name — nothing else of the engine.
#[derive(Debug, Clone)]
pub struct Notify {
    store: store::Store,
    http: Arc<connector::HttpConfig>,
    client: Arc<OnceLock<HttpClient>>,
    instance: Arc<str>,
    mailer: Option<Arc<crate::mail::Mailer>>,
}

/// When to try a failed delivery again: 5 s, doubling, at most 30 minutes apart.
fn backoff(attempts: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.min(12));
    Duration::from_secs(secs.min(30 * 60))
}

/// The signature header of `body` sent at `t` under `secret`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON a subscriber receives: the event's id and type, and the run's summary.
fn payload(district: &DistrictId, event: &RunEvent, test: bool) -> Vec<u8> {
    let kind = if test {
        "test".to_owned()
    } else {
        format!("run.{}", event.summary.outcome.as_str())
    };
    let body = serde_json::json!({
        "id": format!("{district}:{}", event.seq),
        "type": kind,
        "district_id": district.as_str(),
        "data": event.summary,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

impl Notify {
    fn client(&self) -> Result<&HttpClient, String> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let mut config = (*self.http).clone();
        config.retry.retries = 0;
        config.request_timeout = ANSWER_WITHIN;
        config.source = "webhook".into();
        let built = HttpClient::new(config).map_err(|e| e.to_string())?;
        Ok(self.client.get_or_init(|| built))
    }

    /// Posts `event` of `district` to `to`, signed; the status it answered, or why not.
    async fn post(
        &self,
        district: &DistrictId,
        to: &Subscriber,
        event: &RunEvent,
        test: bool,
    ) -> Attempt {
        let url = url::Url::parse(&to.webhook_url).map_err(|e| e.to_string())?;
        let secret = to.secret.as_ref().map(|s| s.expose()).unwrap_or_default();
        let body = payload(district, event, test);
        let signed = signature(secret, Utc::now().timestamp(), &body);
        let request = Request::post(
            url,
            Body::Bytes("application/json", bytes::Bytes::from(body)),
        )
        .header(
            connector::http::HeaderName::from_static("rostersync-signature"),
            &signed,
            true,
        )
        .header(
            connector::http::HeaderName::from_static("rostersync-delivery"),
            &format!("{district}:{}", event.seq),
            false,
        );
        match self.client()?.send(&request).await {
            Ok(answer) => Ok(answer.status.as_u16()),
            Err(e) => Err(model::limits::cut(&e.to_string(), 500)),
        }
    }

    /// Makes the deliveries due now (up to a batch, a few at a time); answers how many
    /// were delivered.
    pub async fn deliver_due(&self) -> Result<usize, EngineError> {
        use futures::StreamExt as _;
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(CLAIM).unwrap_or_default();
        let due = self
            .store
            .claim_due_deliveries(&self.instance, now, until, BATCH)
            .await?;
        let delivered = futures::stream::iter(due)
            .map(|d| async move { self.deliver(d).await })
            .buffer_unordered(IN_FLIGHT)
            .filter(|ok| std::future::ready(*ok))
            .count()
            .await;
        Ok(delivered)
    }

    /// One delivery, recorded; true when the subscriber took it.
    async fn deliver(&self, d: Delivery) -> bool {
        let district = match self.store.get_district(&d.district_id).await {
            Ok(district) => Some(district),
            Err(store::StoreError::NotFound { .. }) => None,
            Err(e) => {
                tracing::warn!(district = %d.district_id, error = %e, "cannot read a district to notify it");
                return false;
            }
        };
        let found = district.and_then(|x: District| {
            let to = x
                .settings
                .subscribers
                .iter()
                .find(|s| s.name == d.subscriber)
                .cloned()?;
            Some((x, to))
        });
        let Some((district, to)) = found else {
            self.record(
                &d,
                Some(Done::Dropped),
                "the subscriber is no longer the district's",
            )
            .await;
            return false;
        };
        match self.send(&district, &to, &d.event, false).await {
            Ok(status) => {
                tracing::info!(district = %d.district_id, subscriber = %d.subscriber, seq = d.event.seq, status, "notification delivered");
                self.record(&d, Some(Done::Delivered), "").await;
                true
            }
            Err(why) => {
                let age = Utc::now() - d.since;
                let over = age.to_std().map(|a| a >= GIVE_UP_AFTER).unwrap_or(false);
                tracing::warn!(district = %d.district_id, subscriber = %d.subscriber, seq = d.event.seq, attempts = d.attempts + 1, error = %why, "notification not delivered");
                self.record(&d, over.then_some(Done::GaveUp), &why).await;
                false
            }
        }
    }

    /// Tells `to` of `event` of `district` the way it listens: its webhook or its mail.
    async fn send(
        &self,
        district: &District,
        to: &Subscriber,
        event: &RunEvent,
        test: bool,
    ) -> Attempt {
        if to.emails.is_empty() {
            self.post(&district.id, to, event, test).await
        } else {
            self.mail(district, to, event, test).await
        }
    }

    /// Mails `event` to `to`'s addresses: seed 003's message for it.
    async fn mail(
        &self,
        district: &District,
        to: &Subscriber,
        event: &RunEvent,
        test: bool,
    ) -> Attempt {
        let Some(mailer) = &self.mailer else {
            return Err("this service sends no e-mail: its smtp_url is not configured".into());
        };
        let (subject, body) = crate::mail::message(district, event, test);
        mailer.send(&to.emails, &subject, body).await.map(|()| 250)
    }

    async fn record(&self, d: &Delivery, done: Option<Done>, error: &str) {
        let written = match done {
            Some(how) => self.store.delivery_done(d, how, error).await,
            None => {
                let next: DateTime<Utc> = Utc::now()
                    + chrono::Duration::from_std(backoff(d.attempts)).unwrap_or_default();
                self.store.delivery_failed(d, next, error).await
            }
        };
        if let Err(e) = written {
            // The claim lapses and the delivery is tried again: at least once.
            tracing::warn!(district = %d.district_id, error = %e, "cannot record a delivery");
        }
    }

    /// Sends a sample event to one of a district's subscribers now: the status it
    /// answered, or why it could not be told.
    pub async fn test(
        &self,
        district: &DistrictId,
        subscriber: &str,
    ) -> Result<Attempt, EngineError> {
        let d = self.store.get_district(district).await?;
        let Some(to) = d.settings.subscribers.iter().find(|s| s.name == subscriber) else {
            return Err(EngineError::NotFound {
                entity: "subscriber",
                id: model::limits::echo(subscriber),
            });
        };
        let sample = RunEvent {
            seq: 0,
            summary: model::notify::RunSummary {
                district_id: district.to_string(),
                run_id: "00000000-0000-0000-0000-000000000000".into(),
                trigger: model::run::RunTrigger::Manual,
                mode: model::run::RunMode::Full,
                outcome: model::notify::Outcome::Succeeded,
                counts: [("student.update".to_owned(), 1)].into_iter().collect(),
                plan_items: 1,
                applied: 1,
                excluded: 0,
                thresholds_tripped: vec![],
                warnings: 0,
                first_failure: None,
                at: Utc::now(),
            },
        };
        Ok(self.send(&d, to, &sample, true).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_stripes_scheme_over_the_raw_body() {
        // HMAC-SHA256("whsec_test_secret_1", "1700000000.{}"), by Python's hmac module.
        let s = signature("whsec_test_secret_1", 1_700_000_000, b"{}");
        assert_eq!(
            s,
            "t=1700000000,v1=3cc6d220bd6d001d0f1931d315cb1765435a39bb810cde4e05e23a2b6d71a945"
        );
        assert_ne!(s, signature("whsec_test_secret_2", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("whsec_test_secret_1", 1_700_000_001, b"{}"));
    }

    #[test]
    fn retries_back_off_to_half_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(5));
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(20), Duration::from_secs(1800));
    }
}
