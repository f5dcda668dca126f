//! Records as a source hands them over, before the engine matches them to our accounts:
//! they carry the source's ids only, never ours.

use chrono::NaiveDate;

use crate::ids::SourceId;
use crate::roster::{Address, EnrollmentStatus, Gender};

/// A student as the source lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceStudent {
    pub source_id: SourceId,
    pub student_number: String,
    /// The student id the source's SIS gives (Clever `sis_id`), where the source holds one
    /// beside its own id: a district may show it instead of the student number (seed 004,
    /// "STUDENT ID or STUDENT NUMBER").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sis_id: String,
    pub state_id: String,
    pub legal_first_name: String,
    pub legal_last_name: String,
    pub middle_name: String,
    pub birth_date: Option<NaiveDate>,
    pub gender: Gender,
    pub school_source_id: Option<SourceId>,
    pub grade: String,
    pub enrollment_status: EnrollmentStatus,
    pub independent_student: bool,
    pub org_email: String,
    pub personal_email: String,
    /// The legacy parent web access id (PowerSchool `Students.Web_ID`), if any.
    pub web_id: String,
    /// The student's own e-mail as the source's contact details hold it.
    pub email: String,
    pub home_phone: String,
    pub mailing_address: Option<Address>,
    pub physical_address: Option<Address>,
}

/// A guardian's portal account as the source lists it (PowerSchool: a `Guardian` with
/// its PCAS account; Clever and OneRoster: a contact/guardian user), with the students it
/// may see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardianAccount {
    pub source_id: SourceId,
    pub first_name: String,
    pub last_name: String,
    /// The e-mail of the access account (its login e-mail).
    pub email: String,
    /// The account's login name.
    pub username: String,
    pub home_phone: String,
    pub mobile_phone: String,
    pub mailing_address: Option<Address>,
    pub physical_address: Option<Address>,
    /// The contact people behind the account (PowerSchool `GuardianPersonAssoc`).
    pub contact_source_ids: Vec<SourceId>,
    /// Students the account has active data access to.
    pub student_source_ids: Vec<SourceId>,
    /// Every number with the type the source gives it, when the source types its phones
    /// (Clever's one `phone` with its `phone_type`); empty when it does not, and then
    /// `home_phone` and `mobile_phone` are the numbers.
    #[serde(default)]
    pub phones: Vec<crate::roster::Phone>,
}

/// One student an account may see, sent apart from the account: the same as listing the
/// student in the account's `student_source_ids`, for a source that names each pair on
/// its own (a `guardians.csv`, row by row).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountStudent {
    pub account_source_id: SourceId,
    pub student_source_id: SourceId,
}

impl GuardianAccount {
    /// The address a guardian gets: mailing if present, else physical (seed 000).
    pub fn preferred_address(&self) -> Option<&Address> {
        self.mailing_address
            .as_ref()
            .filter(|a| !a.is_empty())
            .or(self.physical_address.as_ref().filter(|a| !a.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(mailing: Option<Address>, physical: Option<Address>) -> GuardianAccount {
        GuardianAccount {
            phones: Vec::new(),
            source_id: SourceId::new("700512"),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            email: "pat@example.com".into(),
            username: "pat@example.com".into(),
            home_phone: String::new(),
            mobile_phone: String::new(),
            mailing_address: mailing,
            physical_address: physical,
            contact_source_ids: vec![],
            student_source_ids: vec![],
        }
    }

    #[test]
    fn mailing_address_wins_and_physical_is_the_fallback() {
        let mailing = Address {
            street: "PO Box 9".into(),
            ..Address::default()
        };
        let physical = Address {
            street: "12 Elm St".into(),
            ..Address::default()
        };
        let both = account(Some(mailing.clone()), Some(physical.clone()));
        assert_eq!(both.preferred_address(), Some(&mailing));
        let empty_mailing = account(Some(Address::default()), Some(physical.clone()));
        assert_eq!(empty_mailing.preferred_address(), Some(&physical));
        assert_eq!(account(None, None).preferred_address(), None);
    }
}
