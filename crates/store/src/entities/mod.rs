//! Private sea-orm entities, one per table. Nothing outside the store sees them:
//! repositories take and return model types.

pub mod change_log;
// Read and written by sync runs (the engine's apply); no repository uses it yet.
#[allow(dead_code)]
pub mod classrooms;
// Read and written by sync runs (the engine's apply); no repository uses it yet.
#[allow(dead_code)]
pub mod contacts;
pub mod districts;
// Read and written by sync runs (the engine's apply); no repository uses it yet.
#[allow(dead_code)]
pub mod enrollments;
pub mod form_authorships;
pub mod guardians;
pub mod links;
pub mod run_plan;
// Read and written by sync runs (the engine's apply); no repository uses it yet.
#[allow(dead_code)]
pub mod schools;
// Read and written by sync runs (the engine's apply); no repository uses it yet.
#[allow(dead_code)]
pub mod staff;
pub mod staged_records;
pub mod students;
pub mod sync_runs;
