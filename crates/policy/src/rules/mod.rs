//! Seed 001's relationship synchronization rules, one file each, applied in order to one
//! (student, guardian account) pair from the SIS. The first rule that rejects decides;
//! rules 4 and 5 only lower the tier.
//!
//! > A relationship must satisfy rules 1–3 to count; rule 4 limits it to Restricted and
//! > rule 5 to Read-Only. When rules 4 and 5 both fail the tier is Restricted: Read-Only
//! > is for "an account [that] meets criteria 1-4 but does not meet criterion 5".

pub mod decision_making;
pub mod independent_student;
pub mod matching_contact;
pub mod student_guardian_detail;
pub mod web_access_account;

use model::district::DistrictSettings;
use model::link::{AccessTier, Decision};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use crate::settings::contact_selected;

/// What the rules make of one SIS relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The relationship counts: link with this tier.
    Link {
        tier: AccessTier,
        decision: Decision,
    },
    /// The relationship does not count.
    Ignore(Decision),
}

impl Verdict {
    pub fn decision(&self) -> &Decision {
        match self {
            Verdict::Link { decision, .. } | Verdict::Ignore(decision) => decision,
        }
    }

    pub fn tier(&self) -> Option<AccessTier> {
        match self {
            Verdict::Link { tier, .. } => Some(*tier),
            Verdict::Ignore(_) => None,
        }
    }
}

/// Rule id: the district does not let the sync manage guardians (SPEC §4).
pub const GUARDIANS_NOT_MANAGED: &str = "settings.guardians_not_managed";
/// Rule id: every rule holds; full access.
pub const FULL_ACCESS: &str = "ps.link.full";

/// Applies rules 1–5 to `account` for `student`. `contacts` may hold other students'
/// contacts too; only the student's own count.
pub fn evaluate(
    student: &SourceStudent,
    contacts: &[Contact],
    account: &GuardianAccount,
    settings: &DistrictSettings,
) -> Verdict {
    let base = Decision::new("")
        .fact("student", student.source_id.as_str())
        .fact("account", account.source_id.as_str());
    if !settings.manage_guardians {
        return Verdict::Ignore(Decision {
            rule: model::link::RuleId::new(GUARDIANS_NOT_MANAGED),
            ..base
        });
    }
    if let Err(d) = web_access_account::check(student, account, base.clone()) {
        return Verdict::Ignore(d);
    }
    if let Err(d) = student_guardian_detail::check(student, account, base.clone()) {
        return Verdict::Ignore(d);
    }
    let matching = match matching_contact::check(contacts, student, account, base.clone()) {
        Ok(m) => m,
        Err(d) => return Verdict::Ignore(d),
    };
    if !matching.iter().any(|c| contact_selected(c, settings)) {
        let kinds: Vec<String> = matching
            .iter()
            .map(|c| format!("{}/{}", c.contact_type.as_str(), c.relationship.as_str()))
            .collect();
        return Verdict::Ignore(
            Decision {
                rule: model::link::RuleId::new(crate::settings::CONTACT_NOT_SYNCED),
                ..base
            }
            .fact("account_email", &account.email)
            .fact("matching_contacts", kinds.join(", ")),
        );
    }
    let rule4 = decision_making::check(&matching, base.clone());
    let rule5 = independent_student::check(student, account, base.clone());
    match (rule4, rule5) {
        (Err(d), Err(_)) => Verdict::Link {
            tier: AccessTier::Restricted,
            decision: d.fact("rule5", "also fails: independent student, e-mail is neither the org nor the personal e-mail"),
        },
        (Err(d), Ok(())) => Verdict::Link {
            tier: AccessTier::Restricted,
            decision: d,
        },
        (Ok(()), Err(d)) => Verdict::Link {
            tier: AccessTier::ReadOnly,
            decision: d,
        },
        (Ok(()), Ok(())) => Verdict::Link {
            tier: AccessTier::Full,
            decision: Decision {
                rule: model::link::RuleId::new(FULL_ACCESS),
                ..base
            }
            .fact("account_email", &account.email)
            .fact("matching_contacts", ids(&matching))
            .fact("independent", student.independent_student),
        },
    }
}

/// The ids of `contacts`, comma-separated.
pub(crate) fn ids(contacts: &[&Contact]) -> String {
    contacts
        .iter()
        .map(|c| c.source_id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
