//! Run plans: the items a run intends to apply, numbered in order, so a run can pause for
//! approval and resume after its last checkpoint. Also the index the archive sweep pages
//! through: a district's non-archived students in source-id order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RunPlan {
    Table,
    DistrictId,
    RunId,
    Seq,
    Entity,
    Operation,
    RecordId,
    Item,
}

#[derive(DeriveIden)]
enum Students {
    Table,
    DistrictId,
    Archived,
    SourceId,
}

const PLAN_KIND_INDEX: &str = "ix_run_plan_kind";
const STUDENTS_ARCHIVED_INDEX: &str = "ix_students_district_archived_source";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunPlan::Table)
                    .col(ColumnDef::new(RunPlan::DistrictId).string().not_null())
                    .col(ColumnDef::new(RunPlan::RunId).string().not_null())
                    .col(ColumnDef::new(RunPlan::Seq).big_integer().not_null())
                    .col(ColumnDef::new(RunPlan::Entity).string().not_null())
                    .col(ColumnDef::new(RunPlan::Operation).string().not_null())
                    .col(ColumnDef::new(RunPlan::RecordId).string().not_null())
                    .col(ColumnDef::new(RunPlan::Item).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(RunPlan::DistrictId)
                            .col(RunPlan::RunId)
                            .col(RunPlan::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RunPlan::Table, RunPlan::DistrictId)
                            .to(Districts::Table, Districts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Listing a plan by kind ("every link deletion of this run") reads in order.
        manager
            .create_index(
                Index::create()
                    .name(PLAN_KIND_INDEX)
                    .table(RunPlan::Table)
                    .col(RunPlan::DistrictId)
                    .col(RunPlan::RunId)
                    .col(RunPlan::Entity)
                    .col(RunPlan::Operation)
                    .col(RunPlan::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(STUDENTS_ARCHIVED_INDEX)
                    .table(Students::Table)
                    .col(Students::DistrictId)
                    .col(Students::Archived)
                    .col(Students::SourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(STUDENTS_ARCHIVED_INDEX)
                    .table(Students::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RunPlan::Table).to_owned())
            .await
    }
}
