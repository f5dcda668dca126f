//! The nightly run (seed 001): "The nightly sync generally runs from 0:00 MST until it is
//! complete … If there is a failure, it will not attempt to run again until the next day."
//!
//! Each district with daily sync on gets one scheduled run per night, started at the first
//! tick after 00:00 in its own time zone. A night whose midnight does not exist (a DST
//! change at midnight) starts at the first moment of the day that does. A service that was
//! down at midnight catches up within the night's window; a run that failed is not tried
//! again until the next midnight.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use model::run::{RunMode, RunTrigger};

use crate::EngineError;

/// How long after midnight a missed nightly run is still started.
pub const CATCH_UP: Duration = Duration::hours(6);

/// The start of the local day containing `now` in `tz`, as UTC.
pub fn last_midnight(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let local_date = now.with_timezone(&tz).date_naive();
    let mut at = local_date.and_time(NaiveTime::MIN);
    // A midnight skipped by a DST change: the day starts at the first local time that exists.
    for _ in 0..4 {
        match tz.from_local_datetime(&at) {
            chrono::LocalResult::Single(t) => return t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            chrono::LocalResult::None => at += Duration::minutes(30),
        }
    }
    now
}

/// Whether tonight's run of a district is due: daily sync on, within the catch-up window
/// after its midnight, and no scheduled run started since that midnight.
pub fn nightly_due(
    enabled: bool,
    tz: Tz,
    now: DateTime<Utc>,
    last_scheduled: Option<DateTime<Utc>>,
) -> bool {
    if !enabled {
        return false;
    }
    let midnight = last_midnight(tz, now);
    now - midnight < CATCH_UP && last_scheduled.is_none_or(|t| t < midnight)
}

impl crate::Engine {
    /// Starts tonight's run of every district whose nightly run is due.
    pub async fn start_due_nightly_runs(&self) -> Result<usize, EngineError> {
        let now = crate::now();
        let mut started = 0;
        let mut after = None;
        loop {
            let page = self.store.list_districts(after.as_ref(), 100).await?;
            for d in &page.districts {
                if !d.settings.daily_sync_enabled {
                    continue;
                }
                let last = self
                    .store
                    .list_runs(&d.id, None, 50)
                    .await?
                    .into_iter()
                    .find(|r| r.trigger == RunTrigger::Schedule)
                    .map(|r| r.created_at);
                if !nightly_due(true, d.time_zone, now, last) {
                    continue;
                }
                match self
                    .acting_for(&model::access::Caller::service("schedule"))
                    .start_sync(&d.id, RunMode::Full, RunTrigger::Schedule)
                    .await
                {
                    Ok(run) => {
                        tracing::info!(district = %d.id, run = %run.id, "nightly run started");
                        started += 1;
                    }
                    Err(EngineError::Precondition { message: why, .. }) => {
                        tracing::info!(district = %d.id, "nightly run not started: {why}")
                    }
                    Err(e) => {
                        tracing::warn!(district = %d.id, error = %e, "nightly run could not start")
                    }
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(started),
            }
        }
    }

    /// The service's background work until `shutdown`: resume interrupted runs at once,
    /// then keep taking over lapsed runs and starting nightly runs.
    pub async fn background(self, shutdown: impl std::future::Future<Output = ()>) {
        let tick = (self.lease / 3).clamp(
            std::time::Duration::from_millis(200),
            std::time::Duration::from_secs(30),
        );
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.resume_interrupted().await {
                tracing::warn!(error = %e, "cannot look for interrupted runs");
            }
            if let Err(e) = self.start_due_nightly_runs().await {
                tracing::warn!(error = %e, "cannot start nightly runs");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn midnight_is_local_and_dst_correct() {
        let edmonton: Tz = "America/Edmonton".parse().expect("tz");
        // Winter: UTC−7.
        assert_eq!(
            last_midnight(edmonton, utc("2026-01-15T10:00:00Z")),
            utc("2026-01-15T07:00:00Z")
        );
        // Summer: UTC−6.
        assert_eq!(
            last_midnight(edmonton, utc("2026-07-15T10:00:00Z")),
            utc("2026-07-15T06:00:00Z")
        );
        // The night DST starts (8 March 2026, 02:00 → 03:00) midnight is still UTC−7.
        assert_eq!(
            last_midnight(edmonton, utc("2026-03-08T12:00:00Z")),
            utc("2026-03-08T07:00:00Z")
        );
        // Before local midnight it is still the previous day there.
        assert_eq!(
            last_midnight(edmonton, utc("2026-01-15T05:00:00Z")),
            utc("2026-01-14T07:00:00Z")
        );
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_existing_time() {
        // Asia/Beirut moves 00:00 → 01:00 on the last Sunday of March.
        let beirut: Tz = "Asia/Beirut".parse().expect("tz");
        let day = last_midnight(beirut, utc("2026-03-29T12:00:00Z"));
        assert_eq!(
            day.with_timezone(&beirut).format("%H:%M").to_string(),
            "01:00"
        );
    }

    #[test]
    fn one_run_per_night_and_none_after_a_failure_until_the_next() {
        let tz: Tz = "America/Edmonton".parse().expect("tz");
        let just_after = utc("2026-01-15T07:00:30Z");
        assert!(nightly_due(true, tz, just_after, None));
        assert!(!nightly_due(false, tz, just_after, None), "daily sync off");
        assert!(
            nightly_due(true, tz, just_after, Some(utc("2026-01-14T07:00:10Z"))),
            "yesterday's run does not count"
        );
        let failed_tonight = Some(utc("2026-01-15T07:00:10Z"));
        assert!(
            !nightly_due(true, tz, utc("2026-01-15T09:00:00Z"), failed_tonight),
            "no retry tonight"
        );
        assert!(
            nightly_due(true, tz, utc("2026-01-16T07:00:05Z"), failed_tonight),
            "the next night"
        );
        assert!(
            !nightly_due(true, tz, utc("2026-01-15T20:00:00Z"), None),
            "past the catch-up window"
        );
    }
}
