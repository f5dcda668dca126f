//! The edge cases every generated district of at least 20 students holds, whatever the
//! seed. The generator builds them first (the first students, guardians and classes), so
//! their ids do not depend on the seed; only names and contact details do.

use std::collections::BTreeMap;

/// The sourcedIds of the edge-case records of a district.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cases {
    /// The student lists the guardian in `agents`; the guardian does not list the student.
    pub agent_student_side_guardian: String,
    pub agent_student_side_student: String,
    /// The guardian lists the student; the student does not list the guardian.
    pub agent_guardian_side_guardian: String,
    pub agent_guardian_side_student: String,
    /// `guardian`, `parent`, `relative` → a user of that role linked both ways to one
    /// student.
    pub role_guardians: BTreeMap<String, String>,
    /// A guardian with `sms` and no `phone`.
    pub sms_only_guardian: String,
    /// A guardian with `phone` and no `sms`.
    pub phone_only_guardian: String,
    pub sms_and_phone_guardian: String,
    /// A guardian with an e-mail but neither `sms` nor `phone`.
    pub no_phone_guardian: String,
    /// `enabledUser: "false"`, otherwise a normal, linked guardian.
    pub disabled_guardian: String,
    /// `status: "tobedeleted"`, still listed in its student's `agents`.
    pub tobedeleted_guardian: String,
    pub tobedeleted_student: String,
    /// `status: "inactive"` (the OneRoster 1.0 value).
    pub inactive_student: String,
    /// `status: "tobedeleted"`; its enrollments are still listed.
    pub tobedeleted_class: String,
    /// A guardian of two siblings, linked both ways to both.
    pub two_students_guardian: String,
    pub two_students: Vec<String>,
    /// A student without any agent.
    pub guardianless_student: String,
    /// A student with `preferredFirstName` / `preferredLastName` (served in 1.2 only).
    pub preferred_name_student: String,
    /// A teacher of two schools (1.1 `orgs` holds both; 1.2 two `roles`, the first
    /// primary). Empty in a one-school district.
    pub two_school_teacher: String,
    /// The district administrator (1.1 `administrator` of the district org, 1.2
    /// `districtAdministrator`).
    pub district_admin: String,
    /// One administrator per school (1.2 `siteAdministrator`, the first `principal`).
    pub site_admins: Vec<String>,
    /// A student whose `agents` names a user that does not exist (besides a real one).
    pub dangling_agent_student: String,
    /// The user id [`Cases::dangling_agent_student`] names that does not exist.
    pub dangling_agent_id: String,
    /// A class with two teacher enrollments (`primary` `"true"` then `"false"`).
    pub second_teacher_class: String,
    /// A class whose sourcedId holds a space and a `+` (percent-encode it in paths).
    pub odd_id_class: String,
}
