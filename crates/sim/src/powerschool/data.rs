//! The district as PowerSchool keeps it: one plain struct per table row, one `Vec` per
//! table. Everything the simulator serves is read from here, and tests edit it live.
//!
//! Field names are readable Rust; the PowerSchool column each one is served as is named in
//! [`super::tables`].

use std::collections::HashMap;

use chrono::NaiveDate;

use super::cases::Cases;

/// A row of `Schools` (`/ws/v1/district/school`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    /// `Schools.DCID`, the `id` of `/ws/v1`.
    pub dcid: u64,
    pub school_number: u64,
    pub name: String,
    pub low_grade: i32,
    pub high_grade: i32,
}

/// A street address as `/ws/v1` students carry it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostalAddress {
    pub street: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
}

/// The district extension `u_student` (one row per student, fields may be absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UStudent {
    pub orgemail: Option<String>,
    pub personalemail: Option<String>,
}

/// The Alberta extension `s_ab_stu_x`; an enrollment type of `"121"` in any of the three
/// fields marks an independent student.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SAbStuX {
    pub enrlytype1: Option<String>,
    pub enrlytype2: Option<String>,
    pub enrlytype3: Option<String>,
}

impl SAbStuX {
    /// The enrollment type fields that hold a value, by name.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("enrlytype1", &self.enrlytype1),
            ("enrlytype2", &self.enrlytype2),
            ("enrlytype3", &self.enrlytype3),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }
}

/// `StudentCoreFields`, PowerSchool's one-to-one extension of `Students`: the legal names
/// when they differ from the names `Students` holds (which are the preferred ones). Blank
/// for most students.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StudentCoreFields {
    pub pscore_legal_first_name: Option<String>,
    pub pscore_legal_middle_name: Option<String>,
    pub pscore_legal_last_name: Option<String>,
}

impl StudentCoreFields {
    /// The fields that hold a value, by name.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("pscore_legal_first_name", &self.pscore_legal_first_name),
            ("pscore_legal_middle_name", &self.pscore_legal_middle_name),
            ("pscore_legal_last_name", &self.pscore_legal_last_name),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }
}

/// A row of `Students` with its extension tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// `Students.DCID`, the `id` of `/ws/v1`.
    pub dcid: u64,
    /// `Students.ID`, an internal number that is not the DCID.
    pub id: u64,
    /// `Student_Number`, the `local_id` of `/ws/v1`.
    pub local_id: u64,
    /// `Student_Web_ID`, the student's own login.
    pub student_username: String,
    /// `Web_ID`, the legacy parent "Access ID"; empty when none.
    pub web_id: String,
    /// `State_StudentNumber`, the 9-digit Alberta Student Number.
    pub state_province_id: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    /// `"M"`, `"F"` or occasionally `"X"`.
    pub gender: String,
    pub birth_date: NaiveDate,
    pub school_dcid: u64,
    /// `Students.SchoolID`, the school's number.
    pub school_number: u64,
    /// −1 pre-kindergarten, 0 kindergarten, 1–12.
    pub grade_level: i32,
    /// 0 active, −1 pre-registered, 2 transferred out, 3 graduated, 4 historical, other
    /// values inactive.
    pub enroll_status_code: i32,
    pub entry_date: NaiveDate,
    pub exit_date: NaiveDate,
    pub physical_address: Option<PostalAddress>,
    pub mailing_address: Option<PostalAddress>,
    /// `Home_Phone`; empty when none.
    pub home_phone: String,
    pub u_student: UStudent,
    pub s_ab_stu_x: SAbStuX,
    pub studentcorefields: StudentCoreFields,
}

impl Student {
    /// A legal name: the `StudentCoreFields` one, or the `Students` one when blank.
    fn legal<'a>(core: &'a Option<String>, name: &'a str) -> &'a str {
        core.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(name)
    }

    pub fn legal_first_name(&self) -> &str {
        Self::legal(
            &self.studentcorefields.pscore_legal_first_name,
            &self.first_name,
        )
    }

    pub fn legal_middle_name(&self) -> &str {
        Self::legal(
            &self.studentcorefields.pscore_legal_middle_name,
            &self.middle_name,
        )
    }

    pub fn legal_last_name(&self) -> &str {
        Self::legal(
            &self.studentcorefields.pscore_legal_last_name,
            &self.last_name,
        )
    }
}

