//! The Clever connector against the Clever simulator over loopback HTTP: the whole
//! district comes through, each list walked to its end, Clever's vocabularies mapped,
//! unknown values warned about once, and faults and a 429 storm survived.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use connector::conformance::{collect, CollectError, Roster};
use connector::{Connector, ConnectorError, ConnectorFactory, HttpConfig, RetryPolicy, UserRef};
use model::district::ConnectorConfig;
use model::ids::SourceId;
use model::roster::{ContactType, PhoneType, Relationship};
use model::Secret;
use rostersync_clever::CleverFactory;
use sim::clever::{CleverSimConfig, Fault, FaultKind, Match, Role, Simulator};

fn fast_http() -> HttpConfig {
    HttpConfig {
        retry: RetryPolicy {
            retries: 6,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
        },
        max_retry_after: Duration::from_secs(3),
        ..HttpConfig::default()
    }
}

fn connector_with(sim: &Simulator, page: &str, http: HttpConfig) -> Arc<dyn Connector> {
    let config = ConnectorConfig {
        kind: "clever".into(),
        settings: BTreeMap::from([
            ("district_id".to_owned(), sim.district_id().to_owned()),
            ("api_base_url".to_owned(), sim.base_url()),
            ("page_size".to_owned(), page.to_owned()),
        ]),
        secrets: BTreeMap::from([("district_token".to_owned(), Secret::new(sim.token()))]),
    };
    CleverFactory.build(&config, &http).expect("builds")
}

fn connector(sim: &Simulator) -> Arc<dyn Connector> {
    connector_with(sim, "7", fast_http())
}

async fn simulator(config: CleverSimConfig) -> Simulator {
    Simulator::start(config).await.expect("simulator starts")
}

async fn pull(c: &dyn Connector) -> Result<Roster, ConnectorError> {
    match collect(c.roster()).await {
        Ok(roster) => Ok(roster),
        Err(CollectError::Connector(e)) => Err(e),
        Err(violation) => panic!("{violation}"),
    }
}

fn ids<'a>(it: impl Iterator<Item = &'a SourceId>) -> BTreeSet<String> {
    it.map(|s| s.as_str().to_owned()).collect()
}

#[tokio::test]
async fn the_whole_district_comes_through_over_small_pages() {
    let sim = simulator(CleverSimConfig::default()).await;
    let roster = pull(connector(&sim).as_ref()).await.expect("pull");
    let (students, contacts, staff, sections, relationships) = sim.district(|d| {
        let ids = |role: Role| -> BTreeSet<String> {
            d.users_with_role(role)
                .filter(|u| d.is_shared(&u.id))
                .map(|u| u.id.clone())
                .collect()
        };
        let mut staff = ids(Role::Teacher);
        staff.extend(ids(Role::Staff));
        let relationships: usize = d
            .users_with_role(Role::Contact)
            .filter(|u| d.is_shared(&u.id))
            .filter_map(|u| u.roles.contact.as_ref())
            .map(|c| c.student_relationships.len())
            .sum();
        let sections: BTreeSet<String> = d
            .sections
            .iter()
            .filter(|s| d.is_shared(&s.id))
            .map(|s| s.id.clone())
            .collect();
        (
            ids(Role::Student),
            ids(Role::Contact),
            staff,
            sections,
            relationships,
        )
    });
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
    assert_eq!(
        ids(roster.guardian_accounts.values().map(|a| &a.source_id)),
        contacts
    );
    assert_eq!(ids(roster.staff.iter().map(|s| &s.source_id)), staff);
    assert_eq!(
        ids(roster.classrooms.iter().map(|c| &c.source_id)),
        sections
    );
    assert_eq!(roster.contacts.len(), relationships);
    // Small pages really paged, along next links.
    let nexts = sim
        .requests()
        .iter()
        .filter(|r| r.query.contains("starting_after="))
        .count();
    assert!(nexts > 10, "{nexts} follow-up pages");
}

