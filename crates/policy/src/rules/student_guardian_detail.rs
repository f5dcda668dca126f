//! Rule 2.
//!
//! > "A relationship must appear in the Student Guardian Detail PowerQuery. This query
//! > only returns users who have an active, linked Parent Portal Account with Data Access
//! > enabled." (seed 001)
//!
//! The account's `student_source_ids` are the students the query listed it for.

use model::link::{Decision, RuleId};
use model::source::{GuardianAccount, SourceStudent};

pub const RULE: &str = "ps.rule2.not_in_student_guardian_detail";

pub fn check(
    student: &SourceStudent,
    account: &GuardianAccount,
    base: Decision,
) -> Result<(), Decision> {
    if account.student_source_ids.contains(&student.source_id) {
        return Ok(());
    }
    Err(Decision {
        rule: RuleId::new(RULE),
        ..base
    }
    .fact("listed_students", account.student_source_ids.len()))
}
