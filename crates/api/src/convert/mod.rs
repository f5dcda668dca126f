//! Proto ↔ model conversions. Messages are destructured completely, so a field added to
//! the proto cannot be silently ignored; errors name the field path.

pub mod districts;
pub mod roster;
pub mod runs;
pub mod settings;

use chrono::{DateTime, Utc};

/// A time as `google.protobuf.Timestamp`.
pub fn time(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    })
}
