//! The edge cases of the link rules (seed 001) that every generated district of at least
//! 20 students holds, whatever the seed: each is built by one family builder below, placed
//! at a random position among the random families.

use super::generate::{Builder, Member};
use super::rows::{Decision, Link};
use crate::kit::names;

/// The ids (as PowerSchool renders them) of the edge-case records of a district.
/// Student ids are DCIDs, contact ids are person ids, guardian ids are guardian ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cases {
    /// Independent student (`s_ab_stu_x.enrlytype2 = "121"`) whose guardian account and
    /// contact e-mail equal the student's `u_student.personalemail`: full access.
    pub independent_full_student: String,
    pub independent_full_guardian: String,
    pub independent_full_contact: String,
    /// Independent student (`enrlytype3 = "121"`) whose guardian's e-mail matches neither
    /// the org nor the personal e-mail: read-only access.
    pub independent_read_only_student: String,
    pub independent_read_only_guardian: String,
    /// A custodial contact whose `u_studentcontactdetail.isdecisionmaking` is `"0"`, with
    /// a portal account on the contact's e-mail.
    pub not_decision_making_student: String,
    pub not_decision_making_contact: String,
    pub not_decision_making_guardian: String,
    /// A custodial contact without a `u_studentcontactdetail` row, with a portal account.
    pub no_decision_row_student: String,
    pub no_decision_row_contact: String,
    pub no_decision_row_guardian: String,
    /// Two contacts of one student sharing one e-mail; only the first is decision-making.
    /// The guardian account logs in with that e-mail and belongs to the first.
    pub shared_email_student: String,
    pub shared_email_decision_making_contact: String,
    pub shared_email_other_contact: String,
    pub shared_email_guardian: String,
    /// A guardian account tied to a legacy web access account: its username is the
    /// student's `Web_ID`, no `GuardianPersonAssoc` row, and its e-mail is a contact's.
    pub web_access_student: String,
    pub web_access_guardian: String,
    /// A guardian account (of a contact person) whose e-mail matches no contact of the
    /// student.
    pub unmatched_email_student: String,
    pub unmatched_email_guardian: String,
    /// A guardian account whose PCAS account is disabled: not returned by
    /// `student_guardian_detail`.
    pub disabled_student: String,
    pub disabled_guardian: String,
    /// A guardian without a `GuardianStudent` (data access) row for this student, though
    /// it has one for the student's sibling: not returned for this student.
    pub no_data_access_student: String,
    pub no_data_access_guardian: String,
    /// Enrollment status −1.
    pub pre_registered_student: String,
    /// Enrollment status 1 or 5 (not returned by the status ≤ 0 query).
    pub inactive_student: String,
    /// Enrollment status 2.
    pub transferred_student: String,
    /// Enrollment status 3.
    pub graduated_student: String,
    /// A guardian whose contact person has a mailing and a home address.
    pub mailing_address_guardian: String,
    /// A guardian whose contact person has a home address only.
    pub physical_only_guardian: String,
    /// A contact with the relationship code `"Probation Officer"`.
    pub unknown_relationship_student: String,
    pub unknown_relationship_contact: String,
    /// A student with a contact whose only detail row is inactive (not a current contact).
    pub inactive_detail_student: String,
    pub inactive_detail_contact: String,
    /// A guardian with data access to two siblings in different schools (when the
    /// district has two schools or more).
    pub sibling_guardian: String,
    pub sibling_students: Vec<String>,
    /// A student whose gender is `"X"`.
    pub gender_x_student: String,
    /// An active student whose preferred first name (`Students.First_Name`) differs from
    /// the legal one (`StudentCoreFields.pscore_legal_first_name`); empty in a district
    /// too small to hold one.
    pub preferred_name_student: String,
}

/// A builder of one edge-case family.
pub(super) type CaseFamily = fn(&mut Builder, &mut Cases);

/// The edge-case families, in a fixed order.
pub(super) const FAMILIES: &[CaseFamily] = &[
    siblings,
    independent_full,
    independent_read_only,
    shared_email,
    decision_rows,
    web_access,
    disabled_account,
    |b, c| c.pre_registered_student = one_student(b, -1, None),
    |b, c| {
        let code = if b.rng.bool() { 1 } else { 5 };
        c.inactive_student = one_student(b, code, None);
    },
    |b, c| c.transferred_student = one_student(b, 2, None),
    |b, c| c.graduated_student = one_student(b, 3, None),
    |b, c| c.gender_x_student = one_student(b, 0, Some("X")),
];

