//! The link rules of a district's `guardians.csv` (SPEC §4, seeds 002 and 004): guardians
//! come "from other sources (e.g. the guardians.csv file)" when the sync does not manage
//! them.
//!
//! > A row ties a guardian to a student; the guardian is linked when the row's contact
//! > type and relationship are among the district's to sync — Full.
//!
//! A guardian is the same person across rows by e-mail (or, without one, by name and SMS
//! phone); the rows of a file are its whole list: a later file replaces the links an
//! earlier one made, and touches no other.

use model::district::DistrictSettings;
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use super::{listed, Authority, LinkRules, Listed};
use crate::rules::Verdict;

/// No row of the file ties the guardian and the student.
pub const NOT_LISTED: &str = "guardians_csv.not_listed";
/// A row ties them, of a selected type and relationship: full access.
pub const FULL: &str = "guardians_csv.link.full";

#[derive(Debug)]
pub struct GuardiansCsv;

impl LinkRules for GuardiansCsv {
    fn evaluate(
        &self,
        student: &SourceStudent,
        contacts: &[Contact],
        account: &GuardianAccount,
        settings: &DistrictSettings,
    ) -> Verdict {
        listed(
            &Listed {
                not_listed: NOT_LISTED,
                full: FULL,
                account_fact: "guardian",
            },
            student,
            contacts,
            account,
            settings,
        )
    }

    fn authority(&self) -> Authority {
        Authority::Supplement
    }
}
