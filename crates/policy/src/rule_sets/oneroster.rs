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
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use super::{listed, LinkRules, Listed};
use crate::rules::Verdict;

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
        listed(
            &Listed {
                not_listed: NO_AGENT,
                full: FULL,
                account_fact: "guardian_user",
            },
            student,
            contacts,
            account,
            settings,
        )
    }
}
