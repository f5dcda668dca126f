//! The link rules of each source, chosen by the [`LinkRuleSet`] its connector names.
//!
//! PowerSchool's are seed 001's rules 1–5 ([`crate::rules`]); Clever's and OneRoster's are
//! our reading of seeds 002/004 and their reference pages (SPEC §2b), each with its own
//! rule ids and words. Reconciliation, tiers and the district settings are common to all.

pub mod clever;
pub mod guardians_csv;
pub mod oneroster;

use model::district::DistrictSettings;
use model::link::{AccessTier, Decision, LinkOrigin, LinkRuleSet, RuleId};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use crate::rules::Verdict;
use crate::settings::{contact_selected, CONTACT_NOT_SYNCED};

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

    /// What the source stands for in its district (a property of the source, so the
    /// planner decides by it and never by which source it is).
    fn authority(&self) -> Authority {
        Authority::SystemOfRecord
    }
}

/// What a source's word covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The district's system of record: the whole roster (schools, staff, classrooms,
    /// students and their contacts), archives after a complete pull, and the links it
    /// relates — reconciled with local and form links.
    SystemOfRecord,
    /// A supplement of guardians and links only (a district's guardians.csv): it names
    /// students the district holds and never changes them; it sees and replaces only the
    /// links it made itself (origin `import`), which the system of record's runs keep.
    Supplement,
}

impl Authority {
    /// The origin of the links the source makes.
    pub fn link_origin(self) -> LinkOrigin {
        match self {
            Authority::SystemOfRecord => LinkOrigin::Sis,
            Authority::Supplement => LinkOrigin::Import,
        }
    }

    /// Whether the source's students, contacts, staff and classrooms are the district's.
    pub fn owns_roster(self) -> bool {
        self == Authority::SystemOfRecord
    }

    /// Whether the guardians the source names are connected to the district's SIS.
    pub fn sis_connected(self) -> bool {
        self == Authority::SystemOfRecord
    }
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
        LinkRuleSet::GuardiansCsv => &guardians_csv::GuardiansCsv,
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

/// The rule ids of a source whose relationships are plain lists (OneRoster `agents`, a
/// `guardians.csv` row): listed and of a selected type and relationship is Full.
#[derive(Debug)]
pub(crate) struct Listed {
    /// The account does not list the student.
    pub not_listed: &'static str,
    /// Listed, of a selected type and relationship: Full.
    pub full: &'static str,
    /// The fact naming the account.
    pub account_fact: &'static str,
}

/// Applies a [`Listed`] rule set.
pub(crate) fn listed(
    ids: &Listed,
    student: &SourceStudent,
    contacts: &[Contact],
    account: &GuardianAccount,
    settings: &DistrictSettings,
) -> Verdict {
    let base = Decision::new("")
        .fact("student", student.source_id.as_str())
        .fact(ids.account_fact, account.source_id.as_str());
    let tied = own_contacts(contacts, student, account);
    if !account.student_source_ids.contains(&student.source_id) || tied.is_empty() {
        return Verdict::Ignore(Decision {
            rule: RuleId::new(ids.not_listed),
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
            rule: RuleId::new(ids.full),
            ..base
        }
        .fact("role", roles),
    }
}
