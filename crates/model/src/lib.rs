//! The common roster model every connector maps into and every other crate speaks.
//!
//! Owns: districts and their settings ([`district`]), the people and places of a roster
//! ([`roster`]), student–guardian links with their origin, access tier and deciding rule
//! ([`link`]), the record of who changed what ([`change`]), a pull as staged
//! ([`staging`]), newtype ids ([`ids`]), the
//! write-only secret wrapper ([`secret`]) and validation errors that carry the field path
//! ([`error`]), and the limits of what a caller sends ([`limits`]).
//!
//! Must never: do I/O, depend on an async runtime, or know which SIS a record came from
//! beyond the opaque source ids it carries. Start reading at [`roster::Student`] and
//! [`link::Link`].

pub mod access;
pub mod assign;
pub mod change;
pub mod district;
pub mod error;
pub mod fields;
pub mod ids;
pub mod kinds;
pub mod limits;
pub mod link;
pub mod nightly;
pub mod notify;
pub mod roster;
pub mod run;
pub mod search;
pub mod secret;
pub mod source;
pub mod staging;
pub mod validate;

pub use error::{FieldError, ValidationErrors};
pub use secret::Secret;

/// A synced record with the hash of the source content it was made from: a record whose
/// hash has not changed costs a read, not a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced<T> {
    pub value: T,
    pub source_hash: String,
}
