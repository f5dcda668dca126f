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
    // A staff member of two schools is listed by both, the same record each time.
    roster.staff.sort_by_key(|s| numeric(&s.source_id));
    let listed = roster.staff.len();
    roster.staff.dedup();
    assert!(
        roster
            .staff
            .windows(2)
            .all(|w| w[0].source_id != w[1].source_id),
        "a staff member listed twice is the same record"
    );
    assert!(roster.staff.len() <= listed);
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

async fn assert_matches_truth(sim: &Simulator, pulled: &Roster) {
    let (staff, mut classrooms, mut enrollments) = sim.district(|d| {
        (
            d.expected_staff(),
            d.expected_classrooms(),
            d.expected_enrollments(),
        )
    });
    // Our ids are not the source's to give: compare what the source says.
    let unassigned = |mut s: model::roster::Staff| {
        s.id = model::ids::StaffId::unassigned();
        s
    };
    let pulled_staff: Vec<_> = pulled.staff.iter().cloned().map(unassigned).collect();
    assert!(!staff.is_empty());
    assert_eq!(pulled_staff, staff, "staff");
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
    enrollments.sort_by_key(|e| {
        (
            numeric(&e.classroom_source_id),
            numeric(&e.person_source_id),
            e.role,
        )
    });
    assert_eq!(pulled.enrollments, enrollments, "enrollments");
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
    assert_matches_truth(&sim, &pulled).await;
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
    assert_matches_truth(&sim, &pulled).await;
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

/// Pulls through `fault` and checks the pull is whole and the fault fired every time it
/// was set to.
async fn survives(fault: Fault) -> Simulator {
    let sim = simulator().await;
    let times = fault.times as usize;
    sim.inject(fault);
    let pulled = pull(connector(&sim).as_ref())
        .await
        .expect("the fault is survived");
    assert_matches_truth(&sim, &pulled).await;
    assert_eq!(sim.faults_fired(), times, "the fault fired");
    sim
}

#[tokio::test]
async fn server_errors_are_retried() {
    survives(Fault::new(Match::get("/ws/v1/school/"), FaultKind::Status500).times(2)).await;
    survives(Fault::new(
        Match::post("/ws/schema/query/"),
        FaultKind::Status500,
    ))
    .await;
}

#[tokio::test]
async fn throttling_waits_as_long_as_retry_after_says() {
    let started = Instant::now();
    survives(Fault::new(
        Match::path("/ws/schema/table/person"),
        FaultKind::TooManyRequests {
            retry_after_secs: 1,
        },
    ))
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let sim = survives(Fault::new(
        Match::path("/ws/v1/district/school"),
        FaultKind::Unauthorized,
    ))
    .await;
    let tokens = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/oauth/access_token"))
        .count();
    assert_eq!(tokens, 2, "one token, then one renewal after the 401");
}

#[tokio::test]
async fn a_revoked_token_mid_pull_is_renewed() {
    let sim = simulator().await;
    let c = connector(&sim);
    let mut stream = c.roster();
    let mut events = 0;
    while let Some(item) = stream.next().await {
        item.expect("pull continues");
        events += 1;
        if events == 3 {
            sim.revoke_tokens();
        }
    }
    assert!(events > 3);
    let refused = sim.requests().iter().filter(|r| r.status == 401).count();
    assert!(refused >= 1, "the revoked token was refused at least once");
    let tokens = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/oauth/access_token"))
        .count();
    assert_eq!(tokens, 2, "the revocation was met by one renewal");
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let sim = simulator().await;
    sim.inject(Fault::new(
        Match::path("/ws/schema/table/emailaddress"),
        FaultKind::Delay(Duration::from_millis(1500)),
    ));
    let http = HttpConfig {
        request_timeout: Duration::from_millis(500),
        ..fast_http()
    };
    let pulled = pull(connector_with(&sim, http).as_ref())
        .await
        .expect("retried after the timeout");
    assert_matches_truth(&sim, &pulled).await;
    assert_eq!(sim.faults_fired(), 1, "the slow answer happened");
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_retried() {
    survives(Fault::new(Match::get("/ws/v1/school/"), FaultKind::DropMidBody).skip(1)).await;
}

#[tokio::test]
async fn malformed_json_is_retried() {
    survives(Fault::new(
        Match::path("/ws/schema/table/studentcontactassoc"),
        FaultKind::MalformedJson,
    ))
    .await;
}

#[tokio::test]
async fn a_short_page_fails_the_pull_naming_the_endpoint() {
    let sim = simulator().await;
    sim.inject(Fault::new(Match::get("/ws/v1/school/"), FaultKind::ShortPage).skip(1));
    let err = pull(connector(&sim).as_ref())
        .await
        .expect_err("must not pass as whole");
    match err {
        ConnectorError::Incomplete {
            endpoint,
            declared,
            received,
        } => {
            assert!(endpoint.starts_with("GET /ws/v1/school/"), "{endpoint}");
            assert!(received < declared);
        }
        other => panic!("expected Incomplete, got {other}"),
    }
    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::get("/ws/schema/table/studentcontactassoc"),
            FaultKind::ShortPage,
        )
        .times(1_000),
    );
    let err = pull(connector(&sim).as_ref())
        .await
        .expect_err("must not pass as whole");
    assert!(
        matches!(&err, ConnectorError::Incomplete { endpoint, .. } if endpoint == "GET /ws/schema/table/studentcontactassoc"),
        "{err}"
    );
}

