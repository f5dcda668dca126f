//! Rule 1.
//!
//! > "Accounts directly linked to Web Access Accounts are ignored. These are internal to
//! > PowerSchool and are not visible in the interface." (seed 001)
//!
//! Our reading (SPEC §2): a web access account is a portal account whose login is the
//! student's legacy parent web access id (`Students.Web_ID`), or one with no contact
//! person behind it (no `GuardianPersonAssoc`) — a login no family member owns.

use model::link::{Decision, RuleId};
use model::source::{GuardianAccount, SourceStudent};

pub const RULE: &str = "ps.rule1.web_access_account";

pub fn check(
    student: &SourceStudent,
    account: &GuardianAccount,
    base: Decision,
) -> Result<(), Decision> {
    let web_id = student.web_id.trim();
    let is_web_id = !web_id.is_empty() && account.username.trim().eq_ignore_ascii_case(web_id);
    let no_person = account.contact_source_ids.is_empty();
    if !is_web_id && !no_person {
        return Ok(());
    }
    let why = if is_web_id {
        "the account's login is the student's web access id"
    } else {
        "no contact person stands behind the account"
    };
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("username", &account.username)
    .fact("student_web_id", web_id)
    .fact("contact_persons", account.contact_source_ids.len())
    .fact("why", why))
}
