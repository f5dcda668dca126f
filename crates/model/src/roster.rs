//! The people and places of a roster, as every connector maps them (SPEC §1).

use chrono::NaiveDate;

use std::collections::BTreeSet;

use crate::district::StaffPermission;
use crate::ids::{ClassroomId, GuardianId, SchoolId, SourceId, StaffId, StudentId};

/// Declares an enum of known source values plus `Other(String)` for anything new, so an
/// unknown value from a source is kept (and warned about) instead of failing a run.
macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $canon:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know, kept as the source spelled it.
            Other(String),
        }

        impl $name {
            /// The canonical lowercase name (`Other` keeps the source's spelling).
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $canon,)+
                    $name::Other(s) => s,
                }
            }

            /// Reads a source value, trimmed and case-insensitively; unknown values
            /// become `Other`.
            pub fn parse(raw: &str) -> Self {
                let s = raw.trim().to_ascii_lowercase();
                match s.as_str() {
                    $($canon $(| $alias)* => $name::$variant,)+
                    _ => $name::Other(raw.trim().to_owned()),
                }
            }

            /// Whether this is a value the source vocabulary did not define.
            pub fn is_other(&self) -> bool {
                matches!(self, $name::Other(_))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

open_enum!(
    /// How a contact is related to the student.
    Relationship {
        Parent => "parent",
        Mother => "mother",
        Father => "father",
        Guardian => "guardian" | "legal guardian",
        Grandparent => "grandparent" | "grandmother" | "grandfather",
        StepParent => "step-parent" | "stepparent" | "step parent" | "stepmother" | "stepfather",
        FosterParent => "foster parent" | "foster-parent" | "fosterparent",
        Sibling => "sibling" | "brother" | "sister",
        Relative => "relative" | "aunt" | "uncle" | "aunt/uncle" | "cousin",
        Friend => "friend" | "family friend",
        // The student is their own contact (PowerSchool and Clever send `Self`).
        SelfContact => "self",
        // The source's own "other" relationship (PowerSchool and Clever send `Other`): a
        // known value, not an unknown one.
        OtherRelationship => "other",
    }
);

open_enum!(
    /// What kind of contact a source says a person is.
    ContactType {
        Guardian => "guardian" | "parent/guardian",
        Parent => "parent",
        Emergency => "emergency",
        Family => "family",
        // Clever's `Primary`, `Secondary` and `Other` contact types.
        Primary => "primary",
        Secondary => "secondary",
        OtherContactType => "other",
    }
);

open_enum!(
    /// The type of a phone number.
    PhoneType {
        Home => "home",
        Cell => "cell" | "mobile",
        Work => "work" | "business",
        // Clever's `Other` phone type.
        OtherPhoneType => "other",
    }
);

open_enum!(
    /// Gender as the source records it.
    Gender {
        Female => "f" | "female",
        Male => "m" | "male",
        NonBinary => "x" | "nonbinary" | "non-binary",
        Unspecified => "u" | "unspecified" | "",
    }
);

open_enum!(
    /// A student's enrollment status. PowerSchool codes: 0 active, −1 pre-registered,
    /// 2 transferred out, 3 graduated, 4 historical, others inactive.
    EnrollmentStatus {
        Active => "active",
        PreRegistered => "pre-registered" | "preregistered",
        Inactive => "inactive",
        Transferred => "transferred",
        Graduated => "graduated",
        Historical => "historical",
    }
);

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        self.street.is_empty()
            && self.city.is_empty()
            && self.region.is_empty()
            && self.postal_code.is_empty()
    }
}

/// A phone number with its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    pub number: String,
    pub kind: PhoneType,
}

/// A school of the district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct School {
    pub id: SchoolId,
    pub source_id: SourceId,
    pub school_number: String,
    pub name: String,
    pub archived: bool,
}

