//! `api_keys`: the keys callers present, stored as a hash of their secret with their
//! scope; `audit_events`: who did what to a district (created or changed it, started,
//! approved or cancelled a run, spot-synced a user); and who created and last changed
//! each district.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    SecretHash,
    Scope,
    CreatedAt,
    CreatedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
    DistrictId,
    At,
    Actor,
    Action,
    Target,
    Detail,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    CreatedBy,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(
                        ColumnDef::new(ApiKeys::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ApiKeys::Name)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiKeys::SecretHash).string().not_null())
                    .col(ColumnDef::new(ApiKeys::Scope).text().not_null())
                    .col(
                        ColumnDef::new(ApiKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ApiKeys::CreatedBy).string().not_null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvents::DistrictId).string().not_null())
                    .col(
                        ColumnDef::new(AuditEvents::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::Actor).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Target).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_events_by_district")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::DistrictId)
                    .col(AuditEvents::Seq)
                    .to_owned(),
            )
            .await?;
        for column in [Districts::CreatedBy, Districts::UpdatedBy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Districts::Table)
                        .add_column(ColumnDef::new(column).string())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Districts::CreatedBy, Districts::UpdatedBy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Districts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