/// How many students the edge-case families hold together.
pub(super) const CASE_STUDENTS: usize = 13;

fn one_student(b: &mut Builder, status: i32, gender: Option<&'static str>) -> String {
    let member = Member {
        school: None,
        status,
        gender,
    };
    let students = b.random_family(&[member]);
    students.first().map(u64::to_string).unwrap_or_default()
}

/// Siblings in two schools; the mother's account sees both and she has a mailing address,
/// the father's sees only the first and he has a home address only.
fn siblings(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let first = Member {
        school: Some(0),
        ..Member::active()
    };
    let second = Member {
        school: Some(1),
        ..Member::active()
    };
    let s1 = b.add_student(&family, first);
    let s2 = b.add_student(&family, second);
    let mut mother = b.person_spec(&family, true);
    mother.addresses = vec![(b.codes.address_home, family.address.clone())];
    let mut mailing = family.address.clone();
    mailing.street = format!("PO Box {}", b.rng.u32(100..9999));
    mother.addresses.push((b.codes.address_mailing, mailing));
    let mut father = b.person_spec(&family, false);
    father.addresses = vec![(b.codes.address_home, family.address.clone())];
    let p1 = b.add_person(&mother);
    let p2 = b.add_person(&father);
    for student in [s1, s2] {
        b.link(
            student,
            p1,
            1,
            Link::parent(b.codes.mother, Decision::Yes),
            false,
        );
        b.link(
            student,
            p2,
            2,
            Link::parent(b.codes.father, Decision::Yes),
            false,
        );
    }
    let g1 = b.account_for(p1, &mother, true);
    let g2 = b.account_for(p2, &father, true);
    b.grant(g1, s1);
    b.grant(g1, s2);
    b.grant(g2, s1);
    c.sibling_guardian = g1.to_string();
    c.sibling_students = vec![s1.to_string(), s2.to_string()];
    c.mailing_address_guardian = g1.to_string();
    c.physical_only_guardian = g2.to_string();
    c.no_data_access_guardian = g2.to_string();
    c.no_data_access_student = s2.to_string();
}

/// A high-school student of `family`, independent: enrollment type 121 in field `slot`
/// (1–3), an org e-mail, and type 100 elsewhere.
fn independent_student(b: &mut Builder, family: &super::generate::Family, slot: usize) -> u64 {
    let school = b.school_with_grade(10);
    let student = b.add_student(
        family,
        Member {
            school,
            ..Member::active()
        },
    );
    if let Some(s) = b.d.students.iter_mut().find(|s| s.dcid == student) {
        let x = &mut s.s_ab_stu_x;
        x.enrlytype1 = Some("100".to_owned());
        x.enrlytype2 = None;
        x.enrlytype3 = None;
        let value = Some("121".to_owned());
        match slot {
            1 => x.enrlytype1 = value,
            2 => x.enrlytype2 = value,
            _ => x.enrlytype3 = value,
        }
        s.u_student.orgemail = Some(format!("{}@{}", s.student_username, names::DISTRICT_DOMAIN));
    }
    student
}

fn independent_full(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = independent_student(b, &family, 2);
    let parent = b.person_spec(&family, true);
    let person = b.add_person(&parent);
    b.link(
        student,
        person,
        1,
        Link::parent(b.codes.mother, Decision::Yes),
        false,
    );
    let guardian = b.account_for(person, &parent, true);
    b.grant(guardian, student);
    let email = parent.emails.first().cloned();
    if let Some(s) = b.d.students.iter_mut().find(|s| s.dcid == student) {
        s.u_student.personalemail = email;
    }
    c.independent_full_student = student.to_string();
    c.independent_full_guardian = guardian.to_string();
    c.independent_full_contact = person.to_string();
}

fn independent_read_only(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = independent_student(b, &family, 3);
    let parent = b.person_spec(&family, false);
    let person = b.add_person(&parent);
    b.link(
        student,
        person,
        1,
        Link::parent(b.codes.father, Decision::Yes),
        false,
    );
    let guardian = b.account_for(person, &parent, true);
    b.grant(guardian, student);
    let own = b.email("student", &family.last_name);
    if let Some(s) = b.d.students.iter_mut().find(|s| s.dcid == student) {
        s.u_student.personalemail = Some(own);
    }
    c.independent_read_only_student = student.to_string();
    c.independent_read_only_guardian = guardian.to_string();
}

