//! The generated district: deterministic, every edge case present whatever the seed, and
//! a ground truth that follows the link rules' facts.

use std::collections::BTreeSet;
use std::time::Instant;

use model::roster::{ContactType, EnrollmentStatus, Gender, Relationship};
use rostersync_sim::powerschool::{District, SimConfig};

fn config(seed: u64, schools: usize, students: usize) -> SimConfig {
    SimConfig {
        seed,
        schools,
        students,
        ..SimConfig::default()
    }
}

fn id(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("{s:?} is not an id"))
}

/// Facts read straight from the tables.
struct Facts<'a>(&'a District);

impl Facts<'_> {
    fn student(&self, dcid: &str) -> &rostersync_sim::powerschool::Student {
        self.0
            .student(id(dcid))
            .unwrap_or_else(|| panic!("student {dcid} missing"))
    }

    fn login_email(&self, guardian: &str) -> String {
        let g = self
            .0
            .guardians
            .iter()
            .find(|g| g.id == id(guardian))
            .expect("guardian");
        let account = self
            .0
            .pcas_accounts
            .iter()
            .find(|a| a.account_token == g.account_identifier)
            .expect("pcas account");
        self.0
            .pcas_email_contacts
            .iter()
            .find(|e| e.pcas_account_id == account.id)
            .map(|e| e.email_address.clone())
            .expect("pcas e-mail")
    }

    fn username(&self, guardian: &str) -> String {
        let g = self
            .0
            .guardians
            .iter()
            .find(|g| g.id == id(guardian))
            .expect("guardian");
        self.0
            .pcas_accounts
            .iter()
            .find(|a| a.account_token == g.account_identifier)
            .map(|a| a.username.clone())
            .expect("pcas account")
    }

    fn enabled(&self, guardian: &str) -> bool {
        let g = self
            .0
            .guardians
            .iter()
            .find(|g| g.id == id(guardian))
            .expect("guardian");
        self.0
            .pcas_accounts
            .iter()
            .any(|a| a.account_token == g.account_identifier && a.is_enabled)
    }

    fn has_access(&self, guardian: &str, student: &str) -> bool {
        self.0
            .guardian_students
            .iter()
            .any(|gs| gs.guardian_id == id(guardian) && gs.student_dcid == id(student))
    }

    fn persons_of(&self, guardian: &str) -> Vec<u64> {
        self.0
            .guardian_person_assocs
            .iter()
            .filter(|a| a.guardian_id == id(guardian))
            .map(|a| a.person_id)
            .collect()
    }

    fn emails(&self, person: u64) -> Vec<String> {
        self.0
            .person_email_address_assocs
            .iter()
            .filter(|a| a.person_id == person)
            .filter_map(|a| {
                self.0
                    .email_addresses
                    .iter()
                    .find(|e| e.id == a.email_address_id)
            })
            .map(|e| e.address.clone())
            .collect()
    }

    /// (person id, detail id, active, relationship code) of a student's contacts.
    fn contacts(&self, student: &str) -> Vec<(u64, u64, bool, String)> {
        let mut out = Vec::new();
        for assoc in self
            .0
            .student_contact_assocs
            .iter()
            .filter(|a| a.student_dcid == id(student))
        {
            for detail in self
                .0
                .student_contact_details
                .iter()
                .filter(|d| d.student_contact_assoc_id == assoc.id)
            {
                let code = self
                    .0
                    .codeset(detail.relationship_type_codeset_id)
                    .map(|c| c.code.clone())
                    .unwrap_or_default();
                out.push((assoc.person_id, detail.id, detail.is_active, code));
            }
        }
        out
    }

    fn decision(&self, detail: u64) -> Option<bool> {
        self.0
            .u_student_contact_details
            .iter()
            .find(|u| u.student_contact_detail_id == detail)
            .map(|u| u.is_decision_making)
    }

    fn contact_emails(&self, student: &str) -> BTreeSet<String> {
        self.contacts(student)
            .into_iter()
            .flat_map(|(person, ..)| self.emails(person))
            .collect()
    }

    fn addresses(&self, person: u64) -> Vec<String> {
        self.0
            .person_address_assocs
            .iter()
            .filter(|a| a.person_id == person)
            .filter_map(|a| self.0.codeset(a.address_type_codeset_id))
            .map(|c| c.code.clone())
            .collect()
    }
}