#[tokio::test]
async fn clevers_vocabularies_map_and_unknown_values_warn_once() {
    let sim = simulator(CleverSimConfig {
        quirks: sim::clever::Quirks {
            unknown_values: true,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let cases = sim.district(|d| d.cases.clone());
    let roster = pull(connector(&sim).as_ref()).await.expect("pull");
    let contact_of = |id: &str| {
        roster
            .contacts
            .iter()
            .find(|c| c.source_id.as_str() == id)
            .unwrap_or_else(|| panic!("contact {id}"))
    };
    for (value, want) in [
        ("Parent", Relationship::Parent),
        ("Grandparent", Relationship::Grandparent),
        ("Self", Relationship::SelfContact),
        ("Aunt/Uncle", Relationship::Relative),
        ("Sibling", Relationship::Sibling),
        ("Other", Relationship::OtherRelationship),
    ] {
        let id = &cases.relationship_contacts[value];
        assert!(
            roster
                .contacts
                .iter()
                .any(|c| c.source_id.as_str() == id && c.relationship == want),
            "{value}"
        );
    }
    for (value, want) in [
        ("Parent/Guardian", ContactType::Guardian),
        ("Emergency", ContactType::Emergency),
        ("Primary", ContactType::Primary),
        ("Secondary", ContactType::Secondary),
        ("Family", ContactType::Family),
        ("Other", ContactType::OtherContactType),
    ] {
        let id = &cases.type_contacts[value];
        assert!(
            roster
                .contacts
                .iter()
                .any(|c| c.source_id.as_str() == id && c.contact_type == want),
            "{value}"
        );
    }
    for (value, want) in [
        ("Cell", PhoneType::Cell),
        ("Home", PhoneType::Home),
        ("Work", PhoneType::Work),
        ("Other", PhoneType::OtherPhoneType),
    ] {
        let c = contact_of(&cases.phone_type_contacts[value]);
        assert_eq!(
            c.phones.first().map(|p| p.kind.clone()),
            Some(want),
            "{value}"
        );
    }
    let unknown = contact_of(&cases.unknown_relationship_contact);
    assert_eq!(
        unknown.relationship,
        Relationship::Other("Probation Officer".into())
    );
    let about: Vec<_> = roster
        .warnings
        .iter()
        .filter(|w| w.message.contains("relationship"))
        .collect();
    assert_eq!(about.len(), 1, "one warning per unknown value: {about:?}");
    // A contact's full name arrives in name.last: split.
    let two = contact_of(&cases.two_students_contact);
    assert!(!two.first_name.is_empty() && !two.last_name.is_empty());
}

#[tokio::test]
async fn one_user_is_read_with_its_contacts_or_students() {
    let sim = simulator(CleverSimConfig::default()).await;
    let cases = sim.district(|d| d.cases.clone());
    let c = connector(&sim);
    let student = &cases.two_students[0];
    let snap = c
        .user(&UserRef::Student(SourceId::new(student)))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(snap.students.len(), 1);
    assert!(snap
        .guardian_accounts
        .iter()
        .any(|a| a.source_id.as_str() == cases.two_students_contact));
    assert!(snap
        .contacts
        .iter()
        .all(|c| c.student_source_id.as_str() == student));
    let guardian = c
        .user(&UserRef::Guardian(SourceId::new(
            &cases.two_students_contact,
        )))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(
        ids(guardian.students.iter().map(|s| &s.source_id)),
        cases.two_students.iter().cloned().collect()
    );
    sim.unshare(student);
    assert!(c
        .user(&UserRef::Student(SourceId::new(student)))
        .await
        .expect("read")
        .is_none());
}

/// The source's window is tiny (10 requests a second): the connector reads the
/// `X-Ratelimit-*` headers and waits for the reset before the window runs out, so the
/// window itself never answers 429; injected 429s, 500s and an HTML 502 are retried.
#[tokio::test]
async fn a_429_storm_is_waited_out_and_faults_are_retried() {
    let sim = simulator(CleverSimConfig {
        rate_limit: 10,
        rate_window: Duration::from_secs(1),
        ..CleverSimConfig::default()
    })
    .await;
    sim.inject(Fault::new(Match::path("/v3.0/users"), FaultKind::Status500).times(2));
    sim.inject(
        Fault::new(
            Match::path("/v3.0/schools"),
            FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .times(3),
    );
    sim.inject(Fault::new(
        Match::path("/v3.0/sections"),
        FaultKind::HtmlError { status: 502 },
    ));
    let roster = pull(connector(&sim).as_ref()).await.expect("survived");
    assert!(!roster.students.is_empty());
    assert_eq!(sim.faults_fired(), 6, "the faults fired");
    let requests = sim.requests();
    let storm = requests.iter().filter(|r| r.status == 429).count();
    assert_eq!(storm, 3, "the injected 429s, and none from the window");
    assert!(
        requests.len() > 30,
        "enough requests to spend several windows"
    );
}

#[tokio::test]
async fn a_next_link_past_records_the_page_did_not_hold_fails_the_pull() {
    let sim = simulator(CleverSimConfig::default()).await;
    sim.inject(Fault::new(Match::path("/v3.0/users"), FaultKind::ShortPage).skip(1));
    let err = pull(connector(&sim).as_ref())
        .await
        .expect_err("must not pass as whole");
    assert!(
        matches!(&err, ConnectorError::BrokenPaging { endpoint, .. } if endpoint == "GET /v3.0/users"),
        "{err}"
    );
    assert_eq!(sim.faults_fired(), 1);
}

#[tokio::test]
async fn the_check_names_a_revoked_token_and_another_districts_token() {
    let sim = simulator(CleverSimConfig::default()).await;
    let c = connector(&sim);
    let ok = c.check().await;
    assert!(ok.ok(), "{ok:#?}");
    sim.revoke_token();
    let revoked = c.check().await;
    assert!(!revoked.ok());
    assert!(format!("{revoked:?}").contains("revoked"), "{revoked:#?}");
    sim.restore_token();
    let other = another_districts_config(&sim);
    let report = CleverFactory
        .build(&other, &fast_http())
        .expect("builds")
        .check()
        .await;
    assert!(!report.ok());
    assert!(
        format!("{report:?}").contains("another district"),
        "{report:#?}"
    );
}

/// A district configured with another district's id and this district's token.
fn another_districts_config(sim: &Simulator) -> ConnectorConfig {
    ConnectorConfig {
        kind: "clever".into(),
        settings: BTreeMap::from([
            (
                "district_id".to_owned(),
                "0123456789abcdef01234567".to_owned(),
            ),
            ("api_base_url".to_owned(), sim.base_url()),
        ]),
        secrets: BTreeMap::from([("district_token".to_owned(), Secret::new(sim.token()))]),
    }
}

#[tokio::test]
async fn a_token_of_another_district_reads_nothing() {
    let sim = simulator(CleverSimConfig::default()).await;
    let other = another_districts_config(&sim);
    let c = CleverFactory.build(&other, &fast_http()).expect("builds");
    let err = pull(c.as_ref())
        .await
        .expect_err("another district's roster is never pulled");
    assert!(
        matches!(&err, ConnectorError::WrongDistrict { endpoint, .. } if endpoint == "GET /v3.0/districts"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("not district 0123456789abcdef01234567"),
        "{err}"
    );
    let student = sim
        .district(|d| {
            d.users_with_role(Role::Student)
                .next()
                .map(|u| u.id.clone())
        })
        .expect("a student");
    let err = c
        .user(&UserRef::Student(SourceId::new(&student)))
        .await
        .expect_err("nor one of its users");
    assert!(matches!(err, ConnectorError::WrongDistrict { .. }), "{err}");
    let read: Vec<String> = sim.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        read.iter().all(|p| p == "/v3.0/districts"),
        "only the district was asked for: {read:?}"
    );
}
