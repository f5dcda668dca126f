//! Clever's link rules (SPEC §2b, seed 004).
//!
//! > A contact is linked to a student when the contact's `student_relationships` lists
//! > that student, its `type` is among the district's contact types to sync and its
//! > `relationship` among the relationships to sync. Clever has no decision-making flag
//! > and no release-of-information marker: a listed, selected contact is Full.
//!
//! The phone-type choice filters the number, not the contact: it is applied where the
//! guardian's phones are filled, never here.

use model::district::DistrictSettings;
use model::link::{AccessTier, Decision, RuleId};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use super::{own_contacts, LinkRules};
use crate::rules::Verdict;
use crate::settings::{contact_selected, CONTACT_NOT_SYNCED};

/// The contact's `student_relationships` do not list the student.
pub const NOT_LISTED: &str = "clever.not_listed";
/// Listed, of a selected type and relationship: full access.
pub const FULL: &str = "clever.link.full";

#[derive(Debug)]
pub struct Clever;

impl LinkRules for Clever {
    fn evaluate(
        &self,
        student: &SourceStudent,
        contacts: &[Contact],
        account: &GuardianAccount,
        settings: &DistrictSettings,
    ) -> Verdict {
        let base = Decision::new("")
            .fact("student", student.source_id.as_str())
            .fact("contact", account.source_id.as_str());
        let listed = own_contacts(contacts, student, account);
        if !account.student_source_ids.contains(&student.source_id) || listed.is_empty() {
            return Verdict::Ignore(Decision {
                rule: RuleId::new(NOT_LISTED),
                ..base
            });
        }
        let kinds = listed
            .iter()
            .map(|c| format!("{}/{}", c.contact_type.as_str(), c.relationship.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        if !listed.iter().any(|c| contact_selected(c, settings)) {
            return Verdict::Ignore(
                Decision {
                    rule: RuleId::new(CONTACT_NOT_SYNCED),
                    ..base
                }
                .fact("account_email", &account.email)
                .fact("matching_contacts", kinds),
            );
        }
        Verdict::Link {
            tier: AccessTier::Full,
            decision: Decision {
                rule: RuleId::new(FULL),
                ..base
            }
            .fact("relationship", kinds),
        }
    }
}
