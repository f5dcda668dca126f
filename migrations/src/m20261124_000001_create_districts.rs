//! Districts: the tenant, its connector configuration and settings.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
    Name,
    ConnectorKind,
    ConnectorSettings,
    ConnectorSecrets,
    Settings,
    TimeZone,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Districts::Table)
                    .col(
                        ColumnDef::new(Districts::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Districts::Name).string().not_null())
                    .col(ColumnDef::new(Districts::ConnectorKind).string().not_null())
                    .col(
                        ColumnDef::new(Districts::ConnectorSettings)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Districts::ConnectorSecrets)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Districts::Settings).text().not_null())
                    .col(ColumnDef::new(Districts::TimeZone).string().not_null())
                    .col(
                        ColumnDef::new(Districts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Districts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Districts::Table).to_owned())
            .await
    }
}