/// A student account (SPEC §1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Student {
    pub id: StudentId,
    /// The source's id of the student (PowerSchool DCID, Clever id, sourcedId).
    pub source_id: SourceId,
    pub student_number: String,
    /// State or provincial id; the Alberta Student Number (ASN) in Alberta.
    pub state_id: String,
    pub legal_first_name: String,
    pub legal_last_name: String,
    pub middle_name: String,
    pub birth_date: Option<NaiveDate>,
    pub gender: Gender,
    /// The source id of the current school.
    pub school_source_id: Option<SourceId>,
    pub grade: String,
    pub enrollment_status: EnrollmentStatus,
    /// Enrollment type 121 (PowerSchool Alberta `s_ab_stu_x.enrlytype1/2/3`).
    pub independent_student: bool,
    pub org_email: String,
    pub personal_email: String,
    /// The legacy parent web access id (`Students.Web_ID`), if the source has one.
    pub web_id: String,
    pub archived: bool,
}

/// Whether a guardian account is in use (SPEC §1, seed 001 "Incomplete").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Created by a sync, never signed in.
    #[default]
    Pending,
    /// In use: the guardian has signed in.
    Active,
    /// Linked to a student only through a form they created, not through the SIS:
    /// limited access at login until they complete the connection.
    Incomplete,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(AccountStatus::Pending),
            "active" => Some(AccountStatus::Active),
            "incomplete" => Some(AccountStatus::Incomplete),
            _ => None,
        }
    }
}

/// A guardian account in our product.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Guardian {
    pub id: GuardianId,
    /// The source's id of the account (PowerSchool guardian id, Clever contact id); `None`
    /// for an account made in our product only.
    pub source_id: Option<SourceId>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub home_phone: String,
    /// The SMS field: login method and where SMS and calls go.
    pub mobile_phone: String,
    pub address: Address,
    pub status: AccountStatus,
    /// Whether the account is connected to the district's SIS.
    pub sis_connected: bool,
    pub archived: bool,
}

/// A source-side contact of one student, who may or may not become a guardian account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub source_id: SourceId,
    pub student_source_id: SourceId,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub relationship: Relationship,
    pub contact_type: ContactType,
    pub phones: Vec<Phone>,
    /// `u_studentcontactdetail.isdecisionmaking` (PowerSchool, seed 001 rule 4); `None`
    /// when the source has no such field.
    pub decision_making: Option<bool>,
}

/// A staff member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub source_id: SourceId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub school_source_ids: Vec<SourceId>,
    /// What the sync grants the staff member (the district's staff permissions).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub permissions: BTreeSet<StaffPermission>,
    pub archived: bool,
}

/// A classroom (a section).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Classroom {
    pub id: ClassroomId,
    pub source_id: SourceId,
    pub school_source_id: SourceId,
    pub name: String,
    pub archived: bool,
}

/// Who an enrollment puts in a classroom.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentRole {
    Student,
    Teacher,
}

impl EnrollmentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentRole::Student => "student",
            EnrollmentRole::Teacher => "teacher",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "student" => Some(EnrollmentRole::Student),
            "teacher" => Some(EnrollmentRole::Teacher),
            _ => None,
        }
    }
}

/// A student or staff member in a classroom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enrollment {
    pub classroom_source_id: SourceId,
    pub person_source_id: SourceId,
    pub role: EnrollmentRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_and_other_are_known_relationships_not_unknown_ones() {
        for (raw, known) in [
            ("Self", Relationship::SelfContact),
            ("self", Relationship::SelfContact),
            ("Other", Relationship::OtherRelationship),
        ] {
            let parsed = Relationship::parse(raw);
            assert_eq!(parsed, known);
            assert!(!parsed.is_other(), "{raw} would be warned about as unknown");
        }
        assert_eq!(Relationship::OtherRelationship.as_str(), "other");
    }

    #[test]
    fn unknown_source_values_become_other_and_keep_their_spelling() {
        assert_eq!(
            Relationship::parse(" Grandmother "),
            Relationship::Grandparent
        );
        assert_eq!(
            Relationship::parse("Probation Officer"),
            Relationship::Other("Probation Officer".into())
        );
        assert_eq!(PhoneType::parse("Mobile"), PhoneType::Cell);
        assert!(ContactType::parse("Doctor").is_other());
    }

    #[test]
    fn open_enums_serialize_as_their_names() {
        let json = serde_json::to_string(&PhoneType::Home).unwrap_or_default();
        assert_eq!(json, "\"home\"");
        let back: Relationship =
            serde_json::from_str("\"Guardian\"").unwrap_or(Relationship::Parent);
        assert_eq!(back, Relationship::Guardian);
    }
}
