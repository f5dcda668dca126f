//! The guardian/contact-type policy: pure functions the engine calls once per student.
//!
//! Owns: each source's link rules, chosen by the rule set its connector names
//! ([`rule_sets`]): seed 001's rules 1–5 for PowerSchool ([`rules`], one file per rule
//! citing the seed sentence, applied by [`rules::evaluate`]), Clever's and OneRoster's; reconciliation with the links we already
//! hold ([`reconcile`]); the access-tier matrix with district overrides ([`tiers`]); the
//! district settings that filter contact types, relationships and phone types, map phones
//! to the SMS and phone fields, and protect active users' contact details ([`settings`]);
//! the one e-mail comparison ([`email`]); and every decision in words ([`explain`]). Each
//! decision carries a stable rule id and the facts it used.
//!
//! Must never: do I/O, be async, or depend on tokio, sea-orm, tonic or reqwest; the engine
//! passes in every fact a rule needs. Start reading at [`rules::evaluate`], then
//! [`reconcile::reconcile`].

pub mod email;
pub mod explain;
pub mod reconcile;
pub mod rule_sets;
pub mod rules;
pub mod settings;
pub mod tiers;

pub use explain::explain;
pub use reconcile::{
    reconcile, HeldLink, KnownGuardian, LinkChange, LinkOutcome, Reconciled, SisRelationship,
};
pub use rule_sets::{rules_for, Authority, LinkRules};
pub use rules::{evaluate, Verdict};
pub use tiers::AccessMatrix;
