//! The rostersync store, on SQLite (the embedded default) and PostgreSQL.
//!
//! Owns: private sea-orm entities ([`entities`]), repositories that take and return
//! model types ([`districts`], [`students`], [`guardians`], [`links`], [`forms`],
//! [`change_log`], [`staff`], and [`roster`] for schools, staff, classrooms, contacts and
//! enrollments), staged pulls ([`staging`]), sync runs with their compare-and-set state,
//! checkpoints and leases ([`runs`]), what an import was given ([`inputs`]), run plans
//! and applying them, and spot syncs ([`plan`]), connecting and migrating ([`Store`]).
//!
//! Must never: let a query cross districts (every table is keyed by district first and
//! every repository call names its district), write outside a transaction what must land
//! together, or hand an entity to a caller. Start reading at [`Store`].

mod convert;
pub mod digest;
mod entities;
pub mod error;

pub mod access;
pub mod change_log;
pub mod districts;
pub mod events;
pub mod forms;
pub mod guardians;
pub mod inputs;
pub mod links;
pub mod notifications;
pub mod plan;
mod plan_codec;
#[cfg(feature = "raw")]
pub mod raw;
pub mod review;
pub mod roster;
mod roster_ids;
pub mod runs;
pub mod sealing;
pub mod search;
mod sql;
pub mod staff;
pub mod staging;
pub mod students;
pub mod tables;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use migrations::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

pub use error::StoreError;

pub use model::Synced;

/// Rows written per statement: well under SQLite's bound-parameter limit for our widest
/// table, and large enough that a district is written in few round trips.
pub(crate) const BATCH_ROWS: usize = 500;

/// Inserts `rows` on `conn`, [`BATCH_ROWS`] per statement, settling a row already there
/// as `on_conflict` says (replace some columns, or leave it). Each key must appear at
/// most once in `rows`.
pub(crate) async fn upsert_rows<C, E>(
    conn: &C,
    rows: Vec<E::Model>,
    on_conflict: sea_orm::sea_query::OnConflict,
) -> Result<(), StoreError>
where
    C: ConnectionTrait,
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: Send,
{
    for chunk in rows.chunks(BATCH_ROWS) {
        let models = chunk
            .iter()
            .cloned()
            .map(sea_orm::IntoActiveModel::into_active_model);
        E::insert_many(models)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the store's database.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// Seals connector secrets at rest, when a key is configured.
    sealer: Option<std::sync::Arc<sealing::Sealer>>,
}

/// Shows the backend only: the pool's options hold the database password.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects to `url`: `sqlite://PATH?mode=rwc` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl {
                scheme: url.split(':').next().unwrap_or_default().to_owned(),
            });
        };
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .min_connections(1)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                // A page cache of 4 MiB per connection (SQLite's default is 2 MiB): the
                // pages a run reads again (indexes, the page being planned) stay in
                // memory, and the four connections hold at most 16 MiB whatever the
                // district's size; the rest comes from the kernel's file cache.
                o.pragma("cache_size", "-4096")
                    // A statement's undo journal (a many-row upsert's) stays in memory
                    // instead of spilling to a temporary file past 64 KiB.
                    .pragma("temp_store", "memory")
                    // The write-ahead log is copied back every 64 MiB rather than every
                    // 4 MiB: pages written again and again (indexes) are copied once.
                    .pragma("wal_autocheckpoint", "16384")
            });
        let db = Database::connect(options)
            .await
            .map_err(StoreError::Connect)?;
        if backend == Backend::Sqlite {
            // WAL lets readers work while a sync writes; it is a property of the file.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        }
        Ok(Self {
            db,
            backend,
            sealer: None,
        })
    }

    /// This store with secrets sealed by `sealer` (and opened by any of its keys).
    pub fn with_sealer(mut self, sealer: sealing::Sealer) -> Self {
        self.sealer = Some(std::sync::Arc::new(sealer));
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Reverts the last `steps` migrations (all of them with `None`).
    pub async fn migrate_down(&self, steps: Option<u32>) -> Result<(), StoreError> {
        migrations::Migrator::down(&self.db, steps).await?;
        Ok(())
    }

    /// The names of the migrations applied, oldest first, and of those pending.
    pub async fn migration_status(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let applied = migrations::Migrator::get_applied_migrations(&self.db).await?;
        let pending = migrations::Migrator::get_pending_migrations(&self.db).await?;
        Ok((
            applied.iter().map(|m| m.name().to_owned()).collect(),
            pending.iter().map(|m| m.name().to_owned()).collect(),
        ))
    }

    /// The tables that exist now (for migration tests and diagnostics).
    pub async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
            }
        };
        let rows = self
            .db
            .query_all(sea_orm::Statement::from_string(self.db_backend(), sql))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String>("", "name").map_err(StoreError::from))
            .collect()
    }

    fn db_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Closes every connection of the pool, waiting for each to finish: a command that
    /// exits right after writing calls this so nothing it wrote waits on a connection
    /// the process is about to drop.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[cfg(test)]
mod suite;
