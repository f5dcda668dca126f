//! A run asked to stop (`cancelling`) is still open until the replica working it has
//! stopped: the one-open-run-per-district index counts it, so no new run starts beside it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One batch of statements: the index is never missing between them.
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ux_sync_runs_open; \
                 CREATE UNIQUE INDEX ux_sync_runs_open ON sync_runs (district_id) \
                 WHERE state IN ('running', 'paused', 'cancelling')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A run stopping when the schema goes back is recorded as cancelled.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE sync_runs SET state = 'cancelled' WHERE state = 'cancelling'; \
                 DROP INDEX ux_sync_runs_open; \
                 CREATE UNIQUE INDEX ux_sync_runs_open ON sync_runs (district_id) \
                 WHERE state IN ('running', 'paused')",
            )
            .await?;
        Ok(())
    }
}
