//! Rule 4.
//!
//! > "All linked contacts sharing the same email must have a value of 1 in the
//! > u_studentcontactdetail.isdecisionmaking field. If any linked contact does not meet
//! > this condition, the connection to the student will remain, but access will be set to
//! > 'Restricted'." (seed 001)
//!
//! A contact whose source has no such field (`decision_making: None`, e.g. Clever) is not
//! held to it.

use model::link::{Decision, RuleId};
use model::roster::Contact;

use super::ids;

pub const RULE: &str = "ps.rule4.not_decision_making";

pub fn check(matching: &[&Contact], base: Decision) -> Result<(), Decision> {
    let failing: Vec<&Contact> = matching
        .iter()
        .copied()
        .filter(|c| c.decision_making == Some(false))
        .collect();
    if failing.is_empty() {
        return Ok(());
    }
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("matching_contacts", ids(matching))
    .fact("not_decision_making", ids(&failing)))
}