#[tokio::test]
async fn lasting_faults_end_in_typed_errors_naming_the_endpoint() {
    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::path("/ws/schema/table/phonenumber"),
            FaultKind::Status500,
        )
        .times(100),
    );
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Http { status: 500, endpoint, .. } if endpoint.starts_with("GET /ws/schema/table/phonenumber")),
        "{err}"
    );

    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::path("/ws/v1/district/school"),
            FaultKind::Unauthorized,
        )
        .times(100),
    );
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Unauthorized { endpoint, .. } if endpoint.contains("/ws/v1/district/school")),
        "{err}"
    );

    let sim = simulator().await;
    sim.inject(Fault::new(Match::path("/ws/schema/query/"), FaultKind::MalformedJson).times(100));
    let err = pull(connector(&sim).as_ref()).await.expect_err("gives up");
    assert!(
        matches!(&err, ConnectorError::Malformed { endpoint, .. } if endpoint.starts_with("POST /ws/schema/query/")),
        "{err}"
    );
    assert!(!err.to_string().contains(sim.client_secret()));
}

fn granted(fields: &BTreeSet<(String, String)>) -> PluginState {
    PluginState {
        granted: Some(fields.iter().map(|(t, f)| format!("{t}.{f}")).collect()),
        ..PluginState::default()
    }
}

#[tokio::test]
async fn the_plugin_access_request_is_exactly_what_the_pull_reads() {
    let sim = simulator().await;
    let access = fields::access_request();
    let xml = powerschool::plugin::plugin_xml(&powerschool::plugin::PluginOptions::default())
        .expect("xml");
    assert_eq!(powerschool::plugin::requested_fields(&xml), access);
    // Granted exactly the access request, the whole pull works.
    sim.set_plugin(granted(&access));
    let pulled = pull(connector(&sim).as_ref())
        .await
        .expect("the requested fields suffice");
    assert_matches_truth(&sim, &pulled).await;
    // Every table column the pull projected or filtered on is in the access request, and
    // every field of the access request for a table read was projected.
    let mut read: BTreeSet<(String, String)> = BTreeSet::new();
    for r in sim.requests() {
        let Some(table) = r.path.strip_prefix("/ws/schema/table/") else {
            continue;
        };
        let table = table.trim_end_matches("/count").to_owned();
        for (k, v) in url::form_urlencoded::parse(r.query.as_bytes()) {
            match k.as_ref() {
                "projection" => read.extend(v.split(',').map(|c| (table.clone(), c.to_owned()))),
                "q" => read.extend(
                    v.split(';')
                        .filter_map(|c| c.split_once("=="))
                        .map(|(c, _)| (table.clone(), c.to_owned())),
                ),
                _ => {}
            }
        }
    }
    let table_fields: BTreeSet<(String, String)> = access
        .iter()
        .filter(|(t, _)| fields::TABLE_READS.iter().any(|r| r.table == t))
        .cloned()
        .collect();
    assert_eq!(read, table_fields);
    // One field fewer, and the pull stops with a 403 naming the table.
    let mut fewer = access.clone();
    fewer.remove(&(
        "u_studentcontactdetail".to_owned(),
        "isdecisionmaking".to_owned(),
    ));
    sim.set_plugin(granted(&fewer));
    let err = pull(connector(&sim).as_ref()).await.expect_err("refused");
    assert!(
        matches!(&err, ConnectorError::Forbidden { endpoint, .. } if endpoint.contains("u_studentcontactdetail")),
        "{err}"
    );
}

