//! The nightly run's clock (seed 001): "The nightly sync generally runs from 0:00 MST until
//! it is complete … If there is a failure, it will not attempt to run again until the next
//! day."
//!
//! Each district with daily sync on gets one scheduled run per night, due from the start
//! of its local day. A night whose midnight does not exist (a DST change at midnight)
//! starts at the first moment of the day that does. A service that was down at midnight
//! catches up within [`CATCH_UP`] of it; a run that failed is not tried again until the
//! next night.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::district::District;

/// How long after midnight a missed nightly run is still started.
pub const CATCH_UP: Duration = Duration::hours(6);

/// The start of the local day `date` in `tz`, as UTC: its midnight, or the first local
/// time that exists that day when a DST change skips midnight.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut at = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        match tz.from_local_datetime(&at) {
            chrono::LocalResult::Single(t) => return t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            chrono::LocalResult::None => at += Duration::minutes(30),
        }
    }
    // No zone skips two hours at midnight; should one, the day starts at its UTC midnight.
    date.and_time(NaiveTime::MIN).and_utc()
}

/// The start of the local day containing `now` in `tz`, as UTC.
pub fn last_midnight(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    start_of_day(tz, now.with_timezone(&tz).date_naive())
}

/// The start of the local day after the one containing `now` in `tz`, as UTC.
pub fn next_midnight(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    start_of_day(tz, today.succ_opt().unwrap_or(today))
}

/// The local date of the night whose run is due at `now`, as `YYYY-MM-DD`: what makes a
/// night's run one of a kind.
pub fn night_of(tz: Tz, now: DateTime<Utc>) -> String {
    now.with_timezone(&tz).date_naive().to_string()
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

/// From when a district's next nightly run is to be looked at, as of `now`: the start of
/// its local day (tonight's run may still be due), or never when daily sync is off. The
/// store keeps it beside the district so finding the districts due is one indexed query.
pub fn nightly_from(district: &District, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    district
        .settings
        .daily_sync_enabled
        .then(|| last_midnight(district.time_zone, now))
}

/// Whether an update from `before` to `after` moves the nightly clock (daily sync turned
/// on or off, or another time zone).
pub fn nightly_moved(before: &District, after: &District) -> bool {
    before.settings.daily_sync_enabled != after.settings.daily_sync_enabled
        || before.time_zone != after.time_zone
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
        assert_eq!(
            night_of(edmonton, utc("2026-01-15T05:00:00Z")),
            "2026-01-14"
        );
    }

    #[test]
    fn the_next_midnight_is_the_next_local_day_across_dst() {
        let edmonton: Tz = "America/Edmonton".parse().expect("tz");
        // The day before DST starts: the next day's midnight is still UTC−7.
        assert_eq!(
            next_midnight(edmonton, utc("2026-03-07T12:00:00Z")),
            utc("2026-03-08T07:00:00Z")
        );
        // The day DST starts: the next midnight is UTC−6, 23 hours later.
        assert_eq!(
            next_midnight(edmonton, utc("2026-03-08T12:00:00Z")),
            utc("2026-03-09T06:00:00Z")
        );
        // Just before local midnight: the next midnight is minutes away.
        assert_eq!(
            next_midnight(edmonton, utc("2026-01-15T06:59:00Z")),
            utc("2026-01-15T07:00:00Z")
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
