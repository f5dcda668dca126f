//! The ClassLink connector against the OneRoster simulator over loopback HTTP, in 1.1
//! (OAuth 1.0a, discovery) and 1.2 (OAuth 2, direct): the whole district comes through
//! with guardians tied by `agents` both ways; a capped page, a lost body and a stale
//! signature are met the way a user relies on; the check names what is wrong; the
//! one-user read follows `agents`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use connector::conformance::{collect, CollectError, Roster};
use connector::{
    CheckOutcome, Connector, ConnectorError, ConnectorFactory, HttpConfig, RetryPolicy, UserRef,
};
use model::district::ConnectorConfig;
use model::ids::SourceId;
use model::Secret;
use rostersync_classlink::ClassLinkFactory;
use sim::oneroster::{Fault, FaultKind, Match, OneRosterSimConfig, Simulator};

fn fast_http() -> HttpConfig {
    HttpConfig {
        retry: RetryPolicy {
            retries: 4,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        },
        max_retry_after: Duration::from_secs(2),
        ..HttpConfig::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1_1,
    V1_2,
}

fn config(sim: &Simulator, version: Version, extra: &[(&str, &str)]) -> ConnectorConfig {
    let c = sim.config();
    let mut settings = BTreeMap::from([
        ("tenant_id".to_owned(), c.tenant_id.to_string()),
        ("application_id".to_owned(), c.application_id.to_string()),
        ("page_size".to_owned(), "9".to_owned()),
    ]);
    let mut secrets = BTreeMap::new();
    match version {
        Version::V1_1 => {
            settings.insert("discovery_url".into(), sim.discovery_url());
            secrets.insert("partner_token".to_owned(), Secret::new(&c.partner_token));
        }
        Version::V1_2 => {
            settings.extend([
                ("oneroster_version".to_owned(), "1.2".to_owned()),
                ("auth".to_owned(), "oauth2".to_owned()),
                ("token_url".to_owned(), sim.token_url()),
                ("base_url".to_owned(), sim.base_url()),
                ("client_id".to_owned(), c.client_id.clone()),
            ]);
            secrets.insert("client_secret".to_owned(), Secret::new(&c.client_secret));
        }
    }
    for (k, v) in extra {
        settings.insert((*k).to_owned(), (*v).to_owned());
    }
    ConnectorConfig {
        kind: "classlink".into(),
        settings,
        secrets,
    }
}

fn connector(sim: &Simulator, version: Version) -> Arc<dyn Connector> {
    ClassLinkFactory
        .build(&config(sim, version, &[]), &fast_http())
        .expect("builds")
}

async fn simulator() -> Simulator {
    Simulator::start(OneRosterSimConfig::default())
        .await
        .expect("simulator starts")
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

async fn whole_district(version: Version) {
    let sim = simulator().await;
    let roster = pull(connector(&sim, version).as_ref()).await.expect("pull");
    let (students, staff, classes, links) = sim.district(|d| {
        (
            d.active_students(),
            d.active_staff(),
            d.active_classes(),
            d.expected_guardian_links(),
        )
    });
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
    // Birth date and sex from /demographics, kept apart from the user record.
    let born = sim.district(|d| {
        d.users()
            .iter()
            .map(|u| {
                (
                    u.sourced_id.clone(),
                    sim::oneroster::expected_demographics(u),
                )
            })
            .collect::<BTreeMap<_, _>>()
    });
    for s in &roster.students {
        let (date, sex) = born[s.source_id.as_str()];
        assert_eq!(s.birth_date, Some(date), "{}", s.source_id);
        assert_eq!(
            s.gender,
            model::roster::Gender::parse(sex),
            "{}",
            s.source_id
        );
    }
    assert_eq!(ids(roster.staff.iter().map(|s| &s.source_id)), staff);
    assert_eq!(ids(roster.classrooms.iter().map(|c| &c.source_id)), classes);
    let got: BTreeSet<(String, String, String)> = roster
        .contacts
        .iter()
        .map(|c| {
            (
                c.source_id.as_str().to_owned(),
                c.student_source_id.as_str().to_owned(),
                c.relationship.as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, links, "every agents tie, either way, of live users");
    for a in roster.guardian_accounts.values() {
        let tied: BTreeSet<&str> = got
            .iter()
            .filter(|(g, _, _)| g == a.source_id.as_str())
            .map(|(_, s, _)| s.as_str())
            .collect();
        let listed: BTreeSet<&str> = a.student_source_ids.iter().map(|s| s.as_str()).collect();
        assert_eq!(tied, listed, "{}", a.source_id);
    }
    // Small pages really paged, by offset, to the declared count.
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.query.contains("offset=9&") || r.query.contains("offset=18&"))
        .count();
    assert!(pages > 4, "{pages} follow-up pages");
    assert!(sim.requests().iter().all(|r| r.auth_refusal.is_none()));
}

#[tokio::test]
async fn a_1_1_district_comes_through_found_by_discovery_and_signed() {
    whole_district(Version::V1_1).await;
}

#[tokio::test]
async fn a_1_2_district_comes_through_with_an_oauth2_token() {
    whole_district(Version::V1_2).await;
}

#[tokio::test]
async fn a_page_shorter_than_asked_is_read_on_from_the_rows_that_came() {
    // The server decides the page size: a page of fewer rows than `limit` while the
    // total says more is not a lost row; the next page starts after the last row sent.
    let sim = simulator().await;
    sim.inject(Fault::new(
        Match::get("/ims/oneroster/v1p1/students"),
        FaultKind::ShortPage,
    ));
    let roster = pull(connector(&sim, Version::V1_1).as_ref())
        .await
        .expect("a short page is not the end while the total says more");
    assert_eq!(sim.faults_fired(), 1);
    let students = sim.district(|d| d.active_students());
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
    let offsets: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/students"))
        .filter_map(|r| {
            r.query
                .split('&')
                .find(|p| p.starts_with("offset="))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        offsets[..2],
        ["offset=0", "offset=8"],
        "the second page starts after the 8 rows sent"
    );
}

#[tokio::test]
async fn a_broken_body_and_a_server_error_are_retried() {
    let sim = simulator().await;
    sim.inject(Fault::new(
        Match::get("/ims/oneroster/v1p1/users"),
        FaultKind::MalformedJson,
    ));
    sim.inject(Fault::new(
        Match::get("/ims/oneroster/v1p1/classes"),
        FaultKind::DropMidBody,
    ));
    sim.inject(Fault::new(
        Match::get("/ims/oneroster/v1p1/enrollments"),
        FaultKind::Status500,
    ));
    let roster = pull(connector(&sim, Version::V1_1).as_ref())
        .await
        .expect("retried to the end");
    assert_eq!(sim.faults_fired(), 3);
    assert!(!roster.enrollments.is_empty());
}

#[tokio::test]
async fn refused_credentials_are_an_error_not_an_empty_roster() {
    let sim = simulator().await;
    let mut bad = config(&sim, Version::V1_2, &[]);
    bad.secrets
        .insert("client_secret".into(), Secret::new("wrong"));
    let c = ClassLinkFactory.build(&bad, &fast_http()).expect("builds");
    let err = pull(c.as_ref()).await.expect_err("refused");
    assert!(matches!(err, ConnectorError::Unauthorized { .. }), "{err}");
    let report = c.check().await;
    assert!(!report.ok());
    let failed = report
        .steps
        .iter()
        .find_map(|s| match &s.outcome {
            CheckOutcome::Failed { problem, .. } => Some(problem.clone()),
            _ => None,
        })
        .expect("a failed step");
    assert!(failed.contains("refused the credentials"), "{failed}");
}

#[tokio::test]
async fn the_check_names_an_unknown_tenant_and_a_disabled_application() {
    let sim = simulator().await;
    let unknown = ClassLinkFactory
        .build(
            &config(&sim, Version::V1_1, &[("tenant_id", "424242")]),
            &fast_http(),
        )
        .expect("builds");
    let text = format!("{:?}", unknown.check().await);
    assert!(text.contains("no tenant 424242"), "{text}");
    let good = connector(&sim, Version::V1_1);
    let report = good.check().await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.source_version.as_deref(), Some("OneRoster 1.1"));
    sim.set_application_enabled(false);
    let fresh = connector(&sim, Version::V1_1);
    let text = format!("{:?}", fresh.check().await);
    assert!(text.contains("disabled for tenant"), "{text}");
}

#[tokio::test]
async fn one_user_comes_with_the_users_its_agents_name() {
    let sim = simulator().await;
    let cases = sim.district(|d| d.cases.clone());
    let c = connector(&sim, Version::V1_2);
    let student = &cases.two_students[0];
    let snapshot = c
        .user(&UserRef::Student(SourceId::new(student)))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(snapshot.students.len(), 1);
    let (born, _) = sim.district(|d| {
        d.users()
            .iter()
            .find(|u| &u.sourced_id == student)
            .map(sim::oneroster::expected_demographics)
            .expect("the student")
    });
    assert_eq!(
        snapshot.students[0].birth_date,
        Some(born),
        "from /demographics"
    );
    assert!(snapshot
        .guardian_accounts
        .iter()
        .any(|a| a.source_id.as_str() == cases.two_students_guardian));
    let guardian = c
        .user(&UserRef::Guardian(SourceId::new(
            &cases.two_students_guardian,
        )))
        .await
        .expect("read")
        .expect("known");
    assert_eq!(
        ids(guardian.students.iter().map(|s| &s.source_id)),
        cases.two_students.iter().cloned().collect()
    );
    let gone = c
        .user(&UserRef::Student(SourceId::new(&cases.tobedeleted_student)))
        .await
        .expect("read");
    assert!(gone.is_none(), "a tobedeleted student is gone");
    let unknown = c
        .user(&UserRef::Student(SourceId::new("no-such-user")))
        .await
        .expect("read");
    assert!(unknown.is_none());
}

#[tokio::test]
async fn students_come_without_birth_dates_where_demographics_are_not_shared() {
    let sim = Simulator::start(OneRosterSimConfig {
        quirks: sim::oneroster::Quirks {
            refused: vec![("/demographics".into(), 403)],
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    let roster = pull(connector(&sim, Version::V1_2).as_ref())
        .await
        .expect("demographics are optional");
    let students = sim.district(|d| d.active_students());
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
    assert!(roster.students.iter().all(|s| s.birth_date.is_none()));
    assert!(
        roster.warnings.iter().any(
            |w| w.message.starts_with("birth dates and sex are not shared")
                && w.endpoint.ends_with("/demographics")
        ),
        "{:#?}",
        roster.warnings
    );
}

#[tokio::test]
async fn a_data_revision_that_moves_mid_pull_ends_the_pull() {
    let sim = Simulator::start(OneRosterSimConfig {
        quirks: sim::oneroster::Quirks {
            revision_moves_after: Some(3),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    let err = pull(connector(&sim, Version::V1_1).as_ref())
        .await
        .expect_err("pages of two revisions are not one roster");
    assert!(
        matches!(&err, ConnectorError::SourceChanged { reason, .. } if reason.contains("\"rev-1\" to \"rev-2\"")),
        "{err}"
    );
    // The next pull reads one revision throughout.
    let roster = pull(connector(&sim, Version::V1_1).as_ref())
        .await
        .expect("one revision");
    let students = sim.district(|d| d.active_students());
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
}

#[tokio::test]
async fn a_page_answered_502_again_and_again_is_asked_in_smaller_pages() {
    // ClassLink answers 502 to a page too heavy to build (reference §5, reported): once
    // retries are spent, the same rows are asked for in pages half the size.
    let sim = simulator().await;
    sim.inject(
        Fault::new(
            Match::get("/ims/oneroster/v1p1/students"),
            FaultKind::HtmlError { status: 502 },
        )
        .times(5),
    );
    let c = ClassLinkFactory
        .build(
            &config(&sim, Version::V1_1, &[("page_size", "400")]),
            &fast_http(),
        )
        .expect("builds");
    let roster = pull(c.as_ref()).await.expect("smaller pages get through");
    assert_eq!(sim.faults_fired(), 5);
    let students = sim.district(|d| d.active_students());
    assert_eq!(ids(roster.students.iter().map(|s| &s.source_id)), students);
    let asked: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/students") && r.status == 200)
        .filter_map(|r| {
            r.query
                .split('&')
                .find(|p| p.starts_with("limit="))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        asked.first().map(String::as_str),
        Some("limit=200"),
        "{asked:?}"
    );
}
