//! What the API's conventions need from the store:
//! - `districts.revision`, raised by every update: the district's etag, so two people
//!   editing one district cannot overwrite each other silently; and
//!   `districts.create_request_id`, so a retried CreateDistrict finds its own district;
//! - `change_log.feed_seq`: each change's place in its district's change feed, given from
//!   `change_feed_heads` under that row's lock, so feed positions commit in order and a
//!   reader's cursor never skips a change committed later with a smaller number (existing
//!   rows are numbered by time);
//! - `spot_sync_requests`: the answer of each spot sync a caller named with a request id,
//!   so a retry gets the first answer instead of a second spot sync.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Revision,
    CreateRequestId,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    DistrictId,
    FeedSeq,
}

#[derive(DeriveIden)]
enum ChangeFeedHeads {
    Table,
    DistrictId,
    Head,
}

#[derive(DeriveIden)]
enum SpotSyncRequests {
    Table,
    DistrictId,
    RequestId,
    SpotSyncId,
    Answer,
    CreatedAt,
}

const FEED_ORDER: &str = "ux_change_log_feed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Districts::Table)
                    .add_column(
                        ColumnDef::new(Districts::Revision)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Districts::Table)
                    .add_column(ColumnDef::new(Districts::CreateRequestId).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ChangeLog::Table)
                    .add_column(ColumnDef::new(ChangeLog::FeedSeq).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChangeFeedHeads::Table)
                    .col(
                        ColumnDef::new(ChangeFeedHeads::DistrictId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ChangeFeedHeads::Head)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Existing changes take their places by time; the same statements on SQLite
        // (3.33 and later) and PostgreSQL.
        db.execute_unprepared(
            "UPDATE change_log AS c SET feed_seq = n.rn FROM (\
               SELECT district_id, source_kind, source_id, seq, ROW_NUMBER() OVER (\
                 PARTITION BY district_id ORDER BY at, source_kind, source_id, seq) AS rn \
               FROM change_log) AS n \
             WHERE c.district_id = n.district_id AND c.source_kind = n.source_kind \
               AND c.source_id = n.source_id AND c.seq = n.seq",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO change_feed_heads (district_id, head) \
             SELECT district_id, MAX(feed_seq) FROM change_log GROUP BY district_id",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(FEED_ORDER)
                    .table(ChangeLog::Table)
                    .col(ChangeLog::DistrictId)
                    .col(ChangeLog::FeedSeq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SpotSyncRequests::Table)
                    .col(
                        ColumnDef::new(SpotSyncRequests::DistrictId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SpotSyncRequests::RequestId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SpotSyncRequests::SpotSyncId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SpotSyncRequests::Answer).text().not_null())
                    .col(
                        ColumnDef::new(SpotSyncRequests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SpotSyncRequests::DistrictId)
                            .col(SpotSyncRequests::RequestId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SpotSyncRequests::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(FEED_ORDER)
                    .table(ChangeLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ChangeFeedHeads::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ChangeLog::Table)
                    .drop_column(ChangeLog::FeedSeq)
                    .to_owned(),
            )
            .await?;
        for column in [Districts::CreateRequestId, Districts::Revision] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Districts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
