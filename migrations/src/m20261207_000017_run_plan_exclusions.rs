//! `run_plan_exclusions`: the plan items an approver kept out of a held run, one row per
//! item — the exclusion that selected it (its place in the run's list of exclusions) and,
//! for an item kept out because it depends on an excluded creation, that creation's item.
//! Written in the same transaction as the approval; an apply skips these items and the
//! district's next run plans them again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunPlanExclusions {
    Table,
    DistrictId,
    RunId,
    Seq,
    Exclusion,
    Via,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunPlanExclusions::Table)
                    .col(
                        ColumnDef::new(RunPlanExclusions::DistrictId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RunPlanExclusions::RunId).string().not_null())
                    .col(
                        ColumnDef::new(RunPlanExclusions::Seq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RunPlanExclusions::Exclusion)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RunPlanExclusions::Via).big_integer().null())
                    .primary_key(
                        Index::create()
                            .col(RunPlanExclusions::DistrictId)
                            .col(RunPlanExclusions::RunId)
                            .col(RunPlanExclusions::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RunPlanExclusions::Table, RunPlanExclusions::DistrictId)
                            .to(Districts::Table, Districts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RunPlanExclusions::Table).to_owned())
            .await
    }
}
