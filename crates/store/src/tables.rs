//! The store's tables by what they hold, for statistics, sizes and the benchmark.

/// The tables a sync leaves its roster in, and its change log: what the raw load is
/// compared with.
pub const ROSTER_TABLES: &[&str] = &[
    "schools",
    "students",
    "guardians",
    "contacts",
    "links",
    "form_authorships",
    "staff",
    "classrooms",
    "enrollments",
    "change_log",
];

/// What the roster's rows refer to (the district, its runs): loaded first, a few rows.
pub const PARENT_TABLES: &[&str] = &["districts", "sync_runs"];

/// The tables a sync keeps about itself: runs, their plans and staged pulls.
pub const RUN_TABLES: &[&str] = &["sync_runs", "run_plan", "staged_records"];
