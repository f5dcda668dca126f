//! Rule 3.
//!
//! > "There must be at least one contact record linked to the student that shares the
//! > same email as the account returned in the Student Guardian Detail PowerQuery."
//! > (seed 001)
//!
//! A contact "has" an e-mail if any of its addresses is it; e-mails compare as
//! [`crate::email::same_email`] says.

use model::link::{Decision, RuleId};
use model::roster::Contact;
use model::source::GuardianAccount;

use crate::email::same_email;

pub const RULE: &str = "ps.rule3.no_matching_contact";

/// The contacts of the student that share the account's e-mail.
pub fn matching<'a>(contacts: &'a [Contact], email: &str) -> Vec<&'a Contact> {
    contacts
        .iter()
        .filter(|c| c.emails.iter().any(|e| same_email(e, email)))
        .collect()
}

pub fn check<'a>(
    contacts: &'a [Contact],
    account: &GuardianAccount,
    base: Decision,
) -> Result<Vec<&'a Contact>, Decision> {
    let found = matching(contacts, &account.email);
    if !found.is_empty() {
        return Ok(found);
    }
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("account_email", &account.email)
    .fact("student_contacts", contacts.len()))
}
