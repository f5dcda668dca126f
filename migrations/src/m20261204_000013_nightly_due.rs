//! `districts.nightly_due_at`: from when the district's next nightly run is to be looked
//! at (null while daily sync is off), indexed, so the replicas find the districts due in
//! one query however many districts there are, and claim them row by row.
//!
//! `sync_runs_by_state`: the runs a replica may take over, found in one query.
//!
//! Existing districts are due at once: the first look at each works out its night from
//! its settings and time zone, and sets the next time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    State,
    LeaseExpiresAt,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    NightlyDueAt,
}

/// A time before any night: due at once.
fn long_ago() -> sea_orm_migration::sea_orm::prelude::DateTimeUtc {
    sea_orm_migration::sea_orm::prelude::DateTimeUtc::from_timestamp(0, 0).unwrap_or_default()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Districts::Table)
                    .add_column(ColumnDef::new(Districts::NightlyDueAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Districts::Table)
                    .value(Districts::NightlyDueAt, Expr::value(long_ago()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("districts_by_nightly_due_at")
                    .table(Districts::Table)
                    .col(Districts::NightlyDueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sync_runs_by_state")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::State)
                    .col(SyncRuns::LeaseExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("sync_runs_by_state")
                    .table(SyncRuns::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("districts_by_nightly_due_at")
                    .table(Districts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Districts::Table)
                    .drop_column(Districts::NightlyDueAt)
                    .to_owned(),
            )
            .await
    }
}
