//! Newtype ids, so a student id can never be passed where a guardian id is meant.

use std::fmt;
use std::str::FromStr;

use crate::error::FieldError;

/// A district's id: a slug chosen at creation (`cbe`, `springfield-usd`), lowercase ASCII
/// letters, digits and `-`, 1 to 63 characters, starting with a letter or digit.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct DistrictId(String);

impl DistrictId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DistrictId {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid_len = (1..=63).contains(&s.len());
        let valid_first = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid_len && valid_first && valid_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "district_id",
                format!(
                    "{} is not a district id: use 1-63 lowercase letters, digits and '-', starting with a letter or digit",
                    crate::limits::echo(s)
                ),
            ))
        }
    }
}

impl TryFrom<String> for DistrictId {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DistrictId> for String {
    fn from(id: DistrictId) -> Self {
        id.0
    }
}

impl fmt::Display for DistrictId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new random id.
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4())
            }

            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            /// The id a source record carries before it is matched to ours (all zeros):
            /// what a connector gives and a staged record keeps.
            pub fn unassigned() -> Self {
                Self(uuid::Uuid::nil())
            }

            /// The id a sync gives the record it creates from `source` in `district`:
            /// the same for the same source record whichever run, order or replica makes
            /// it, so a plan does not depend on the order a source sends records in.
            pub fn derived(district: &DistrictId, source: &SourceId) -> Self {
                let name = format!("{}/{}/{}", $field, district.as_str(), source.as_str());
                Self(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()))
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            /// The field name used when this id is rejected.
            pub const FIELD: &'static str = $field;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            /// Only the canonical form, `8-4-4-4-12` hexadecimal digits: braces, a `urn:`
            /// prefix or a UUID without dashes are refused, so one id has one spelling.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let canonical = s.len() == 36
                    && s.char_indices().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => c == '-',
                        _ => c.is_ascii_hexdigit(),
                    });
                canonical
                    .then(|| uuid::Uuid::parse_str(s).ok())
                    .flatten()
                    .map(Self)
                    .ok_or_else(|| {
                        FieldError::new(
                            $field,
                            format!(
                                "{} is not a valid id (expected a UUID such as 3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c)",
                                crate::limits::echo(s)
                            ),
                        )
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Our id of a student account.
    StudentId,
    "student_id"
);
uuid_id!(
    /// Our id of a guardian account.
    GuardianId,
    "guardian_id"
);
uuid_id!(
    /// Our id of a staff account.
    StaffId,
    "staff_id"
);
uuid_id!(
    /// Our id of a school.
    SchoolId,
    "school_id"
);
uuid_id!(
    /// Our id of a classroom (a section).
    ClassroomId,
    "classroom_id"
);
uuid_id!(
    /// Our id of a source-side contact record.
    ContactId,
    "contact_id"
);
uuid_id!(
    /// A district sync run.
    RunId,
    "run_id"
);
uuid_id!(
    /// One spot sync of one user.
    SpotSyncId,
    "spot_sync_id"
);

/// An id as the source system spells it (PowerSchool DCID, Clever id, OneRoster
/// sourcedId). Opaque: compared exactly, never parsed.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn district_ids_are_slugs() {
        assert!("cbe".parse::<DistrictId>().is_ok());
        assert!("springfield-usd-42".parse::<DistrictId>().is_ok());
        for bad in ["", "CBE", "-cbe", "cbe district", "cbe/1", &"a".repeat(64)] {
            let err = bad.parse::<DistrictId>().expect_err("must be refused");
            assert_eq!(err.path, "district_id", "{bad:?}");
        }
    }

    #[test]
    fn uuid_ids_round_trip_and_name_their_field() {
        let id = StudentId::new();
        assert_eq!(id.to_string().parse::<StudentId>().ok(), Some(id));
        let err = "nope".parse::<GuardianId>().expect_err("must be refused");
        assert_eq!(err.path, "guardian_id");
    }

    #[test]
    fn an_id_has_one_spelling() {
        let id = "3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c";
        assert!(id.parse::<StudentId>().is_ok());
        for other in [
            "{3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c}",
            "3f2a1c9e8b7d4e6fa5c42d1e0f9a8b7c",
            "urn:uuid:3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c",
            " 3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c",
        ] {
            assert!(other.parse::<StudentId>().is_err(), "{other}");
        }
        let huge = "x".repeat(3_000_000);
        let err = huge.parse::<StudentId>().expect_err("refused");
        assert!(err.message.len() < 300, "a bad value is quoted cut");
    }
}