fn step<'a>(report: &'a CheckReport, name: &str) -> &'a CheckOutcome {
    &report
        .steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("step {name} in {report:#?}"))
        .outcome
}

fn problem(outcome: &CheckOutcome) -> &str {
    match outcome {
        CheckOutcome::Failed { problem, .. } => problem,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn check_passes_for_a_healthy_district() {
    let sim = simulator().await;
    let report = connector(&sim).check().await;
    assert!(report.ok(), "{report:#?}");
    let (schools, students) = sim.district(|d| {
        (
            d.expected_schools().len() as u64,
            d.expected_students().len() as u64,
        )
    });
    assert_eq!(report.schools, Some(schools));
    assert_eq!(report.students, Some(students));
    assert!(report
        .source_version
        .as_deref()
        .is_some_and(|v| v.starts_with("PowerSchool ")));
}

#[tokio::test]
async fn check_names_bad_credentials_an_unreachable_server_and_missing_access() {
    let sim = simulator().await;
    let bad = PowerSchoolFactory
        .build(
            &config(&sim.base_url(), sim.client_id(), "wrong-secret"),
            &fast_http(),
        )
        .expect("builds");
    let report = bad.check().await;
    assert!(!report.ok());
    assert!(problem(step(&report, "authenticate")).contains("refused the client id and secret"));
    assert!(matches!(
        step(&report, "read the district"),
        CheckOutcome::Skipped { .. }
    ));
    let text = format!("{report:?}");
    assert!(
        !text.contains("wrong-secret") && !text.contains(sim.client_secret()),
        "no secret in a report"
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let gone = PowerSchoolFactory
        .build(
            &config(&format!("http://127.0.0.1:{closed}"), "id", "secret"),
            &fast_http(),
        )
        .expect("builds");
    let report = gone.check().await;
    assert!(
        problem(step(&report, "authenticate")).contains("cannot reach"),
        "{report:#?}"
    );

    sim.set_plugin(PluginState {
        v1_access: false,
        ..PluginState::default()
    });
    let report = connector(&sim).check().await;
    assert!(
        problem(step(&report, "schools")).contains("accessLevelV1Api"),
        "{report:#?}"
    );

    let mut fewer = fields::access_request();
    fewer.remove(&(
        "u_studentcontactdetail".to_owned(),
        "isdecisionmaking".to_owned(),
    ));
    sim.set_plugin(granted(&fewer));
    let report = connector(&sim).check().await;
    assert!(!report.ok());
    assert!(
        problem(step(&report, "read u_studentcontactdetail")).contains("may not read"),
        "{report:#?}"
    );
    assert!(matches!(
        step(&report, "read person"),
        CheckOutcome::Passed { .. }
    ));

    sim.set_plugin(PluginState {
        enabled: false,
        ..PluginState::default()
    });
    let report = connector(&sim).check().await;
    assert!(problem(step(&report, "authenticate")).contains("plugin is enabled"));
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
