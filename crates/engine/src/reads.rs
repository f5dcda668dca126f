//! Reads for support that need more than one store call: what the SIS sent for a student
//! in the district's latest staged pull.

use model::ids::{DistrictId, SourceId};
use model::run::{RunPhase, SyncRun};
use model::staging::{key_parts, StagedKind, StagedRecord};

use crate::{Engine, EngineError};

impl Engine {
    /// Reads for support.
    pub fn reads(&self) -> Reads {
        Reads {
            store: self.store.clone(),
        }
    }
}

/// Reads for support: they need only the store.
#[derive(Debug, Clone)]
pub struct Reads {
    store: store::Store,
}

impl Reads {
    /// Up to `limit` students, guardians and staff of `district` that `text` finds, after
    /// `after`, each with the cursor a page ending at it continues from: a few index reads
    /// whatever the district's size.
    pub async fn search_roster(
        &self,
        district: &DistrictId,
        text: &model::search::SearchText,
        after: Option<&store::search::SearchCursor>,
        limit: u64,
    ) -> Result<Vec<(store::search::Match, store::search::SearchCursor)>, EngineError> {
        Ok(self
            .store
            .search_roster(district, text, after, limit)
            .await?)
    }

    /// The student's records in the district's latest pull that got past pulling (the
    /// student, its contacts, the guardian accounts related to it), with that run.
    pub async fn source_records(
        &self,
        district: &DistrictId,
        student: &SourceId,
    ) -> Result<(SyncRun, Vec<StagedRecord>), EngineError> {
        self.store.get_district(district).await?;
        let mut runs = Vec::new();
        for id in self.store.staged_runs(district).await? {
            let run = self.store.get_run(district, id).await?;
            // A run that read a kept input (a file) did not pull the SIS.
            let read_input = self.store.run_input_name(district, id).await?.is_some();
            if run.phase != RunPhase::Pulling && !read_input {
                runs.push(run);
            }
        }
        let Some(run) = runs.into_iter().max_by_key(|r| r.created_at) else {
            return Err(EngineError::NotFound {
                entity: "staged pull of district",
                id: district.to_string(),
            });
        };
        let key = vec![student.to_string()];
        let store = &self.store;
        let mut records = store
            .staged_by_keys(district, run.id, StagedKind::Student, &key)
            .await?;
        records.extend(
            store
                .staged_of_groups(district, run.id, StagedKind::Contact, &key)
                .await?,
        );
        let edges = store
            .staged_of_groups(district, run.id, StagedKind::AccountStudent, &key)
            .await?;
        let accounts: Vec<String> = edges
            .iter()
            .filter_map(|e| key_parts(&e.key).first().map(|a| (*a).to_owned()))
            .collect();
        records.extend(
            store
                .staged_by_keys(district, run.id, StagedKind::GuardianAccount, &accounts)
                .await?,
        );
        if records.is_empty() {
            return Err(EngineError::NotFound {
                entity: "student in the latest pull",
                id: format!("{student} (run {})", run.id),
            });
        }
        Ok((run, records))
    }
}
