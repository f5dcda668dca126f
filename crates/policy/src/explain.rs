//! Every decision in words, for support: "why is this guardian Read-Only for this
//! student?" The rule id is stable; the sentence is built from the facts it used.

use model::link::Decision;

use crate::reconcile as r;
use crate::rule_sets;
use crate::rules::{
    self, decision_making, independent_student, matching_contact, student_guardian_detail,
    web_access_account,
};
use crate::settings;

/// One sentence (or two) explaining `decision`.
pub fn explain(decision: &Decision) -> String {
    let f = |name: &str| decision.facts.get(name).map_or("?", String::as_str);
    let base = match decision.rule.as_str() {
        rules::FULL_ACCESS => format!(
            "Full access: the SIS lists account {} for the student with data access, contact(s) {} share its e-mail {} and all are decision-making{}.",
            f("account"),
            f("matching_contacts"),
            f("account_email"),
            if f("independent") == "true" { ", and it is the independent student's own e-mail" } else { "" }
        ),
        rules::GUARDIANS_NOT_MANAGED => "Not linked: the district does not let the sync manage guardians (they come from guardians.csv).".to_owned(),
        web_access_account::RULE => format!(
            "Ignored (rule 1): account {} is a PowerSchool web access account — {} (login {:?}, student web id {:?}).",
            f("account"), f("why"), f("username"), f("student_web_id")
        ),
        student_guardian_detail::RULE => format!(
            "Ignored (rule 2): student_guardian_detail does not list account {} for this student (no active portal account with data access).",
            f("account")
        ),
        matching_contact::RULE => format!(
            "Ignored (rule 3): none of the student's {} contacts has the account's e-mail {:?}.",
            f("student_contacts"), f("account_email")
        ),
        settings::CONTACT_NOT_SYNCED => format!(
            "Not linked: the contacts sharing e-mail {:?} ({}) are of a type or relationship the district does not sync.",
            f("account_email"), f("matching_contacts")
        ),
        decision_making::RULE => format!(
            "Restricted (rule 4): contact(s) {} share the account's e-mail but are not decision-making (u_studentcontactdetail.isdecisionmaking is not 1).",
            f("not_decision_making")
        ),
        independent_student::RULE => format!(
            "Read-Only (rule 5, release of information): the student is independent and the account's e-mail {:?} is neither the org e-mail {:?} nor the personal e-mail {:?}.",
            f("account_email"), f("org_email"), f("personal_email")
        ),
        rule_sets::clever::NOT_LISTED => format!(
            "Not linked: Clever contact {}'s student relationships do not list this student.",
            f("contact")
        ),
        rule_sets::clever::FULL => format!(
            "Full access: Clever lists contact {} among the student's relationships ({}), a type and relationship the district syncs.",
            f("contact"), f("relationship")
        ),
        rule_sets::oneroster::NO_AGENT => format!(
            "Not linked: no OneRoster agents entry ties user {} and this student in either direction.",
            f("guardian_user")
        ),
        rule_sets::oneroster::FULL => format!(
            "Full access: OneRoster agents tie user {} to the student as {}, a role the district syncs, and both are active.",
            f("guardian_user"), f("role")
        ),
        rule_sets::guardians_csv::NOT_LISTED => format!(
            "Not linked: no row of the district's guardians.csv ties guardian {} to this student.",
            f("guardian")
        ),
        rule_sets::guardians_csv::FULL => format!(
            "Full access: the district's guardians.csv lists guardian {} for the student as {}, a relationship and contact type the district syncs.",
            f("guardian"), f("role")
        ),
        r::IMPORT_KEPT => "Kept: the district's guardians.csv made this link; only a later file changes it.".to_owned(),
        r::LOCAL_ONLY => "Kept: the link was made in the product, which is its source of truth; the SIS does not list it.".to_owned(),
        r::LOCAL_ALSO_IN_SIS => format!(
            "Kept as made in the product; the SIS lists it too and would give {} ({}).",
            f("sis_tier"), f("sis_rule")
        ),
        r::FORM_KEPT => "Kept: the guardian created a form for the student.".to_owned(),
        r::FORM_KEPT_INCOMPLETE => "Kept because the guardian created a form for the student, though the SIS does not link them; the account is marked incomplete until the connection is completed.".to_owned(),
        r::SIS_REMOVED => "Removed: the SIS no longer lists this relationship.".to_owned(),
        other => format!("Decided by rule {other}."),
    };
    match decision.facts.get("reconciliation").map(String::as_str) {
        Some(r::SIS_ONLY_CREATED) => format!("{base} New link from the SIS."),
        Some(r::SIS_ONLY_FORM_AUTHOR) => format!("{base} It took over the link of the matching guardian who created forms for the student."),
        Some(r::FORM_REPLACED_BY_SIS) => format!("{base} The SIS now lists the link that a form had kept."),
        Some(r::SIS_RETIERED) => format!("{base} The tier changed since the last sync."),
        Some(r::SIS_REMOVED) => format!("{base} The link is removed."),
        _ => base,
    }
}