/// The letter and description PowerSchool gives an enrollment status code.
pub fn enroll_status(code: i32) -> (&'static str, &'static str) {
    match code {
        0 => ("A", "Active"),
        -1 => ("P", "Pre-Registered"),
        2 => ("T", "Transferred Out"),
        3 => ("G", "Graduated"),
        4 => ("H", "Historical"),
        _ => ("I", "Inactive"),
    }
}

impl Student {
    /// The enrollment status letter (`A`, `P`, `T`, `G`, `H`, `I`).
    pub fn enroll_status(&self) -> &'static str {
        enroll_status(self.enroll_status_code).0
    }

    /// Whether the district's sync takes this student (status ≤ 0).
    pub fn is_current(&self) -> bool {
        self.enroll_status_code <= 0
    }

    /// Whether any enrollment type is 121.
    pub fn is_independent(&self) -> bool {
        self.s_ab_stu_x
            .fields()
            .iter()
            .any(|(_, value)| *value == "121")
    }
}

/// A row of `Person`: anyone who can be a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
}

/// A row of `StudentContactAssoc`: a person is a contact of a student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentContactAssoc {
    pub id: u64,
    pub student_dcid: u64,
    pub person_id: u64,
    pub contact_priority_order: u32,
}

/// A row of `StudentContactDetail`: how a contact relates to the student, over time;
/// the active row is the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentContactDetail {
    pub id: u64,
    pub student_contact_assoc_id: u64,
    pub relationship_type_codeset_id: u64,
    pub is_active: bool,
    pub is_custodial: bool,
    pub is_emergency: bool,
}

/// A row of the district extension `u_studentcontactdetail` (may be absent for a detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UStudentContactDetail {
    pub student_contact_detail_id: u64,
    pub is_decision_making: bool,
}

/// A row of `PersonEmailAddressAssoc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEmailAddressAssoc {
    pub id: u64,
    pub person_id: u64,
    pub email_address_id: u64,
    pub is_primary: bool,
    pub priority_order: u32,
}

/// A row of `EmailAddress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    pub id: u64,
    pub address: String,
}

/// A row of `PersonPhoneNumberAssoc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPhoneNumberAssoc {
    pub id: u64,
    pub person_id: u64,
    pub phone_number_id: u64,
    pub phone_type_codeset_id: u64,
    pub is_preferred: bool,
    pub priority_order: u32,
}

/// A row of `PhoneNumber`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub id: u64,
    pub number: String,
}

/// A row of `PersonAddressAssoc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAddressAssoc {
    pub id: u64,
    pub person_id: u64,
    pub person_address_id: u64,
    pub address_type_codeset_id: u64,
    pub priority_order: u32,
}

/// A row of `PersonAddress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAddress {
    pub id: u64,
    pub street: String,
    pub city: String,
    pub state_codeset_id: u64,
    pub postal_code: String,
}

/// A row of `CodeSet`: relationship, phone, address and state codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSet {
    pub id: u64,
    /// `"Relationship"`, `"Phone"`, `"Address"` or `"State"`.
    pub code_type: String,
    pub code: String,
}

/// A row of `Guardian`: a parent-portal account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardian {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub state_guardian_number: String,
    /// Joins `PCAS_Account.PCAS_AccountToken`.
    pub account_identifier: String,
}

/// A row of `PCAS_Account`: the login behind a guardian account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcasAccount {
    pub id: u64,
    /// Equals `Guardian.AccountIdentifier`.
    pub account_token: String,
    pub username: String,
    pub is_enabled: bool,
}

/// A row of `PCAS_EmailContact`: the login e-mail of a PCAS account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcasEmailContact {
    pub id: u64,
    pub pcas_account_id: u64,
    pub email_address: String,
}

/// A row of `GuardianPersonAssoc`: the contact person behind a guardian account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianPersonAssoc {
    pub id: u64,
    pub guardian_id: u64,
    pub person_id: u64,
}

/// A row of `GuardianStudent`: "Data Access" of a guardian account to a student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianStudent {
    pub id: u64,
    pub guardian_id: u64,
    pub student_dcid: u64,
}

