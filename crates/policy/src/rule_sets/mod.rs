//! The link rules of each source, chosen by the [`LinkRuleSet`] its connector names.
//!
//! PowerSchool's are seed 001's rules 1–5 ([`crate::rules`]); Clever's and OneRoster's are
//! our reading of seeds 002/004 and their reference pages (SPEC §2b), each with its own
//! rule ids and words. Reconciliation, tiers and the district settings are common to all.

pub mod clever;
pub mod oneroster;

use model::district::DistrictSettings;
use model::link::LinkRuleSet;
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use crate::rules::Verdict;

/// When a relationship a source lists counts, and with which tier.
pub trait LinkRules: Send + Sync + std::fmt::Debug {
    /// Applies the source's rules to `account` for `student`. `contacts` are the
    /// student's source contacts (others' are ignored); `account.student_source_ids`
    /// lists the students the source relates the account to.
    fn evaluate(
        &self,
        student: &SourceStudent,
        contacts: &[Contact],
        account: &GuardianAccount,
        settings: &DistrictSettings,
    ) -> Verdict;
}

#[derive(Debug)]
struct PowerSchool;

impl LinkRules for PowerSchool {
    fn evaluate(
        &self,
        student: &SourceStudent,
        contacts: &[Contact],
        account: &GuardianAccount,
        settings: &DistrictSettings,
    ) -> Verdict {
        crate::rules::evaluate(student, contacts, account, settings)
    }
}

/// The rules of a rule set.
pub fn rules_for(set: LinkRuleSet) -> &'static dyn LinkRules {
    match set {
        LinkRuleSet::PowerSchool => &PowerSchool,
        LinkRuleSet::Clever => &clever::Clever,
        LinkRuleSet::OneRoster => &oneroster::OneRoster,
    }
}

/// The student's contacts that are this account (Clever and OneRoster: the contact or
/// guardian user is the account).
pub(crate) fn own_contacts<'a>(
    contacts: &'a [Contact],
    student: &SourceStudent,
    account: &GuardianAccount,
) -> Vec<&'a Contact> {
    contacts
        .iter()
        .filter(|c| c.student_source_id == student.source_id && c.source_id == account.source_id)
        .collect()
}
