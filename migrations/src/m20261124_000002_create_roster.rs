//! The roster: schools, students, guardians, contacts, links, form authorship, staff,
//! classrooms and enrollments. Each synced table keys by (district, our id) and keeps the
//! source's id unique within the district.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Districts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Schools {
    Table,
    DistrictId,
    Id,
    SourceId,
    SchoolNumber,
    Name,
    Archived,
    SourceHash,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Students {
    Table,
    DistrictId,
    Id,
    SourceId,
    StudentNumber,
    StateId,
    LegalFirstName,
    LegalLastName,
    MiddleName,
    BirthDate,
    Gender,
    SchoolSourceId,
    Grade,
    EnrollmentStatus,
    IndependentStudent,
    OrgEmail,
    PersonalEmail,
    WebId,
    Archived,
    SourceHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Guardians {
    Table,
    DistrictId,
    Id,
    SourceId,
    FirstName,
    LastName,
    Email,
    HomePhone,
    MobilePhone,
    AddressStreet,
    AddressCity,
    AddressRegion,
    AddressPostalCode,
    Status,
    SisConnected,
    Archived,
    SourceHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    DistrictId,
    StudentSourceId,
    SourceId,
    FirstName,
    LastName,
    Emails,
    Relationship,
    ContactType,
    Phones,
    DecisionMaking,
    SourceHash,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Links {
    Table,
    DistrictId,
    StudentId,
    GuardianId,
    Origin,
    Tier,
    RuleId,
    Facts,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormAuthorships {
    Table,
    DistrictId,
    GuardianId,
    StudentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    DistrictId,
    Id,
    SourceId,
    FirstName,
    LastName,
    Email,
    SchoolSourceIds,
    Archived,
    SourceHash,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Classrooms {
    Table,
    DistrictId,
    Id,
    SourceId,
    SchoolSourceId,
    Name,
    Archived,
    SourceHash,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    DistrictId,
    ClassroomSourceId,
    PersonSourceId,
    Role,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .string()
        .not_null()
        .default("")
        .to_owned()
}

fn flag(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn key(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

/// The foreign key every table has: its district.
fn district_fk(
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Districts::Table, Districts::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schools::Table)
                    .col(key(Schools::DistrictId))
                    .col(key(Schools::Id))
                    .col(key(Schools::SourceId))
                    .col(text(Schools::SchoolNumber))
                    .col(text(Schools::Name))
                    .col(flag(Schools::Archived))
                    .col(text(Schools::SourceHash))
                    .col(time(Schools::UpdatedAt))
                    .primary_key(Index::create().col(Schools::DistrictId).col(Schools::Id))
                    .foreign_key(&mut district_fk(Schools::Table, Schools::DistrictId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_schools_source",
            Schools::Table,
            [Schools::DistrictId, Schools::SourceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Students::Table)
                    .col(key(Students::DistrictId))
                    .col(key(Students::Id))
                    .col(key(Students::SourceId))
                    .col(text(Students::StudentNumber))
                    .col(text(Students::StateId))
                    .col(text(Students::LegalFirstName))
                    .col(text(Students::LegalLastName))
                    .col(text(Students::MiddleName))
                    .col(ColumnDef::new(Students::BirthDate).date().null())
                    .col(text(Students::Gender))
                    .col(ColumnDef::new(Students::SchoolSourceId).string().null())
                    .col(text(Students::Grade))
                    .col(text(Students::EnrollmentStatus))
                    .col(flag(Students::IndependentStudent))
                    .col(text(Students::OrgEmail))
                    .col(text(Students::PersonalEmail))
                    .col(text(Students::WebId))
                    .col(flag(Students::Archived))
                    .col(text(Students::SourceHash))
                    .col(time(Students::CreatedAt))
                    .col(time(Students::UpdatedAt))
                    .primary_key(Index::create().col(Students::DistrictId).col(Students::Id))
                    .foreign_key(&mut district_fk(Students::Table, Students::DistrictId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_students_source",
            Students::Table,
            [Students::DistrictId, Students::SourceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Guardians::Table)
                    .col(key(Guardians::DistrictId))
                    .col(key(Guardians::Id))
                    .col(ColumnDef::new(Guardians::SourceId).string().null())
                    .col(text(Guardians::FirstName))
                    .col(text(Guardians::LastName))
                    .col(text(Guardians::Email))
                    .col(text(Guardians::HomePhone))
                    .col(text(Guardians::MobilePhone))
                    .col(text(Guardians::AddressStreet))
                    .col(text(Guardians::AddressCity))
                    .col(text(Guardians::AddressRegion))
                    .col(text(Guardians::AddressPostalCode))
                    .col(text(Guardians::Status))
                    .col(flag(Guardians::SisConnected))
                    .col(flag(Guardians::Archived))
                    .col(text(Guardians::SourceHash))
                    .col(time(Guardians::CreatedAt))
                    .col(time(Guardians::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Guardians::DistrictId)
                            .col(Guardians::Id),
                    )
                    .foreign_key(&mut district_fk(Guardians::Table, Guardians::DistrictId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_guardians_source",
            Guardians::Table,
            [Guardians::DistrictId, Guardians::SourceId],
        )
        .await?;
        index(
            manager,
            "ix_guardians_email",
            Guardians::Table,
            [Guardians::DistrictId, Guardians::Email],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(key(Contacts::DistrictId))
                    .col(key(Contacts::StudentSourceId))
                    .col(key(Contacts::SourceId))
                    .col(text(Contacts::FirstName))
                    .col(text(Contacts::LastName))
                    .col(ColumnDef::new(Contacts::Emails).text().not_null())
                    .col(text(Contacts::Relationship))
                    .col(text(Contacts::ContactType))
                    .col(ColumnDef::new(Contacts::Phones).text().not_null())
                    .col(ColumnDef::new(Contacts::DecisionMaking).boolean().null())
                    .col(text(Contacts::SourceHash))
                    .col(time(Contacts::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Contacts::DistrictId)
                            .col(Contacts::StudentSourceId)
                            .col(Contacts::SourceId),
                    )
                    .foreign_key(&mut district_fk(Contacts::Table, Contacts::DistrictId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Links::Table)
                    .col(key(Links::DistrictId))
                    .col(key(Links::StudentId))
                    .col(key(Links::GuardianId))
                    .col(key(Links::Origin))
                    .col(key(Links::Tier))
                    .col(key(Links::RuleId))
                    .col(ColumnDef::new(Links::Facts).text().not_null())
                    .col(time(Links::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Links::DistrictId)
                            .col(Links::StudentId)
                            .col(Links::GuardianId),
                    )
                    .foreign_key(&mut district_fk(Links::Table, Links::DistrictId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_links_guardian",
            Links::Table,
            [Links::DistrictId, Links::GuardianId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(FormAuthorships::Table)
                    .col(key(FormAuthorships::DistrictId))
                    .col(key(FormAuthorships::GuardianId))
                    .col(key(FormAuthorships::StudentId))
                    .col(time(FormAuthorships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(FormAuthorships::DistrictId)
                            .col(FormAuthorships::GuardianId)
                            .col(FormAuthorships::StudentId),
                    )
                    .foreign_key(&mut district_fk(
                        FormAuthorships::Table,
                        FormAuthorships::DistrictId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(key(Staff::DistrictId))
                    .col(key(Staff::Id))
                    .col(key(Staff::SourceId))
                    .col(text(Staff::FirstName))
                    .col(text(Staff::LastName))
                    .col(text(Staff::Email))
                    .col(ColumnDef::new(Staff::SchoolSourceIds).text().not_null())
                    .col(flag(Staff::Archived))
                    .col(text(Staff::SourceHash))
                    .col(time(Staff::UpdatedAt))
                    .primary_key(Index::create().col(Staff::DistrictId).col(Staff::Id))
                    .foreign_key(&mut district_fk(Staff::Table, Staff::DistrictId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_staff_source",
            Staff::Table,
            [Staff::DistrictId, Staff::SourceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Classrooms::Table)
                    .col(key(Classrooms::DistrictId))
                    .col(key(Classrooms::Id))
                    .col(key(Classrooms::SourceId))
                    .col(text(Classrooms::SchoolSourceId))
                    .col(text(Classrooms::Name))
                    .col(flag(Classrooms::Archived))
                    .col(text(Classrooms::SourceHash))
                    .col(time(Classrooms::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Classrooms::DistrictId)
                            .col(Classrooms::Id),
                    )
                    .foreign_key(&mut district_fk(Classrooms::Table, Classrooms::DistrictId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_classrooms_source",
            Classrooms::Table,
            [Classrooms::DistrictId, Classrooms::SourceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Enrollments::Table)
                    .col(key(Enrollments::DistrictId))
                    .col(key(Enrollments::ClassroomSourceId))
                    .col(key(Enrollments::PersonSourceId))
                    .col(key(Enrollments::Role))
                    .primary_key(
                        Index::create()
                            .col(Enrollments::DistrictId)
                            .col(Enrollments::ClassroomSourceId)
                            .col(Enrollments::PersonSourceId)
                            .col(Enrollments::Role),
                    )
                    .foreign_key(&mut district_fk(
                        Enrollments::Table,
                        Enrollments::DistrictId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Enrollments::Table.into_iden(),
            Classrooms::Table.into_iden(),
            Staff::Table.into_iden(),
            FormAuthorships::Table.into_iden(),
            Links::Table.into_iden(),
            Contacts::Table.into_iden(),
            Guardians::Table.into_iden(),
            Students::Table.into_iden(),
            Schools::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn unique<T: IntoIden + 'static, C: IntoIden + 'static, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [C; N],
) -> Result<(), DbErr> {
    create_index(manager, name, table, cols, true).await
}

async fn index<T: IntoIden + 'static, C: IntoIden + 'static, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [C; N],
) -> Result<(), DbErr> {
    create_index(manager, name, table, cols, false).await
}

async fn create_index<T: IntoIden + 'static, C: IntoIden + 'static, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [C; N],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).to_owned();
    if unique {
        idx.unique();
    }
    for c in cols {
        idx.col(c);
    }
    manager.create_index(idx).await
}
