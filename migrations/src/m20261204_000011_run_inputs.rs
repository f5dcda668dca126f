//! `run_inputs`: what a run was given instead of pulling it — a district's
//! `guardians.csv` — kept with the run so an import interrupted before it applied can be
//! planned again after a restart, and so support can read what was imported.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunInputs {
    Table,
    DistrictId,
    RunId,
    Name,
    Content,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunInputs::Table)
                    .col(ColumnDef::new(RunInputs::DistrictId).string().not_null())
                    .col(ColumnDef::new(RunInputs::RunId).string().not_null())
                    .col(ColumnDef::new(RunInputs::Name).string().not_null())
                    .col(ColumnDef::new(RunInputs::Content).text().not_null())
                    .col(
                        ColumnDef::new(RunInputs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RunInputs::DistrictId)
                            .col(RunInputs::RunId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RunInputs::Table).to_owned())
            .await
    }
}
