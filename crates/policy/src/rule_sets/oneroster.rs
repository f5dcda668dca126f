//! OneRoster's link rules (ClassLink; SPEC §2b, seed 002).
//!
//! > A user of role `guardian`, `parent` or `relative` is linked to a student when
//! > `agents` ties them in either direction, the role is among the relationships to
//! > sync, and both users are active (`tobedeleted` is gone) — Full.
//!
//! The connector reads `tobedeleted` users as gone and relates a guardian to a student
//! when either lists the other among its `agents`; the role is the contact's
//! relationship. `enabledUser: "false"` removes nothing.

use model::district::DistrictSettings;
use model::link::{AccessTier, Decision, RuleId};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use super::{own_contacts, LinkRules};
use crate::rules::Verdict;
use crate::settings::{contact_selected, CONTACT_NOT_SYNCED};

/// No `agents` entry ties the guardian and the student.
pub const NO_AGENT: &str = "oneroster.no_agent";
/// Tied by `agents`, of a selected role: full access.
pub const FULL: &str = "oneroster.link.full";

#[derive(Debug)]
pub struct OneRoster;

impl LinkRules for OneRoster {
    fn evaluate(
        &self,
        student: &SourceStudent,
        contacts: &[Contact],
        account: &GuardianAccount,
        settings: &DistrictSettings,
    ) -> Verdict {
        let base = Decision::new("")
            .fact("student", student.source_id.as_str())
            .fact("guardian_user", account.source_id.as_str());
        let tied = own_contacts(contacts, student, account);
        if !account.student_source_ids.contains(&student.source_id) || tied.is_empty() {
            return Verdict::Ignore(Decision {
                rule: RuleId::new(NO_AGENT),
                ..base
            });
        }
        let roles = tied
            .iter()
            .map(|c| c.relationship.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(", ");
        if !tied.iter().any(|c| contact_selected(c, settings)) {
            return Verdict::Ignore(
                Decision {
                    rule: RuleId::new(CONTACT_NOT_SYNCED),
                    ..base
                }
                .fact("account_email", &account.email)
                .fact("matching_contacts", roles),
            );
        }
        Verdict::Link {
            tier: AccessTier::Full,
            decision: Decision {
                rule: RuleId::new(FULL),
                ..base
            }
            .fact("role", roles),
        }
    }
}
