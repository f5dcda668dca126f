//! The PowerSchool connector against the simulator over real HTTP, with small forced
//! pages: the mapped roster equals the simulator's ground truth record for record, every
//! seed-001 edge case comes through exactly, and every injected fault is survived or ends
//! in a typed error naming the endpoint — never a shorter roster.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector::conformance::{collect, CollectError, Roster};
use connector::{
    CheckOutcome, CheckReport, Connector, ConnectorError, ConnectorFactory, HttpConfig,
    RetryPolicy, UserRef,
};
use futures::StreamExt;
use model::district::ConnectorConfig;
use model::ids::SourceId;
use model::roster::{Contact, EnrollmentStatus, Relationship};
use model::source::GuardianAccount;
use model::Secret;
use powerschool::{fields, PowerSchoolFactory};
use rostersync_powerschool as powerschool;
use sim::powerschool::{Fault, FaultKind, Match, PluginState, SimConfig, Simulator};

mod access;
mod courses;
mod faults;
mod optional;
mod paging;
mod sections;

const PAGE_SIZE: &str = "7";

fn fast_http() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        min_interval: Duration::ZERO,
        retry: RetryPolicy {
            retries: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        max_retry_after: Duration::from_secs(5),
        concurrency: 4,
        requests_per_minute: None,
        source: "powerschool".into(),
        targets: connector::outbound::Targets::Any,
    }
}

fn config(base_url: &str, client_id: &str, secret: &str) -> ConnectorConfig {
    ConnectorConfig {
        kind: "powerschool".into(),
        settings: BTreeMap::from([
            ("base_url".to_owned(), base_url.to_owned()),
            ("client_id".to_owned(), client_id.to_owned()),
            ("page_size".to_owned(), PAGE_SIZE.to_owned()),
        ]),
        secrets: BTreeMap::from([("client_secret".to_owned(), Secret::new(secret))]),
    }
}

fn connector_with(sim: &Simulator, http: HttpConfig) -> Arc<dyn Connector> {
    PowerSchoolFactory
        .build(
            &config(&sim.base_url(), sim.client_id(), sim.client_secret()),
            &http,
        )
        .expect("builds")
}

fn connector(sim: &Simulator) -> Arc<dyn Connector> {
    connector_with(sim, fast_http())
}

async fn simulator() -> Simulator {
    Simulator::start(SimConfig::default())
        .await
        .expect("simulator starts")
}

fn numeric(s: &SourceId) -> u64 {
    s.as_str().parse().expect("numeric id")
}

/// A whole pull through the conformance kit, students and contacts in id order.
async fn pull(c: &dyn Connector) -> Result<Roster, ConnectorError> {
    let mut roster = match collect(c.roster()).await {
        Ok(roster) => roster,
        Err(CollectError::Connector(e)) => return Err(e),
        Err(violation) => panic!("{violation}"),
    };
    roster.students.sort_by_key(|s| numeric(&s.source_id));
    roster
        .contacts
        .sort_by_key(|c| (numeric(&c.student_source_id), numeric(&c.source_id)));
    for a in roster.guardian_accounts.values_mut() {
        a.student_source_ids.sort_by_key(numeric);
    }
    // A staff member of two schools is one person, sent once.
    roster.staff.sort_by_key(|s| numeric(&s.source_id));
    assert!(
        roster
            .staff
            .windows(2)
            .all(|w| w[0].source_id != w[1].source_id),
        "a staff member arrived twice"
    );
    roster.classrooms.sort_by_key(|c| numeric(&c.source_id));
    roster.enrollments.sort_by_key(|e| {
        (
            numeric(&e.classroom_source_id),
            numeric(&e.person_source_id),
            e.role,
        )
    });
    Ok(roster)
}

fn account<'a>(roster: &'a Roster, id: &str) -> &'a GuardianAccount {
    roster
        .guardian_account(id)
        .unwrap_or_else(|| panic!("guardian account {id} pulled"))
}

fn assert_matches_truth(sim: &Simulator, pulled: &Roster) {
    assert_staff_match(sim, pulled);
    assert_classrooms_match(sim, pulled);
    assert_enrollments_match(sim, pulled);
    assert_people_match(sim, pulled);
}

/// Staff as the simulator's ground truth has them.
fn assert_staff_match(sim: &Simulator, pulled: &Roster) {
    let staff = sim.district(|d| d.expected_staff());
    // Our ids are not the source's to give: compare what the source says.
    let unassigned = |mut s: model::roster::Staff| {
        s.id = model::ids::StaffId::unassigned();
        s
    };
    let pulled_staff: Vec<_> = pulled.staff.iter().cloned().map(unassigned).collect();
    assert!(!staff.is_empty());
    assert_eq!(pulled_staff, staff, "staff");
}

