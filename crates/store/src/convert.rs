//! Reading stored text back into model types, with errors that name the record.

use std::str::FromStr;

use crate::error::StoreError;

/// Parses a stored id or enum, or reports the stored record as corrupt.
pub(crate) fn parse<T: FromStr>(
    entity: &'static str,
    id: &str,
    field: &'static str,
    raw: &str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    raw.parse::<T>()
        .map_err(|e| StoreError::corrupt(entity, id, field, e))
}

/// Reads a stored JSON column, or reports the stored record as corrupt.
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    entity: &'static str,
    id: &str,
    field: &'static str,
    raw: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::corrupt(entity, id, field, e))
}

/// Writes a JSON column. Serializing our own types to a string cannot fail.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Reads a stored closed enum by its name.
pub(crate) fn named<T>(
    entity: &'static str,
    id: &str,
    field: &'static str,
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(raw)
        .ok_or_else(|| StoreError::corrupt(entity, id, field, format!("unknown value {raw:?}")))
}

/// The name serde gives a unit enum variant (`dry_run`): how enum columns are written.
pub(crate) fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        // Only unit variants are stored this way; anything else is kept readable.
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Reads an enum column written by [`name_of`], or reports the stored record as corrupt.
pub(crate) fn from_name<T: serde::de::DeserializeOwned>(
    entity: &'static str,
    id: &str,
    field: &'static str,
    raw: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| StoreError::corrupt(entity, id, field, format!("unknown value {raw:?}")))
}

/// `at` at the precision both databases keep (microseconds): what a stored time reads
/// back as, on either backend.
pub(crate) fn stored(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
}

/// The current time at the precision both databases keep (microseconds), so a stored
/// time reads back equal to the one written.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    stored(chrono::Utc::now())
}

/// The record a lookup found, read into the model, or `NotFound` naming what was asked.
pub(crate) fn found<M, T>(
    row: Option<M>,
    entity: &'static str,
    id: impl FnOnce() -> String,
    read: impl FnOnce(M) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match row {
        Some(m) => read(m),
        None => Err(StoreError::NotFound { entity, id: id() }),
    }
}
