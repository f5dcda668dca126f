//! The OneRoster simulator: a ClassLink Roster Server speaking OneRoster 1.1 and 1.2 at
//! once, as `shared/reference/oneroster-classlink.md` documents it. A seeded district
//! generator ([`District::generate`]) and a loopback server ([`Simulator`]) with
//! OAuth 1.0a request signing (HMAC-SHA256 / HMAC-SHA1, timestamp window, single-use
//! nonces) and OAuth 2 client-credentials tokens, ClassLink's discovery API, `limit` /
//! `offset` paging with `X-Total-Count` and `Link`, `filter` / `sort` / `fields`, the
//! status-info error envelope, a per-client rate limit, and the shared fault injection.
//!
//! Paths (all `GET`), under `/ims/oneroster/v1p1` and `/ims/oneroster/rostering/v1p2`:
//! `/orgs`, `/schools`, `/academicSessions`, `/terms`, `/gradingPeriods`, `/courses`,
//! `/classes`, `/enrollments`, `/users`, `/students`, `/teachers`, each with
//! `/{sourcedId}`; `/schools/{id}/students|teachers|classes|enrollments|courses|terms`,
//! `/schools/{s}/classes/{c}/students|teachers|enrollments`,
//! `/classes/{id}/students|teachers|enrollments`, `/students/{id}/classes`,
//! `/teachers/{id}/classes`, `/users/{id}/classes`, `/courses/{id}/classes`,
//! `/terms/{id}/classes`. Besides: `POST /oauth/token`, `GET /applications` and
//! `GET /applications/{oneroster_application_id}/server`.
//!
//! Start reading at [`server`] (faults, credentials, the request log), then [`data`] (the
//! records as plain structs) and [`cases`] (the edge cases every district holds).

pub mod cases;
pub mod config;
pub mod data;
mod generate;
pub mod oauth;
mod query;
mod quirks;
mod ratelimit;
mod render;
mod reply;
mod routes;
pub mod server;

pub use crate::kit::fault::{Fault, FaultKind, Match};
pub use cases::Cases;
pub use config::OneRosterSimConfig;
pub use data::*;
pub use quirks::Quirks;
pub use render::{expected_demographics, Version};
pub use server::{RequestRecord, Simulator};

#[cfg(test)]
mod tests;
