//! The store's schema history: one dated file per step, each with `up` and `down`,
//! append-only. Names its own identifiers and never imports the store's entities, so old
//! steps keep meaning what they meant.
//!
//! Conventions every step follows: every table is keyed by `district_id` first; times are
//! `timestamp with time zone`; structured values the store reads whole (settings, facts)
//! are JSON text; a synced record keeps `source_hash`, the hash of its source content.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_districts;
mod m20261124_000002_create_roster;
mod m20261124_000003_create_runs_and_change_log;
mod m20261124_000004_create_run_plan;
mod m20261124_000005_one_open_run_per_district;
mod m20261201_000006_cancelling_runs_stay_open;
mod m20261201_000007_create_staged_records;
mod m20261201_000008_staff_permissions_and_rosters;
mod m20261201_000009_run_request_ids;
mod m20261204_000010_revisions_feed_and_requests;
mod m20261204_000011_run_inputs;
mod m20261204_000012_api_keys_and_audit;
mod m20261204_000013_nightly_due;
mod m20261207_000014_run_input_pieces;
mod m20261207_000015_search_keys;
mod m20261207_000016_run_events;
mod m20261207_000017_run_plan_exclusions;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_districts::Migration),
            Box::new(m20261124_000002_create_roster::Migration),
            Box::new(m20261124_000003_create_runs_and_change_log::Migration),
            Box::new(m20261124_000004_create_run_plan::Migration),
            Box::new(m20261124_000005_one_open_run_per_district::Migration),
            Box::new(m20261201_000006_cancelling_runs_stay_open::Migration),
            Box::new(m20261201_000007_create_staged_records::Migration),
            Box::new(m20261201_000008_staff_permissions_and_rosters::Migration),
            Box::new(m20261201_000009_run_request_ids::Migration),
            Box::new(m20261204_000010_revisions_feed_and_requests::Migration),
            Box::new(m20261204_000011_run_inputs::Migration),
            Box::new(m20261204_000012_api_keys_and_audit::Migration),
            Box::new(m20261204_000013_nightly_due::Migration),
            Box::new(m20261207_000014_run_input_pieces::Migration),
            Box::new(m20261207_000015_search_keys::Migration),
            Box::new(m20261207_000016_run_events::Migration),
            Box::new(m20261207_000017_run_plan_exclusions::Migration),
        ]
    }
}