/// Checks every case of a district against the raw tables.
fn assert_cases(d: &District, label: &str) {
    let c = d.cases();
    let f = Facts(d);

    let s = f.student(&c.independent_full_student);
    assert_eq!(s.s_ab_stu_x.enrlytype2.as_deref(), Some("121"), "{label}");
    assert!(s.is_current(), "{label}");
    let email = f.login_email(&c.independent_full_guardian);
    assert_eq!(
        s.u_student.personalemail.as_deref(),
        Some(email.as_str()),
        "{label}"
    );
    assert!(f.has_access(&c.independent_full_guardian, &c.independent_full_student));
    assert!(
        f.emails(id(&c.independent_full_contact)).contains(&email),
        "{label}"
    );
    assert!(f
        .contact_emails(&c.independent_full_student)
        .contains(&email));

    let s = f.student(&c.independent_read_only_student);
    assert!(s.is_independent() && s.is_current(), "{label}");
    let email = f.login_email(&c.independent_read_only_guardian);
    assert_ne!(s.u_student.orgemail.as_deref(), Some(email.as_str()));
    assert_ne!(s.u_student.personalemail.as_deref(), Some(email.as_str()));
    assert!(f
        .contact_emails(&c.independent_read_only_student)
        .contains(&email));

    let not_dm = f.contacts(&c.not_decision_making_student);
    let (_, detail, ..) = not_dm
        .iter()
        .find(|(p, ..)| *p == id(&c.not_decision_making_contact))
        .expect("not decision-making contact");
    assert_eq!(f.decision(*detail), Some(false), "{label}");
    assert_eq!(
        f.persons_of(&c.not_decision_making_guardian),
        vec![id(&c.not_decision_making_contact)]
    );

    let rows = f.contacts(&c.no_decision_row_student);
    let (_, detail, ..) = rows
        .iter()
        .find(|(p, ..)| *p == id(&c.no_decision_row_contact))
        .expect("contact without a decision row");
    assert_eq!(f.decision(*detail), None, "{label}");

    let shared = f.contacts(&c.shared_email_student);
    let first = id(&c.shared_email_decision_making_contact);
    let second = id(&c.shared_email_other_contact);
    let email = f.login_email(&c.shared_email_guardian);
    assert!(
        f.emails(first).contains(&email) && f.emails(second).contains(&email),
        "{label}"
    );
    let decision_of = |person: u64| {
        shared
            .iter()
            .find(|(p, ..)| *p == person)
            .and_then(|(_, detail, ..)| f.decision(*detail))
    };
    assert_eq!(decision_of(first), Some(true));
    assert_eq!(decision_of(second), Some(false));

    let s = f.student(&c.web_access_student);
    assert!(!s.web_id.is_empty());
    assert_eq!(f.username(&c.web_access_guardian), s.web_id, "{label}");
    assert!(f.persons_of(&c.web_access_guardian).is_empty());
    assert!(f.has_access(&c.web_access_guardian, &c.web_access_student));

    let email = f.login_email(&c.unmatched_email_guardian);
    assert!(
        !f.contact_emails(&c.unmatched_email_student)
            .contains(&email),
        "{label}"
    );
    assert!(f.has_access(&c.unmatched_email_guardian, &c.unmatched_email_student));
    assert!(!f.persons_of(&c.unmatched_email_guardian).is_empty());

    assert!(!f.enabled(&c.disabled_guardian), "{label}");
    assert!(f.has_access(&c.disabled_guardian, &c.disabled_student));

    assert!(
        !f.has_access(&c.no_data_access_guardian, &c.no_data_access_student),
        "{label}"
    );
    let person = f.persons_of(&c.no_data_access_guardian)[0];
    assert!(f
        .contacts(&c.no_data_access_student)
        .iter()
        .any(|(p, ..)| *p == person));

    assert_eq!(f.student(&c.pre_registered_student).enroll_status_code, -1);
    assert!(
        [1, 5].contains(&f.student(&c.inactive_student).enroll_status_code),
        "{label}"
    );
    assert_eq!(f.student(&c.transferred_student).enroll_status_code, 2);
    assert_eq!(f.student(&c.graduated_student).enroll_status_code, 3);

    let mailing = f.addresses(f.persons_of(&c.mailing_address_guardian)[0]);
    assert!(mailing.contains(&"Mailing".to_owned()) && mailing.contains(&"Home".to_owned()));
    let physical = f.addresses(f.persons_of(&c.physical_only_guardian)[0]);
    assert_eq!(physical, vec!["Home".to_owned()], "{label}");

    assert!(f
        .contacts(&c.unknown_relationship_student)
        .iter()
        .any(
            |(p, _, active, code)| *p == id(&c.unknown_relationship_contact)
                && *active
                && code == "Probation Officer"
        ));

    let rows: Vec<_> = f
        .contacts(&c.inactive_detail_student)
        .into_iter()
        .filter(|(p, ..)| *p == id(&c.inactive_detail_contact))
        .collect();
    assert_eq!(rows.len(), 1, "{label}");
    assert!(!rows[0].2);

    assert_eq!(c.sibling_students.len(), 2);
    let schools: BTreeSet<u64> = c
        .sibling_students
        .iter()
        .map(|s| f.student(s).school_dcid)
        .collect();
    if d.schools.len() > 1 {
        assert_eq!(schools.len(), 2, "{label}: siblings in different schools");
    }
    for s in &c.sibling_students {
        assert!(f.has_access(&c.sibling_guardian, s));
        assert!(f.student(s).is_current());
    }

    assert_eq!(f.student(&c.gender_x_student).gender, "X");
}

