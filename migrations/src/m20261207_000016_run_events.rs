//! `run_events`: the outbox of what districts are told — a run that ended or is held —
//! written in the same transaction as the run's state, so no event is lost and none is
//! told of a state that was not stored. Each event takes the next `seq` from
//! `event_counters`, whose row the transaction holds until it commits: events are
//! numbered in commit order with no gaps, and a reader resuming after `seq` misses none.
//!
//! `notification_deliveries`: one row per event and subscriber the district had when the
//! event was written (in the same transaction), with its attempts, when the next is due,
//! the last error, which replica holds it, and when it was done (delivered, given up
//! after a day, or dropped with its subscriber). Pending rows are found by a partial
//! index, so a tick with nothing due reads nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

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
enum NotificationDeliveries {
    Table,
    DistrictId,
    Subscriber,
    Seq,
    Attempts,
    NextAttemptAt,
    LastError,
    HeldBy,
    HeldUntil,
    DoneAt,
    Outcome,
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
        let time = |c: NotificationDeliveries| {
            ColumnDef::new(c)
                .timestamp_with_time_zone()
                .null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(NotificationDeliveries::Table)
                    .col(
                        ColumnDef::new(NotificationDeliveries::DistrictId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::Subscriber)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::Seq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::LastError)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationDeliveries::HeldBy)
                            .string()
                            .null(),
                    )
                    .col(time(NotificationDeliveries::HeldUntil))
                    .col(time(NotificationDeliveries::DoneAt))
                    .col(
                        ColumnDef::new(NotificationDeliveries::Outcome)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(NotificationDeliveries::DistrictId)
                            .col(NotificationDeliveries::Subscriber)
                            .col(NotificationDeliveries::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_notification_deliveries_pending \
                 ON notification_deliveries (next_attempt_at) WHERE done_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotificationDeliveries::Table.into_iden(),
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
