//! Staged pulls: every record a source sent in a run's pull, keyed by district, run, kind
//! and key, with its content hash and JSON payload. Planning reads them in key order (by
//! key, or by the group a record belongs to, such as a contact's student), so a plan does
//! not depend on the order the source sent them in. A second record under the same key
//! with other content is kept beside the first (`dup_hash`, `dup_arrival`); a record the
//! engine refused keeps its reason (`rejected`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum StagedRecords {
    Table,
    DistrictId,
    RunId,
    Kind,
    RecordKey,
    GroupKey,
    ContentHash,
    Arrival,
    Payload,
    Rejected,
    DupHash,
    DupArrival,
}

const GROUP_INDEX: &str = "ix_staged_records_group";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let key = |c: StagedRecords| ColumnDef::new(c).string().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(StagedRecords::Table)
                    .col(key(StagedRecords::DistrictId))
                    .col(key(StagedRecords::RunId))
                    .col(key(StagedRecords::Kind))
                    .col(key(StagedRecords::RecordKey))
                    .col(key(StagedRecords::GroupKey))
                    .col(key(StagedRecords::ContentHash))
                    .col(key(StagedRecords::Arrival))
                    .col(ColumnDef::new(StagedRecords::Payload).text().not_null())
                    .col(ColumnDef::new(StagedRecords::Rejected).text().null())
                    .col(ColumnDef::new(StagedRecords::DupHash).string().null())
                    .col(ColumnDef::new(StagedRecords::DupArrival).string().null())
                    .primary_key(
                        Index::create()
                            .col(StagedRecords::DistrictId)
                            .col(StagedRecords::RunId)
                            .col(StagedRecords::Kind)
                            .col(StagedRecords::RecordKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StagedRecords::Table, StagedRecords::DistrictId)
                            .to(Districts::Table, Districts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(GROUP_INDEX)
                    .table(StagedRecords::Table)
                    .col(StagedRecords::DistrictId)
                    .col(StagedRecords::RunId)
                    .col(StagedRecords::Kind)
                    .col(StagedRecords::GroupKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StagedRecords::Table).to_owned())
            .await
    }
}