#[test]
fn the_same_seed_makes_the_same_district() {
    let a = District::generate(&config(7, 4, 150));
    let b = District::generate(&config(7, 4, 150));
    assert_eq!(a, b);
    let c = District::generate(&config(8, 4, 150));
    assert_ne!(a.students, c.students);
    assert_eq!(a.students.len(), 150);
    assert_eq!(a.schools.len(), 4);
}

#[test]
fn every_case_is_present_whatever_the_seed_and_size() {
    for seed in [0, 1, 2, 3, 42, 99, 1234, u64::MAX] {
        for (schools, students) in [
            (2, 20),
            (4, 20),
            (3, 21),
            (4, 37),
            (4, 60),
            (5, 120),
            (4, 200),
        ] {
            let d = District::generate(&config(seed, schools, students));
            assert_eq!(d.students.len(), students);
            assert_cases(
                &d,
                &format!("seed {seed}, {schools} schools, {students} students"),
            );
        }
    }
}

#[test]
fn small_districts_have_no_cases_but_still_generate() {
    let d = District::generate(&config(1, 1, 5));
    assert_eq!(d.students.len(), 5);
    assert!(d.cases().independent_full_student.is_empty());
    assert!(District::generate(&config(1, 0, 0)).students.is_empty());
}

#[test]
fn expected_students_are_those_of_status_zero_or_minus_one() {
    let d = District::generate(&config(3, 4, 200));
    let c = d.cases();
    let expected = d.expected_students();
    let current = d
        .students
        .iter()
        .filter(|s| s.enroll_status_code <= 0)
        .count();
    assert_eq!(expected.len(), current);
    assert!(current < d.students.len(), "some students are not current");
    let ids: Vec<u64> = expected.iter().map(|s| id(s.source_id.as_str())).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    for gone in [
        &c.inactive_student,
        &c.transferred_student,
        &c.graduated_student,
    ] {
        assert!(!ids.contains(&id(gone)));
    }
    let pre = expected
        .iter()
        .find(|s| s.source_id.as_str() == c.pre_registered_student)
        .expect("pre-registered student is expected");
    assert_eq!(pre.enrollment_status, EnrollmentStatus::PreRegistered);
    let x = expected
        .iter()
        .find(|s| s.source_id.as_str() == c.gender_x_student)
        .expect("gender X");
    assert_eq!(x.gender, Gender::NonBinary);
    let full = expected
        .iter()
        .find(|s| s.source_id.as_str() == c.independent_full_student)
        .expect("independent student");
    assert!(full.independent_student);
    let raw = d.student(id(&c.independent_full_student)).expect("student");
    assert_eq!(full.student_number, raw.local_id.to_string());
    assert_eq!(full.state_id.len(), 9);
    assert_eq!(
        full.school_source_id
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        Some(raw.school_dcid.to_string())
    );
    assert_eq!(full.grade, raw.grade_level.to_string());
    assert_eq!(d.expected_schools().len(), 4);
}

#[test]
fn expected_contacts_follow_the_cases() {
    let d = District::generate(&config(5, 4, 60));
    let c = d.cases();
    let contacts = d.expected_contacts();
    let keys: Vec<(u64, u64)> = contacts
        .iter()
        .map(|k| (id(k.student_source_id.as_str()), id(k.source_id.as_str())))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    let find = |student: &str, person: &str| {
        contacts
            .iter()
            .find(|k| k.student_source_id.as_str() == student && k.source_id.as_str() == person)
    };
    assert!(find(&c.inactive_detail_student, &c.inactive_detail_contact).is_none());
    let officer = find(
        &c.unknown_relationship_student,
        &c.unknown_relationship_contact,
    )
    .expect("officer");
    assert_eq!(
        officer.relationship,
        Relationship::Other("Probation Officer".into())
    );
    assert_eq!(officer.contact_type, ContactType::Other("contact".into()));
    let not_dm = find(
        &c.not_decision_making_student,
        &c.not_decision_making_contact,
    )
    .expect("contact");
    assert_eq!(not_dm.decision_making, Some(false));
    assert_eq!(not_dm.contact_type, ContactType::Guardian);
    let no_row = find(&c.no_decision_row_student, &c.no_decision_row_contact).expect("contact");
    assert_eq!(no_row.decision_making, Some(false));
    let a = find(
        &c.shared_email_student,
        &c.shared_email_decision_making_contact,
    )
    .expect("contact");
    let b = find(&c.shared_email_student, &c.shared_email_other_contact).expect("contact");
    assert_eq!(a.decision_making, Some(true));
    assert_eq!(b.decision_making, Some(false));
    assert_eq!(a.emails.first(), b.emails.first());
    let gone: BTreeSet<&str> = [
        &c.inactive_student,
        &c.transferred_student,
        &c.graduated_student,
    ]
    .into_iter()
    .map(String::as_str)
    .collect();
    assert!(contacts
        .iter()
        .all(|k| !gone.contains(k.student_source_id.as_str())));
}

