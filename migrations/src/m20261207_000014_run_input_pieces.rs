//! `run_input_pieces`: a run's input (its `guardians.csv`) kept in numbered pieces of at
//! most a mebibyte rather than as one value in `run_inputs.content`, so keeping and
//! reading a 64 MiB file holds one piece at a time instead of several whole copies (a
//! bound text value is copied by each layer it passes through).
//!
//! Kept inputs move into piece 0 and `run_inputs.content` is left empty; down puts each
//! input back together in `content` before the pieces go.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunInputs {
    Table,
    DistrictId,
    RunId,
    Content,
}

#[derive(DeriveIden)]
enum RunInputPieces {
    Table,
    DistrictId,
    RunId,
    Seq,
    Content,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunInputPieces::Table)
                    .col(
                        ColumnDef::new(RunInputPieces::DistrictId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RunInputPieces::RunId).string().not_null())
                    .col(ColumnDef::new(RunInputPieces::Seq).integer().not_null())
                    .col(ColumnDef::new(RunInputPieces::Content).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(RunInputPieces::DistrictId)
                            .col(RunInputPieces::RunId)
                            .col(RunInputPieces::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(RunInputPieces::Table)
                    .columns([
                        RunInputPieces::DistrictId,
                        RunInputPieces::RunId,
                        RunInputPieces::Seq,
                        RunInputPieces::Content,
                    ])
                    .select_from(
                        Query::select()
                            .column(RunInputs::DistrictId)
                            .column(RunInputs::RunId)
                            .expr(Expr::val(0))
                            .column(RunInputs::Content)
                            .from(RunInputs::Table)
                            .to_owned(),
                    )
                    .map_err(|e| DbErr::Migration(e.to_string()))?
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(RunInputs::Table)
                    .value(RunInputs::Content, "")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let joined = match manager.get_database_backend() {
            DbBackend::Postgres => "string_agg(p.content, '' ORDER BY p.seq)",
            _ => "group_concat(p.content, '' ORDER BY p.seq)",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE run_inputs SET content = COALESCE((SELECT {joined} FROM \
                 run_input_pieces p WHERE p.district_id = run_inputs.district_id \
                 AND p.run_id = run_inputs.run_id), '')"
            ))
            .await?;
        manager
            .drop_table(Table::drop().table(RunInputPieces::Table).to_owned())
            .await
    }
}
