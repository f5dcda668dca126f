//! `run_events`: the outbox of what districts are told — a run that ended or is held —
//! written in the same transaction as the run's state, so no event is lost and none is
//! told of a state that was not stored. Each event takes the next `seq` from
//! `event_counters`, whose row the transaction holds until it commits: events are
//! numbered in commit order with no gaps, and a reader resuming after `seq` misses none.
//!
//! `notification_cursors`: how far each of a district's subscribers has been told, with
//! its pending attempt (when, how many, the last error) and which replica holds it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunEvents {
    Table,
    Seq,
    DistrictId,
    RunId,
    Outcome,
    Summary,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EventCounters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum NotificationCursors {
    Table,
    DistrictId,
    Subscriber,
    DeliveredSeq,
    Attempts,
    NextAttemptAt,
    LastError,
    HeldBy,
    HeldUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunEvents::Table)
                    .col(
                        ColumnDef::new(RunEvents::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RunEvents::DistrictId).string().not_null())
                    .col(ColumnDef::new(RunEvents::RunId).string().not_null())
                    .col(ColumnDef::new(RunEvents::Outcome).string().not_null())
                    .col(ColumnDef::new(RunEvents::Summary).text().not_null())
                    .col(
                        ColumnDef::new(RunEvents::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_run_events_district")
                    .table(RunEvents::Table)
                    .col(RunEvents::DistrictId)
                    .col(RunEvents::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventCounters::Table)
                    .col(
                        ColumnDef::new(EventCounters::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(EventCounters::Value)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(EventCounters::Table)
                    .columns([EventCounters::Name, EventCounters::Value])
                    .values_panic(["run_events".into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationCursors::Table)
                    .col(
                        ColumnDef::new(NotificationCursors::DistrictId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationCursors::Subscriber)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationCursors::DeliveredSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationCursors::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationCursors::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(NotificationCursors::LastError)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(NotificationCursors::HeldBy).string().null())
                    .col(
                        ColumnDef::new(NotificationCursors::HeldUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(NotificationCursors::DistrictId)
                            .col(NotificationCursors::Subscriber),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotificationCursors::Table.into_iden(),
            EventCounters::Table.into_iden(),
            RunEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