#[test]
fn expected_guardian_accounts_follow_the_cases() {
    let d = District::generate(&config(11, 4, 60));
    let c = d.cases();
    let accounts = d.expected_guardian_accounts();
    let ids: Vec<u64> = accounts.iter().map(|a| id(a.source_id.as_str())).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    let account = |g: &str| accounts.iter().find(|a| a.source_id.as_str() == g);
    let students = |g: &str| -> Vec<String> {
        account(g)
            .map(|a| {
                a.student_source_ids
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(account(&c.disabled_guardian).is_none());
    assert!(!students(&c.no_data_access_guardian).contains(&c.no_data_access_student));
    assert!(!students(&c.no_data_access_guardian).is_empty());
    let mut siblings = c.sibling_students.clone();
    siblings.sort_by_key(|s| id(s));
    assert_eq!(students(&c.sibling_guardian), siblings);
    let web = account(&c.web_access_guardian).expect("web access account");
    assert!(web.contact_source_ids.is_empty());
    assert_eq!(web.home_phone, "");
    assert!(web.physical_address.is_none());
    let mailing = account(&c.mailing_address_guardian).expect("mailing");
    assert!(mailing.mailing_address.is_some() && mailing.physical_address.is_some());
    assert!(mailing
        .mailing_address
        .as_ref()
        .is_some_and(|a| a.street.starts_with("PO Box") && !a.region.is_empty()));
    let physical = account(&c.physical_only_guardian).expect("physical only");
    assert!(physical.mailing_address.is_none() && physical.physical_address.is_some());
    let full = account(&c.independent_full_guardian).expect("independent full");
    let student = d.student(id(&c.independent_full_student)).expect("student");
    assert_eq!(
        Some(full.email.as_str()),
        student.u_student.personalemail.as_deref()
    );
    let gone: BTreeSet<&str> = [
        &c.inactive_student,
        &c.transferred_student,
        &c.graduated_student,
    ]
    .into_iter()
    .map(String::as_str)
    .collect();
    for a in &accounts {
        assert!(!a.student_source_ids.is_empty());
        assert!(a
            .student_source_ids
            .iter()
            .all(|s| !gone.contains(s.as_str())));
        let mut contact_ids: Vec<u64> = a
            .contact_source_ids
            .iter()
            .map(|s| id(s.as_str()))
            .collect();
        let before = contact_ids.clone();
        contact_ids.sort_unstable();
        assert_eq!(before, contact_ids);
    }
}

#[test]
fn students_of_one_school_span_several_pages_of_seven() {
    let d = District::generate(&SimConfig::default());
    for school in &d.schools {
        let current = d
            .students
            .iter()
            .filter(|s| s.school_dcid == school.dcid && s.is_current())
            .count();
        assert!(
            current > 7,
            "school {} has {current} current students",
            school.dcid
        );
    }
}

#[test]
fn generating_a_hundred_thousand_students_is_quick() {
    let started = Instant::now();
    let d = District::generate(&config(1, 40, 100_000));
    let generated = started.elapsed();
    let memory = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ");
    println!("100k students: memory after generating: {memory}");
    let timed = |f: &dyn Fn() -> usize| {
        let started = Instant::now();
        let n = f();
        (n, started.elapsed())
    };
    let (students, students_took) = timed(&|| d.expected_students().len());
    let (contacts, contacts_took) = timed(&|| d.expected_contacts().len());
    let (accounts, accounts_took) = timed(&|| d.expected_guardian_accounts().len());
    println!(
        "100k students: generated in {generated:?} ({} persons, {} contact links, {} guardians); \
         ground truth: {students} students in {students_took:?}, {contacts} contacts in \
         {contacts_took:?}, {accounts} accounts in {accounts_took:?}",
        d.persons.len(),
        d.student_contact_assocs.len(),
        d.guardians.len(),
    );
    assert_eq!(d.students.len(), 100_000);
}
