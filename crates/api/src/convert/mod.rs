//! Proto ↔ model conversions. Messages are destructured completely, so a field added to
//! the proto cannot be silently ignored; errors name the field path.

pub mod districts;
pub mod roster;
pub mod runs;

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 with microseconds, UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}
