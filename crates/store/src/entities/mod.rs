//! Private sea-orm entities, one per table. Nothing outside the store sees them:
//! repositories take and return model types.

pub mod api_keys;
pub mod audit_events;
pub mod change_log;
pub mod classrooms;
pub mod contacts;
pub mod districts;
pub mod enrollments;
pub mod form_authorships;
pub mod guardians;
pub mod links;
pub mod run_input_pieces;
pub mod run_inputs;
pub mod run_plan;
pub mod run_plan_exclusions;
pub mod schools;
pub mod spot_sync_requests;
pub mod staff;
pub mod staged_records;
pub mod students;
pub mod sync_runs;
