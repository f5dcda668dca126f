//! The Clever simulator: a seeded district generator ([`District::generate`]) and a
//! loopback server ([`Simulator`]) speaking the Clever Data API v3.0 / v3.1 as
//! `shared/reference/clever.md` documents it: bearer token, list envelope and cursor
//! paging, a per-token fixed-window rate limit with its headers, `{"message": …}` errors,
//! and Clever's id behaviours (a contact without `sis_id` is recreated under a new id
//! when edited, a changed `sis_id` gives a new id, unshared records vanish and come back).
//!
//! Endpoints (each under `/v3.0` and `/v3.1`; all `GET`): `/districts` (and `/{id}`),
//! `/schools` (and `/{id}`, `/{id}/users?role=`, `/{id}/sections`), `/users?role=`
//! (and `/{id}`, `/{id}/mycontacts`, `/{id}/mystudents`, `/{id}/sections`,
//! `/{id}/schools`), `/sections` (and `/{id}`, `/{id}/users?role=`).
//!
//! Start reading at [`server`] (faults, rate limit, the request log), then [`data`] (the
//! records as plain structs) and [`cases`] (the edge cases every district holds).

pub mod cases;
pub mod config;
pub mod data;
mod generate;
mod list;
mod ratelimit;
mod render;
mod reply;
mod routes;
pub mod server;

pub use crate::kit::fault::{Fault, FaultKind, Match};
pub use cases::Cases;
pub use config::{CleverSimConfig, Quirks};
pub use data::*;
pub use server::{RequestRecord, Simulator};
