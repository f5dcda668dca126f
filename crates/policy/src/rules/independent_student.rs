//! Rule 5.
//!
//! > "If any of the fields s_ab_stu_x.enrlytype1, s_ab_stu_x.enrlytype2, or
//! > s_ab_stu_x.enrlytype3 contain the value 121 (representing Independent Students), the
//! > linked contact's email must match either u_student.orgemail or u_student.personalemail
//! > in order to gain full access. If the account meets criteria 1-4 but does not meet
//! > criterion 5, it indicates a parent who has signed a Release of Information. As a
//! > result, they will have limited Read-Only access to the student." (seed 001)
//!
//! The linked contact's e-mail is the account's (rule 3 matched them).

use model::link::{Decision, RuleId};
use model::source::{GuardianAccount, SourceStudent};

use crate::email::same_email;

pub const RULE: &str = "ps.rule5.release_of_information";

pub fn check(
    student: &SourceStudent,
    account: &GuardianAccount,
    base: Decision,
) -> Result<(), Decision> {
    if !student.independent_student
        || same_email(&account.email, &student.org_email)
        || same_email(&account.email, &student.personal_email)
    {
        return Ok(());
    }
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("account_email", &account.email)
    .fact("org_email", &student.org_email)
    .fact("personal_email", &student.personal_email))
}
