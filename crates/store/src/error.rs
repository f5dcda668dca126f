//! The store's error: names the entity and id it is about.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    /// A conditional update found the record in another state than the one it required:
    /// someone else changed it first.
    #[error("{entity} {id} is {found}")]
    StateChanged {
        entity: &'static str,
        id: String,
        found: String,
    },
    /// A conditional update named a revision the record has moved on from.
    #[error("{entity} {id} changed since revision {expected} (it is at {found})")]
    Stale {
        entity: &'static str,
        id: String,
        expected: u64,
        found: u64,
    },
    #[error("stored {entity} {id} has an unreadable {field}: {reason}")]
    Corrupt {
        entity: &'static str,
        id: String,
        field: &'static str,
        reason: String,
    },
    #[error("database urls must start with sqlite: or postgres://, not {scheme}:")]
    UnsupportedUrl { scheme: String },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sea_orm::DbErr),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl StoreError {
    pub(crate) fn corrupt(
        entity: &'static str,
        id: impl Into<String>,
        field: &'static str,
        reason: impl ToString,
    ) -> Self {
        StoreError::Corrupt {
            entity,
            id: id.into(),
            field,
            reason: reason.to_string(),
        }
    }
}
