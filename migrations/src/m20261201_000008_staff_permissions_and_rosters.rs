//! The rest of the roster as runs store it: the permissions the sync grants each staff
//! member, and the indexes support reads use — a person's classrooms (enrollments by
//! person), and the active staff and classrooms a run pages through to archive.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Staff {
    Table,
    DistrictId,
    Archived,
    SourceId,
    Permissions,
}

#[derive(DeriveIden)]
enum Classrooms {
    Table,
    DistrictId,
    Archived,
    SourceId,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    DistrictId,
    PersonSourceId,
}

const ENROLLMENTS_BY_PERSON: &str = "ix_enrollments_person";
const STAFF_ACTIVE: &str = "ix_staff_district_archived_source";
const CLASSROOMS_ACTIVE: &str = "ix_classrooms_district_archived_source";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(
                        ColumnDef::new(Staff::Permissions)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ENROLLMENTS_BY_PERSON)
                    .table(Enrollments::Table)
                    .col(Enrollments::DistrictId)
                    .col(Enrollments::PersonSourceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(STAFF_ACTIVE)
                    .table(Staff::Table)
                    .col(Staff::DistrictId)
                    .col(Staff::Archived)
                    .col(Staff::SourceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CLASSROOMS_ACTIVE)
                    .table(Classrooms::Table)
                    .col(Classrooms::DistrictId)
                    .col(Classrooms::Archived)
                    .col(Classrooms::SourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (CLASSROOMS_ACTIVE, Classrooms::Table.into_iden()),
            (STAFF_ACTIVE, Staff::Table.into_iden()),
            (ENROLLMENTS_BY_PERSON, Enrollments::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .drop_column(Staff::Permissions)
                    .to_owned(),
            )
            .await
    }
}