fn shared_email(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(&family, Member::active());
    let mother = b.person_spec(&family, true);
    let mut father = b.person_spec(&family, false);
    father.emails = mother.emails.iter().take(1).cloned().collect();
    let p1 = b.add_person(&mother);
    let p2 = b.add_person(&father);
    b.link(
        student,
        p1,
        1,
        Link::parent(b.codes.mother, Decision::Yes),
        false,
    );
    b.link(
        student,
        p2,
        2,
        Link::parent(b.codes.father, Decision::No),
        false,
    );
    let guardian = b.account_for(p1, &mother, true);
    b.grant(guardian, student);
    c.shared_email_student = student.to_string();
    c.shared_email_decision_making_contact = p1.to_string();
    c.shared_email_other_contact = p2.to_string();
    c.shared_email_guardian = guardian.to_string();
}

/// A not-decision-making parent, a parent without a decision row (both with accounts),
/// and a probation officer.
fn decision_rows(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(&family, Member::active());
    let mother = b.person_spec(&family, true);
    let father = b.person_spec(&family, false);
    let mut officer = b.person_spec(&family, false);
    officer.last_name = b
        .rng
        .choice(names::LAST.iter())
        .copied()
        .unwrap_or("Doe")
        .to_owned();
    officer.addresses.clear();
    let p1 = b.add_person(&mother);
    let p2 = b.add_person(&father);
    let p3 = b.add_person(&officer);
    b.link(
        student,
        p1,
        1,
        Link::parent(b.codes.mother, Decision::No),
        false,
    );
    b.link(
        student,
        p2,
        2,
        Link::parent(b.codes.father, Decision::Absent),
        false,
    );
    let officer_link = Link {
        relationship: b.codes.probation_officer,
        custodial: false,
        emergency: false,
        decision: Decision::No,
        active: true,
    };
    b.link(student, p3, 3, officer_link, false);
    let g1 = b.account_for(p1, &mother, true);
    let g2 = b.account_for(p2, &father, true);
    b.grant(g1, student);
    b.grant(g2, student);
    c.not_decision_making_student = student.to_string();
    c.not_decision_making_contact = p1.to_string();
    c.not_decision_making_guardian = g1.to_string();
    c.no_decision_row_student = student.to_string();
    c.no_decision_row_contact = p2.to_string();
    c.no_decision_row_guardian = g2.to_string();
    c.unknown_relationship_student = student.to_string();
    c.unknown_relationship_contact = p3.to_string();
}

/// A legacy web access account (username = the student's Web_ID, e-mail of the mother,
/// no person) and the mother's own account on an e-mail no contact has.
fn web_access(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(&family, Member::active());
    let web_id = format!("wa{}", b.id());
    if let Some(s) = b.d.students.iter_mut().find(|s| s.dcid == student) {
        s.web_id = web_id.clone();
    }
    let mother = b.person_spec(&family, true);
    let person = b.add_person(&mother);
    b.link(
        student,
        person,
        1,
        Link::parent(b.codes.mother, Decision::Yes),
        false,
    );
    let email = mother.emails.first().cloned().unwrap_or_default();
    let names = (mother.first_name.as_str(), mother.last_name.as_str());
    let web = b.add_guardian(names, None, &email, &web_id, true);
    b.grant(web, student);
    let old = format!("old.{}", b.email(&mother.first_name, &mother.last_name));
    let own = b.add_guardian(names, Some(person), &old, &old, true);
    b.grant(own, student);
    c.web_access_student = student.to_string();
    c.web_access_guardian = web.to_string();
    c.unmatched_email_student = student.to_string();
    c.unmatched_email_guardian = own.to_string();
}

/// A father whose portal account is disabled, and a grandmother whose only contact
/// detail is inactive.
fn disabled_account(b: &mut Builder, c: &mut Cases) {
    let family = b.new_family();
    let student = b.add_student(&family, Member::active());
    let father = b.person_spec(&family, false);
    let grandmother = b.person_spec(&family, true);
    let p1 = b.add_person(&father);
    let p2 = b.add_person(&grandmother);
    b.link(
        student,
        p1,
        1,
        Link::parent(b.codes.father, Decision::Yes),
        false,
    );
    let former = Link {
        relationship: b.codes.grandmother,
        custodial: false,
        emergency: true,
        decision: Decision::No,
        active: false,
    };
    b.link(student, p2, 2, former, false);
    let guardian = b.account_for(p1, &father, false);
    b.grant(guardian, student);
    c.disabled_student = student.to_string();
    c.disabled_guardian = guardian.to_string();
    c.inactive_detail_student = student.to_string();
    c.inactive_detail_contact = p2.to_string();
}
