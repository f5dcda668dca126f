//! Rule 3.
//!
//! > "There must be at least one contact record linked to the student that shares the
//! > same email as the account returned in the Student Guardian Detail PowerQuery."
//! > (seed 001)
//!
//! A contact "has" an e-mail if any of its addresses is it; e-mails compare as
//! [`crate::email::same_email`] says.

use model::ids::SourceId;
use model::link::{Decision, RuleId};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use crate::email::same_email;

pub const RULE: &str = "ps.rule3.no_matching_contact";

/// The contacts of `student` that share the e-mail; contacts of other students never
/// count.
pub fn matching<'a>(contacts: &'a [Contact], student: &SourceId, email: &str) -> Vec<&'a Contact> {
    contacts
        .iter()
        .filter(|c| &c.student_source_id == student)
        .filter(|c| c.emails.iter().any(|e| same_email(e, email)))
        .collect()
}

pub fn check<'a>(
    contacts: &'a [Contact],
    student: &SourceStudent,
    account: &GuardianAccount,
    base: Decision,
) -> Result<Vec<&'a Contact>, Decision> {
    let found = matching(contacts, &student.source_id, &account.email);
    if !found.is_empty() {
        return Ok(found);
    }
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("account_email", &account.email)
    .fact(
        "student_contacts",
        contacts
            .iter()
            .filter(|c| c.student_source_id == student.source_id)
            .count(),
    ))
}