/// Classrooms as the simulator's ground truth has them.
fn assert_classrooms_match(sim: &Simulator, pulled: &Roster) {
    let mut classrooms = sim.district(|d| d.expected_classrooms());
    classrooms.sort_by_key(|c| numeric(&c.source_id));
    let pulled_classrooms: Vec<_> = pulled
        .classrooms
        .iter()
        .cloned()
        .map(|mut c| {
            c.id = model::ids::ClassroomId::unassigned();
            c
        })
        .collect();
    assert!(!classrooms.is_empty());
    assert_eq!(pulled_classrooms, classrooms, "classrooms");
}

/// Enrollments as the simulator's ground truth has them.
fn assert_enrollments_match(sim: &Simulator, pulled: &Roster) {
    let mut enrollments = sim.district(|d| d.expected_enrollments());
    enrollments.sort_by_key(|e| {
        (
            numeric(&e.classroom_source_id),
            numeric(&e.person_source_id),
            e.role,
        )
    });
    assert_eq!(pulled.enrollments, enrollments, "enrollments");
}

/// Schools, students, contacts and guardian accounts — what seed 001 requires — as the
/// simulator's ground truth has them.
fn assert_people_match(sim: &Simulator, pulled: &Roster) {
    let (schools, students, mut contacts, accounts) = sim.district(|d| {
        (
            d.expected_schools(),
            d.expected_students(),
            d.expected_contacts(),
            d.expected_guardian_accounts(),
        )
    });
    let got: Vec<(String, String, String)> = pulled
        .schools
        .iter()
        .map(|s| {
            (
                s.source_id.as_str().to_owned(),
                s.school_number.clone(),
                s.name.clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = schools
        .iter()
        .map(|s| (s.source_id.clone(), s.school_number.clone(), s.name.clone()))
        .collect();
    assert_eq!(got, want, "schools");
    assert_eq!(pulled.students.len(), students.len(), "student count");
    for (got, want) in pulled.students.iter().zip(&students) {
        assert_eq!(got, want, "student {}", want.source_id.as_str());
    }
    contacts.sort_by_key(|c| (numeric(&c.student_source_id), numeric(&c.source_id)));
    assert_eq!(pulled.contacts.len(), contacts.len(), "contact count");
    for (got, want) in pulled.contacts.iter().zip(&contacts) {
        assert_eq!(
            got,
            want,
            "contact {} of {}",
            want.source_id.as_str(),
            want.student_source_id.as_str()
        );
    }
    let got: Vec<&GuardianAccount> = pulled.guardian_accounts.values().collect();
    let mut want: Vec<&GuardianAccount> = accounts.iter().collect();
    want.sort_by_key(|a| a.source_id.as_str().to_owned());
    assert_eq!(got.len(), want.len(), "guardian account count");
    for (got, want) in got.iter().zip(want) {
        assert_eq!(*got, want, "guardian account {}", want.source_id.as_str());
    }
}

#[tokio::test]
async fn the_pull_equals_the_ground_truth_over_small_pages() {
    let sim = simulator().await;
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    assert_matches_truth(&sim, &pulled);
    // Small pages really paged: some school needed more than one student page.
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/student") && r.query.contains("page=2"))
        .count();
    assert!(pages > 0, "the students of a school spanned several pages");
}

#[tokio::test]
async fn table_reads_fall_back_to_ranges_when_value_lists_are_refused() {
    let sim = Simulator::start(SimConfig {
        table_value_lists: false,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    assert_matches_truth(&sim, &pulled);
    let requests = sim.requests();
    let decoded = |q: &str| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let table = |r: &&sim::powerschool::RequestRecord| r.path.starts_with("/ws/schema/table/");
    let refused: Vec<_> = requests
        .iter()
        .filter(table)
        .filter(|r| decoded(&r.query).contains("==("))
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one refused list decides for the district: the fallback is remembered"
    );
    assert_eq!(refused[0].status, 400, "the refusal happened");
    let ranges: Vec<_> = requests
        .iter()
        .filter(table)
        .filter(|r| decoded(&r.query).contains("=ge=") && r.status == 200)
        .collect();
    assert!(!ranges.is_empty(), "ranges were read instead");
    let first_range = ranges.iter().map(|r| r.arrived).min().expect("a range");
    assert!(refused[0].arrived < first_range, "ranges after the refusal");
}

#[tokio::test]
async fn legal_names_come_from_studentcorefields() {
    let sim = simulator().await;
    let (dcid, preferred, legal) = sim.district(|d| {
        let dcid = d.cases().preferred_name_student.clone();
        let s = d
            .student(dcid.parse().expect("dcid"))
            .expect("the preferred-name student");
        (dcid, s.first_name.clone(), s.legal_first_name().to_owned())
    });
    assert_ne!(preferred, legal, "the case holds two names");
    let p = pull(connector(&sim).as_ref()).await.expect("pull");
    let s = p.student(&dcid).expect("pulled");
    assert_eq!(s.legal_first_name, legal);
    let requests = sim.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path.ends_with("/student") && r.query.contains("studentcorefields")),
        "the connector asks for the extension"
    );
}

#[tokio::test]
async fn every_seed_001_case_comes_through_exactly() {
    let sim = simulator().await;
    let cases = sim.district(|d| d.cases().clone());
    let p = pull(connector(&sim).as_ref()).await.expect("pull");

    // Enrollment status ≤ 0 only: pre-registered in, inactive / transferred / graduated out.
    let pre = p
        .student(&cases.pre_registered_student)
        .expect("pre-registered pulled");
    assert_eq!(pre.enrollment_status, EnrollmentStatus::PreRegistered);
    for gone in [
        &cases.inactive_student,
        &cases.transferred_student,
        &cases.graduated_student,
    ] {
        assert!(
            p.student(gone).is_none(),
            "student {gone} must not come back"
        );
        assert!(p
            .contacts
            .iter()
            .all(|c| c.student_source_id.as_str() != gone.as_str()));
    }

    // Independent students (121) with their org and personal e-mails.
    let full = p
        .student(&cases.independent_full_student)
        .expect("independent");
    assert!(full.independent_student);
    let full_guardian = account(&p, &cases.independent_full_guardian);
    assert!(
        policy_email_eq(&full_guardian.email, &full.personal_email),
        "guardian uses the student's personal e-mail"
    );
    let ro = p
        .student(&cases.independent_read_only_student)
        .expect("independent");
    assert!(ro.independent_student);
    let ro_guardian = account(&p, &cases.independent_read_only_guardian);
    assert!(
        !policy_email_eq(&ro_guardian.email, &ro.org_email)
            && !policy_email_eq(&ro_guardian.email, &ro.personal_email)
    );

    // Decision-making: "0", and no row at all, both read as not decision-making.
    let c = p
        .contact(
            &cases.not_decision_making_student,
            &cases.not_decision_making_contact,
        )
        .expect("contact");
    assert_eq!(c.decision_making, Some(false));
    let c = p
        .contact(
            &cases.no_decision_row_student,
            &cases.no_decision_row_contact,
        )
        .expect("contact");
    assert_eq!(c.decision_making, Some(false));

    // Two contacts sharing one e-mail, only one decision-making.
    let a = p
        .contact(
            &cases.shared_email_student,
            &cases.shared_email_decision_making_contact,
        )
        .expect("contact");
    let b = p
        .contact(
            &cases.shared_email_student,
            &cases.shared_email_other_contact,
        )
        .expect("contact");
    assert_eq!(
        (a.decision_making, b.decision_making),
        (Some(true), Some(false))
    );
    let shared = &account(&p, &cases.shared_email_guardian).email;
    assert!(
        a.emails.iter().any(|e| policy_email_eq(e, shared))
            && b.emails.iter().any(|e| policy_email_eq(e, shared))
    );

    // A legacy web access account: its login is the student's web_id, no person behind it.
    let web = account(&p, &cases.web_access_guardian);
    let student = p.student(&cases.web_access_student).expect("student");
    assert_eq!(web.username, student.web_id);
    assert!(web.contact_source_ids.is_empty());

    // A guardian whose e-mail matches no contact of the student.
    let unmatched = account(&p, &cases.unmatched_email_guardian);
    assert!(p
        .contacts
        .iter()
        .filter(|c| c.student_source_id.as_str() == cases.unmatched_email_student)
        .all(|c| !c
            .emails
            .iter()
            .any(|e| policy_email_eq(e, &unmatched.email))));

    // Disabled portal account: not listed. Missing data access: not listed for that student.
    assert!(!p.guardian_accounts.contains_key(&cases.disabled_guardian));
    let no_access = account(&p, &cases.no_data_access_guardian);
    assert!(!no_access
        .student_source_ids
        .iter()
        .any(|s| s.as_str() == cases.no_data_access_student));

    // Addresses: mailing when present, else physical.
    let mailing = account(&p, &cases.mailing_address_guardian);
    assert!(mailing.mailing_address.is_some());
    assert_eq!(
        mailing.preferred_address(),
        mailing.mailing_address.as_ref()
    );
    let physical = account(&p, &cases.physical_only_guardian);
    assert!(physical.mailing_address.is_none() && physical.physical_address.is_some());
    assert_eq!(
        physical.preferred_address(),
        physical.physical_address.as_ref()
    );

    // An unknown relationship is kept as other, with a warning naming the endpoint.
    let officer = p
        .contact(
            &cases.unknown_relationship_student,
            &cases.unknown_relationship_contact,
        )
        .expect("contact");
    assert_eq!(
        officer.relationship,
        Relationship::Other("Probation Officer".into())
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.endpoint.contains("studentcontactdetail")
            && w.message.contains("Probation Officer")));

    // A contact whose only detail is inactive is not a current contact.
    assert!(p
        .contact(
            &cases.inactive_detail_student,
            &cases.inactive_detail_contact
        )
        .is_none());

    // A guardian of two siblings in different schools sees both.
    let sibling = account(&p, &cases.sibling_guardian);
    let ids: Vec<&str> = sibling
        .student_source_ids
        .iter()
        .map(SourceId::as_str)
        .collect();
    for s in &cases.sibling_students {
        assert!(ids.contains(&s.as_str()), "sibling {s} in {ids:?}");
    }
    let x = p.student(&cases.gender_x_student).expect("student");
    assert_eq!(x.gender, model::roster::Gender::NonBinary);
}

/// Seed 001's e-mail comparison, as the policy will make it.
fn policy_email_eq(a: &str, b: &str) -> bool {
    !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim())
}

