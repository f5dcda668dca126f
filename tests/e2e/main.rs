//! End-to-end tests: the real `rostersync` binary over gRPC, on SQLite and PostgreSQL,
//! driven by the real `grpcurl` and by a generated client.

mod harness;

mod access;

mod bench;
mod budget;
mod classlink;
mod clever;
mod cli;
mod connection;
mod connector_modes;
mod district_values;
mod districts;
mod events;
mod fuzz;
mod guardians_csv;
mod hardening;
mod import_memory;
mod limits;
mod mail;
mod nightly;
mod operators;
mod reads;
mod resilience;
mod roster;
mod runs;
mod search;
mod security;
mod spot;
mod surface;
mod tour;
mod transport;
mod webhooks;
