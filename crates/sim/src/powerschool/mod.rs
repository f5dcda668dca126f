//! The PowerSchool simulator: a seeded district generator ([`District::generate`]), the
//! ground truth a correct connector must produce from it ([`District::expected_students`]
//! and friends), and a loopback server ([`Simulator`]) speaking PowerSchool's wire format
//! as `shared/reference/powerschool.md` documents it, quirks included.
//!
//! Endpoints: `POST /oauth/access_token`; `GET /ws/v1/metadata`, `/ws/v1/district/school`,
//! `/ws/v1/school/{id}/student`, `/ws/v1/district/student`, `/ws/v1/student/{id}` (with
//! `/count`); `/ws/v1/school/{id}/staff` and `/section` (with `/count`),
//! `/ws/v1/section/{id}/section_enrollment` ([`sections`]); `/ws/v1/course/{id}`
//! ([`courses`]); `GET /ws/schema/table/{table}` (and `/count`); `POST
//! /ws/schema/query/com.pearson.core.guardian.student_guardian_detail` (and `/count`).
//!
//! Start reading at [`server`] (routing, faults, the request log), then [`data`] (the
//! tables as plain structs) and [`cases`] (the edge cases every district holds).

pub mod auth;
pub mod cases;
pub mod config;
pub mod courses;
pub mod data;
mod generate;
mod powerquery;
mod query;
mod reply;
mod rows;
mod schema;
pub mod sections;
pub mod server;
mod tables;
pub mod truth;
mod v1;

pub use crate::kit::fault::{Fault, FaultKind, Match};
pub use auth::{PluginState, Refusal, Refusals};
pub use cases::Cases;
pub use config::SimConfig;
pub use courses::Course;
pub use data::*;
pub use sections::{Section, SectionEnrollment, StaffMember};
pub use server::{RequestRecord, Simulator};
pub use truth::ExpectedSchool;