#[tokio::test]
async fn one_user_is_read_with_what_the_rules_need() {
    let sim = simulator().await;
    let cases = sim.district(|d| d.cases().clone());
    let truth = sim.district(|d| {
        (
            d.expected_students(),
            d.expected_contacts(),
            d.expected_guardian_accounts(),
        )
    });
    let c = connector(&sim);

    let id = &cases.shared_email_student;
    let snap = c
        .user(&UserRef::Student(SourceId::new(id.as_str())))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(snap.students.len(), 1);
    assert_eq!(
        &snap.students[0],
        truth
            .0
            .iter()
            .find(|s| s.source_id.as_str() == id)
            .expect("truth")
    );
    let mut want: Vec<&Contact> = truth
        .1
        .iter()
        .filter(|c| c.student_source_id.as_str() == id)
        .collect();
    want.sort_by_key(|c| numeric(&c.source_id));
    let mut got: Vec<&Contact> = snap.contacts.iter().collect();
    got.sort_by_key(|c| numeric(&c.source_id));
    assert_eq!(got, want);
    let guardians: Vec<&str> = snap
        .guardian_accounts
        .iter()
        .map(|a| a.source_id.as_str())
        .collect();
    assert!(guardians.contains(&cases.shared_email_guardian.as_str()));

    // A student no longer active is still read (spot sync updates its status).
    let gone = c
        .user(&UserRef::Student(SourceId::new(
            cases.transferred_student.as_str(),
        )))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(
        gone.students[0].enrollment_status,
        EnrollmentStatus::Transferred
    );

    assert_eq!(
        c.user(&UserRef::Student(SourceId::new("999999999")))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        c.user(&UserRef::Student(SourceId::new("../etc")))
            .await
            .expect("read"),
        None
    );

    let g = &cases.sibling_guardian;
    sim.clear_requests();
    let snap = c
        .user(&UserRef::Guardian(SourceId::new(g.as_str())))
        .await
        .expect("read")
        .expect("known");
    let want = truth
        .2
        .iter()
        .find(|a| a.source_id.as_str() == g)
        .expect("truth");
    assert_eq!(snap.guardian_accounts, vec![want.clone()]);
    let students: BTreeSet<&str> = snap.students.iter().map(|s| s.source_id.as_str()).collect();
    assert_eq!(
        students,
        cases.sibling_students.iter().map(String::as_str).collect()
    );
    let requests = sim.requests().len();
    assert!(
        requests < 40,
        "a handful of requests, not a pull: {requests}"
    );
}

/// However the connector fans its requests out (pages of a school, the tables of a page,
/// the sections of a school), a district's source never has more than its bound in flight;
/// a slow source is pulled with that many at once, not one by one.
#[tokio::test]
async fn a_slow_source_sees_at_most_the_districts_bound_in_flight() {
    let sim = simulator().await;
    sim.set_latency(Duration::from_millis(20));
    for (bound, setting) in [(3, None), (5, Some("5"))] {
        let mut cfg = config(&sim.base_url(), sim.client_id(), sim.client_secret());
        let mut http = fast_http();
        http.concurrency = 3;
        if let Some(n) = setting {
            // The district's own setting wins over the service's default.
            cfg.settings
                .insert("max_concurrent_requests".into(), n.into());
        }
        let c = PowerSchoolFactory.build(&cfg, &http).expect("builds");
        sim.take_most_in_flight();
        let pulled = pull(c.as_ref()).await.expect("pull");
        assert!(!pulled.students.is_empty());
        let most = sim.take_most_in_flight();
        assert!(most <= bound, "{most} in flight, bound {bound}");
        assert!(
            most > 1,
            "requests went out one at a time with a bound of {bound}"
        );
    }
}
