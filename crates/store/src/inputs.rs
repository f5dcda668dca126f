//! What a run was given instead of a pull — a district's `guardians.csv` — kept with the
//! run so an import interrupted before it applied can be planned again after a restart,
//! and so support can read what was imported.
//!
//! The content is kept in numbered pieces (the caller cuts them; a mebibyte is the
//! intended size), written in one transaction and read back one at a time: a 64 MiB file
//! is never one value bound to a statement, which each layer it passes through copies.

use model::ids::{DistrictId, RunId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, DatabaseTransaction, EntityTrait, TransactionTrait};

use crate::convert::stored;
use crate::entities::run_input_pieces as pieces;
use crate::entities::run_inputs as inputs;
use crate::{Store, StoreError};

/// What a run was given, being kept: its pieces go in one transaction, kept whole by
/// [`RunInputWriter::commit`] or not at all.
pub struct RunInputWriter {
    txn: DatabaseTransaction,
    district: String,
    run: String,
    next: i32,
}

impl std::fmt::Debug for RunInputWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunInputWriter")
            .field("district", &self.district)
            .field("run", &self.run)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Starts keeping what `run` was given, called `name`; its content follows piece by
    /// piece. A run's input is kept once: keeping it again changes nothing.
    pub async fn keep_run_input(
        &self,
        district: &DistrictId,
        run: RunId,
        name: &str,
    ) -> Result<RunInputWriter, StoreError> {
        let txn = self.db().begin().await?;
        let model = inputs::ActiveModel {
            district_id: ActiveValue::Set(district.to_string()),
            run_id: ActiveValue::Set(run.to_string()),
            name: ActiveValue::Set(name.to_owned()),
            content: ActiveValue::Set(String::new()),
            created_at: ActiveValue::Set(stored(crate::convert::now())),
        };
        inputs::Entity::insert(model)
            .on_conflict(
                OnConflict::columns([inputs::Column::DistrictId, inputs::Column::RunId])
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(&txn)
            .await?;
        Ok(RunInputWriter {
            txn,
            district: district.to_string(),
            run: run.to_string(),
            next: 0,
        })
    }

    /// The name of what `run` was given, if it was given anything.
    pub async fn run_input_name(
        &self,
        district: &DistrictId,
        run: RunId,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            inputs::Entity::find_by_id((district.to_string(), run.to_string()))
                .one(self.db())
                .await?
                .map(|m| m.name),
        )
    }

    /// Piece `seq` (from 0) of what `run` was given; `None` past the last.
    pub async fn run_input_piece(
        &self,
        district: &DistrictId,
        run: RunId,
        seq: u32,
    ) -> Result<Option<String>, StoreError> {
        let Ok(seq) = i32::try_from(seq) else {
            return Ok(None);
        };
        Ok(
            pieces::Entity::find_by_id((district.to_string(), run.to_string(), seq))
                .one(self.db())
                .await?
                .map(|m| m.content),
        )
    }
}

impl RunInputWriter {
    /// Adds the next piece of the content.
    pub async fn piece(&mut self, content: String) -> Result<(), StoreError> {
        let model = pieces::ActiveModel {
            district_id: ActiveValue::Set(self.district.clone()),
            run_id: ActiveValue::Set(self.run.clone()),
            seq: ActiveValue::Set(self.next),
            content: ActiveValue::Set(content),
        };
        pieces::Entity::insert(model)
            .on_conflict(
                OnConflict::columns([
                    pieces::Column::DistrictId,
                    pieces::Column::RunId,
                    pieces::Column::Seq,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(&self.txn)
            .await?;
        self.next += 1;
        Ok(())
    }

    /// Keeps the name and every piece written.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().await?;
        Ok(())
    }
}
