//! Sync runs and the change log: which run or spot sync changed which field of which
//! record, from what to what.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    DistrictId,
    Id,
    Mode,
    Trigger,
    State,
    Phase,
    Error,
    Counts,
    CreatedAt,
    StartedAt,
    FinishedAt,
    LeaseOwner,
    LeaseExpiresAt,
    Checkpoint,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    DistrictId,
    SourceKind,
    SourceId,
    Seq,
    Entity,
    RecordId,
    Operation,
    Field,
    OldValue,
    NewValue,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(ColumnDef::new(SyncRuns::DistrictId).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Id).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Mode).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Trigger).string().not_null())
                    .col(ColumnDef::new(SyncRuns::State).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Phase).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Error).text().null())
                    .col(ColumnDef::new(SyncRuns::Counts).text().not_null())
                    .col(
                        ColumnDef::new(SyncRuns::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SyncRuns::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(SyncRuns::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(SyncRuns::LeaseOwner).string().null())
                    .col(
                        ColumnDef::new(SyncRuns::LeaseExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(SyncRuns::Checkpoint).text().null())
                    .primary_key(Index::create().col(SyncRuns::DistrictId).col(SyncRuns::Id))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SyncRuns::Table, SyncRuns::DistrictId)
                            .to(Districts::Table, Districts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sync_runs_created")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::DistrictId)
                    .col(SyncRuns::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangeLog::Table)
                    .col(ColumnDef::new(ChangeLog::DistrictId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::SourceKind).string().not_null())
                    .col(ColumnDef::new(ChangeLog::SourceId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::Seq).big_integer().not_null())
                    .col(ColumnDef::new(ChangeLog::Entity).string().not_null())
                    .col(ColumnDef::new(ChangeLog::RecordId).string().not_null())
                    .col(ColumnDef::new(ChangeLog::Operation).string().not_null())
                    .col(ColumnDef::new(ChangeLog::Field).string().not_null())
                    .col(ColumnDef::new(ChangeLog::OldValue).text().null())
                    .col(ColumnDef::new(ChangeLog::NewValue).text().null())
                    .col(
                        ColumnDef::new(ChangeLog::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ChangeLog::DistrictId)
                            .col(ChangeLog::SourceKind)
                            .col(ChangeLog::SourceId)
                            .col(ChangeLog::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChangeLog::Table, ChangeLog::DistrictId)
                            .to(Districts::Table, Districts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_change_log_record")
                    .table(ChangeLog::Table)
                    .col(ChangeLog::DistrictId)
                    .col(ChangeLog::Entity)
                    .col(ChangeLog::RecordId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChangeLog::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await
    }
}
