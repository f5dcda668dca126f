//! The guardian/contact-type policy: pure functions the engine calls once per student.
//!
//! Owns: seed 001's link rules 1–5, reconciliation with the links we already hold, the
//! access-tier matrix (SPEC §3) with district overrides, the district settings that filter
//! contact types, relationships and phone types (SPEC §4), and the explanation of every
//! decision (a stable rule id and the facts it used). Each rule lives in a file named for
//! it whose doc cites the seed sentence it implements. Start with [`email`].
//!
//! Must never: do I/O, be async, or depend on tokio, sea-orm, tonic or reqwest; the engine
//! passes in every fact a rule needs.

pub mod email;