/// A generated PowerSchool district: every table the simulator serves, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct District {
    pub schools: Vec<School>,
    /// All students, whatever their enrollment status.
    pub students: Vec<Student>,
    pub persons: Vec<Person>,
    pub student_contact_assocs: Vec<StudentContactAssoc>,
    pub student_contact_details: Vec<StudentContactDetail>,
    pub u_student_contact_details: Vec<UStudentContactDetail>,
    pub person_email_address_assocs: Vec<PersonEmailAddressAssoc>,
    pub email_addresses: Vec<EmailAddress>,
    pub person_phone_number_assocs: Vec<PersonPhoneNumberAssoc>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub person_address_assocs: Vec<PersonAddressAssoc>,
    pub person_addresses: Vec<PersonAddress>,
    pub codesets: Vec<CodeSet>,
    pub guardians: Vec<Guardian>,
    pub pcas_accounts: Vec<PcasAccount>,
    pub pcas_email_contacts: Vec<PcasEmailContact>,
    pub guardian_person_assocs: Vec<GuardianPersonAssoc>,
    pub guardian_students: Vec<GuardianStudent>,
    pub staff: Vec<super::sections::StaffMember>,
    /// The course catalogue sections name by `course_id`.
    pub courses: Vec<super::courses::Course>,
    pub sections: Vec<super::sections::Section>,
    pub section_enrollments: Vec<super::sections::SectionEnrollment>,
    /// The ids of the edge-case records.
    pub cases: Cases,
}

impl District {
    /// The ids of the edge-case records every generated district holds.
    pub fn cases(&self) -> &Cases {
        &self.cases
    }

    pub fn school(&self, dcid: u64) -> Option<&School> {
        self.schools.iter().find(|s| s.dcid == dcid)
    }

    pub fn student(&self, dcid: u64) -> Option<&Student> {
        self.students.iter().find(|s| s.dcid == dcid)
    }

    pub fn student_mut(&mut self, dcid: u64) -> Option<&mut Student> {
        self.students.iter_mut().find(|s| s.dcid == dcid)
    }

    /// The code set row with this id.
    pub fn codeset(&self, id: u64) -> Option<&CodeSet> {
        self.codesets.iter().find(|c| c.id == id)
    }

    /// The id of a code, e.g. `("Relationship", "Mother")`.
    pub fn codeset_id(&self, code_type: &str, code: &str) -> Option<u64> {
        self.codesets
            .iter()
            .find(|c| c.code_type == code_type && c.code == code)
            .map(|c| c.id)
    }

    /// Code sets by id, for joins over many rows.
    pub fn codes_by_id(&self) -> HashMap<u64, &CodeSet> {
        self.codesets.iter().map(|c| (c.id, c)).collect()
    }

    /// One more than the largest id of any row, for tests that add rows.
    pub fn next_id(&self) -> u64 {
        let ids = self
            .schools
            .iter()
            .map(|r| r.dcid)
            .chain(self.students.iter().map(|r| r.dcid))
            .chain(self.persons.iter().map(|r| r.id))
            .chain(self.student_contact_assocs.iter().map(|r| r.id))
            .chain(self.student_contact_details.iter().map(|r| r.id))
            .chain(self.person_email_address_assocs.iter().map(|r| r.id))
            .chain(self.email_addresses.iter().map(|r| r.id))
            .chain(self.person_phone_number_assocs.iter().map(|r| r.id))
            .chain(self.phone_numbers.iter().map(|r| r.id))
            .chain(self.person_address_assocs.iter().map(|r| r.id))
            .chain(self.person_addresses.iter().map(|r| r.id))
            .chain(self.codesets.iter().map(|r| r.id))
            .chain(self.guardians.iter().map(|r| r.id))
            .chain(self.pcas_accounts.iter().map(|r| r.id))
            .chain(self.pcas_email_contacts.iter().map(|r| r.id))
            .chain(self.guardian_person_assocs.iter().map(|r| r.id))
            .chain(self.guardian_students.iter().map(|r| r.id))
            .chain(self.staff.iter().map(|r| r.dcid))
            .chain(
                self.staff
                    .iter()
                    .flat_map(|r| r.school_staff_ids.iter().map(|(_, id)| *id)),
            )
            .chain(self.courses.iter().map(|r| r.id))
            .chain(self.sections.iter().map(|r| r.dcid))
            .chain(self.section_enrollments.iter().map(|r| r.id));
        ids.max().unwrap_or(0) + 1
    }
}
