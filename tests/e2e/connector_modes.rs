//! Every connector against every strict mode its source's simulator can show, on both
//! databases: a run ends the way a district administrator relies on — succeeded with the
//! exact roster; succeeded with a warning naming the kind it could not read (and nothing
//! of that kind created); or failed naming the cause, with nothing written.
//!
//! Each mode is a behaviour real servers show, taken from the reference pages (the
//! simulators' `Quirks` cite the section): a server-side page cap below what is asked, a
//! OneRoster 1.2 server refusing 1.1's `role`, a server ignoring `offset` or sending no
//! totals or links, optional kinds refused, a Clever token of another district.

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use store::{Backend, Store};

use crate::harness::{
    connector, create_request, district, powerschool_connector, run_to_end, Client, Server,
};
use crate::on_both_backends;

on_both_backends!(
    every_connector_holds_in_every_mode_of_its_source,
    a_cancel_stops_a_pull_waiting_on_a_slow_page,
);

/// What a run in one mode must end in.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Succeeded, every record of every kind stored.
    Whole,
    /// As `Whole`, with a warning holding this text.
    WholeWarning(&'static str),
    /// Succeeded with every student and guardian; these kinds named in a warning and
    /// none of them created.
    Without(&'static [&'static str]),
    /// Failed, the error holding this text, nothing written.
    Fails(&'static str),
}

/// What the source holds, to hold the stored roster to.
#[derive(Debug, Default)]
struct Truth {
    students: u64,
    staff: u64,
    classrooms: u64,
    /// A student's source id and its e-mail.
    student_email: Option<(String, String)>,
}

/// A running simulator of any source, kept alive for the run.
enum Sim {
    PowerSchool(sim::powerschool::Simulator),
    Clever(sim::clever::Simulator),
    OneRoster(sim::oneroster::Simulator),
}

struct Case {
    name: &'static str,
    sim: Sim,
    connector: pb::ConnectorConfig,
    settings: Option<pb::DistrictSettings>,
    expect: Expect,
}

async fn powerschool(
    name: &'static str,
    page_cap: Option<u32>,
    refused: sim::powerschool::Refusals,
    expect: Expect,
) -> Case {
    let sim = sim::powerschool::Simulator::start(sim::powerschool::SimConfig {
        page_cap,
        ..Default::default()
    })
    .await
    .expect("powerschool simulator");
    sim.set_plugin(sim::powerschool::PluginState {
        refused,
        ..Default::default()
    });
    let connector =
        powerschool_connector(&sim.base_url(), sim.client_id(), sim.client_secret(), &[]);
    Case {
        name,
        sim: Sim::PowerSchool(sim),
        connector,
        settings: None,
        expect,
    }
}

fn clever_settings() -> Option<pb::DistrictSettings> {
    Some(pb::DistrictSettings {
        phone_types: Some(pb::TypeSelection {
            all: false,
            values: vec!["cell".into()],
        }),
        ..Default::default()
    })
}

async fn clever(
    name: &'static str,
    quirks: sim::clever::Quirks,
    district_id: Option<&str>,
    expect: Expect,
) -> Case {
    let sim = sim::clever::Simulator::start(sim::clever::CleverSimConfig {
        quirks,
        ..Default::default()
    })
    .await
    .expect("clever simulator");
    let connector = connector(
        "clever",
        &[
            ("district_id", district_id.unwrap_or(sim.district_id())),
            ("api_base_url", &sim.base_url()),
            ("page_size", "25"),
        ],
        &[("district_token", sim.token())],
    );
    Case {
        name,
        sim: Sim::Clever(sim),
        connector,
        settings: clever_settings(),
        expect,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1_1,
    V1_2,
}

async fn oneroster(
    name: &'static str,
    version: Version,
    max_limit: u32,
    quirks: sim::oneroster::Quirks,
    expect: Expect,
) -> Case {
    let sim = sim::oneroster::Simulator::start(sim::oneroster::OneRosterSimConfig {
        max_limit,
        quirks,
        ..Default::default()
    })
    .await
    .expect("oneroster simulator");
    let c = sim.config().clone();
    let mut settings = vec![
        ("tenant_id".to_owned(), c.tenant_id.to_string()),
        ("application_id".to_owned(), c.application_id.to_string()),
        ("page_size".to_owned(), "25".to_owned()),
    ];
    let secrets = match version {
        Version::V1_1 => {
            settings.push(("discovery_url".into(), sim.discovery_url()));
            vec![("partner_token", c.partner_token.clone())]
        }
        Version::V1_2 => {
            settings.extend([
                ("oneroster_version".to_owned(), "1.2".to_owned()),
                ("auth".to_owned(), "oauth2".to_owned()),
                ("token_url".to_owned(), sim.token_url()),
                ("base_url".to_owned(), sim.base_url()),
                ("client_id".to_owned(), c.client_id.clone()),
            ]);
            vec![("client_secret", c.client_secret.clone())]
        }
    };
    let pairs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let secrets: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Case {
        name,
        connector: connector("classlink", &pairs, &secrets),
        sim: Sim::OneRoster(sim),
        settings: None,
        expect,
    }
}

/// The texts the simulators' refusals carry in their bodies.
const SOURCE_BODIES: [&str; 5] = [
    "Resource not available",
    "may not read this collection",
    "Not found",
    "Not Found",
    "Insufficient",
];

fn refused(path: &str, status: u16) -> Vec<(String, u16)> {
    vec![(path.to_owned(), status)]
}

/// Every mode of every source, with the outcome it must have.
async fn cases() -> Vec<Case> {
    use sim::clever::Quirks as CleverQuirks;
    use sim::oneroster::Quirks as OneRosterQuirks;
    use sim::powerschool::{Refusal, Refusals};
    const ALL: u32 = 10_000;
    vec![
        powerschool("ps-plain", None, Refusals::default(), Expect::Whole).await,
        powerschool("ps-page-cap", Some(3), Refusals::default(), Expect::Whole).await,
        powerschool(
            "ps-staff-refused",
            None,
            Refusals {
                staff: Some(Refusal::Forbidden),
                ..Default::default()
            },
            // A section names its teacher by a school's staff record: without the staff
            // lists no enrollment can be read whole.
            Expect::Without(&["staff", "enrollments"]),
        )
        .await,
        powerschool(
            "ps-sections-refused",
            None,
            Refusals {
                sections: Some(Refusal::NotFound),
                ..Default::default()
            },
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        powerschool(
            "ps-enrollments-refused",
            None,
            Refusals {
                section_enrollments: Some(Refusal::Forbidden),
                ..Default::default()
            },
            Expect::Without(&["enrollments"]),
        )
        .await,
        clever("clever-plain", CleverQuirks::default(), None, Expect::Whole).await,
        clever(
            "clever-page-cap",
            CleverQuirks {
                page_cap: Some(7),
                ..Default::default()
            },
            None,
            Expect::Whole,
        )
        .await,
        clever(
            "clever-sections-refused",
            CleverQuirks {
                refused: refused("/sections", 404),
                ..Default::default()
            },
            None,
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        clever(
            "clever-other-district",
            CleverQuirks::default(),
            Some("0123456789abcdef01234567"),
            Expect::Fails("not district 0123456789abcdef01234567"),
        )
        .await,
        oneroster(
            "oneroster-1-1-plain",
            Version::V1_1,
            ALL,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-1-2-strict",
            Version::V1_2,
            ALL,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-page-cap",
            Version::V1_1,
            7,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-1-2-page-cap",
            Version::V1_2,
            7,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-no-headers",
            Version::V1_1,
            7,
            OneRosterQuirks {
                no_total: true,
                no_links: true,
                ..Default::default()
            },
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-ignores-offset",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                ignore_offset: true,
                no_total: true,
                ..Default::default()
            },
            Expect::Fails("repeats the page before it"),
        )
        .await,
        oneroster(
            // The district's data revision moves once mid-pull: the pull starts again.
            "oneroster-revision-moves",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                revision_moves_after: Some(3),
                ..Default::default()
            },
            Expect::WholeWarning("the pull started again"),
        )
        .await,
        oneroster(
            "oneroster-classes-refused",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                refused: refused("/classes", 403),
                ..Default::default()
            },
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        oneroster(
            "oneroster-enrollments-refused",
            Version::V1_2,
            ALL,
            OneRosterQuirks {
                refused: refused("/enrollments", 404),
                ..Default::default()
            },
            Expect::Without(&["enrollments"]),
        )
        .await,
        oneroster(
            "oneroster-teachers-refused",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                refused: refused("/teachers", 403),
                ..Default::default()
            },
            Expect::Without(&["staff"]),
        )
        .await,
    ]
}

fn truth(sim: &Sim) -> Truth {
    match sim {
        Sim::PowerSchool(sim) => sim.district(|x| {
            let students = x.expected_students();
            Truth {
                students: students.len() as u64,
                staff: x.expected_staff().len() as u64,
                classrooms: x.expected_classrooms().len() as u64,
                student_email: students
                    .iter()
                    .find(|s| !s.org_email.is_empty())
                    .map(|s| (s.source_id.as_str().to_owned(), s.org_email.clone())),
            }
        }),
        Sim::Clever(sim) => sim.district(|x| {
            use sim::clever::Role;
            let shared = |role: Role| -> std::collections::BTreeSet<String> {
                x.users_with_role(role)
                    .filter(|u| x.is_shared(&u.id))
                    .map(|u| u.id.clone())
                    .collect()
            };
            let mut staff = shared(Role::Teacher);
            staff.extend(shared(Role::Staff));
            let student_email = x
                .users_with_role(Role::Student)
                .filter(|u| x.is_shared(&u.id))
                .find_map(|u| u.email.clone().map(|e| (u.id.clone(), e)));
            Truth {
                students: shared(Role::Student).len() as u64,
                staff: staff.len() as u64,
                classrooms: x.sections.iter().filter(|s| x.is_shared(&s.id)).count() as u64,
                student_email,
            }
        }),
        Sim::OneRoster(sim) => sim.district(|x| {
            let student_email = x
                .users()
                .iter()
                .filter(|u| x.active_students().contains(&u.sourced_id))
                .find(|u| !u.email.is_empty())
                .map(|u| (u.sourced_id.clone(), u.email.clone()));
            Truth {
                students: x.active_students().len() as u64,
                staff: x.active_staff().len() as u64,
                classrooms: x.active_classes().len() as u64,
                student_email,
            }
        }),
    }
}

async fn every_connector_holds_in_every_mode_of_its_source(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let store = server.store().await;
    let mut failures = Vec::new();
    for case in cases().await {
        if let Err(why) = one_case(&mut client, &store, &case).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

async fn one_case(client: &mut Client, store: &Store, case: &Case) -> Result<(), String> {
    client
        .create_district(create_request(district(
            case.name,
            case.name,
            case.connector.clone(),
            case.settings.clone(),
            "America/Chicago",
        )))
        .await
        .map_err(|e| format!("create: {e}"))?;
    let run = run_to_end(client, case.name, false).await;
    let d: DistrictId = case.name.parse().expect("id");
    let d = &d;
    let count = |what: &'static str| async move {
        match what {
            "students" => store.count_students(d, false).await,
            "staff" => store.count_staff(d, false).await,
            "classrooms" => store.count_classrooms(d, false).await,
            _ => store.count_guardians(d, false).await,
        }
        .expect("count")
    };
    // What a source says in an error body never reaches a caller (SPEC §2c).
    for said in [&run.error].into_iter().chain(run.warnings.iter()) {
        if SOURCE_BODIES.iter().any(|b| said.contains(b)) {
            return Err(format!("the source's own words reached the run: {said:?}"));
        }
    }
    let truth = truth(&case.sim);
    let check = |what: &str, got: u64, want: u64| {
        (got == want)
            .then_some(())
            .ok_or_else(|| format!("{what}: stored {got}, the source holds {want}; {run:#?}"))
    };
    match case.expect {
        Expect::Fails(needle) => {
            if run.state != pb::RunState::Failed as i32 || !run.error.contains(needle) {
                return Err(format!("expected a failure naming {needle:?}: {run:#?}"));
            }
            check("students", count("students").await, 0)?;
            check("guardians", count("guardians").await, 0)?;
            return Ok(());
        }
        Expect::Whole | Expect::WholeWarning(_) | Expect::Without(_) => {
            if run.state != pb::RunState::Succeeded as i32 {
                return Err(format!("expected success: {run:#?}"));
            }
        }
    }
    let without: &[&str] = match case.expect {
        Expect::Without(kinds) => kinds,
        _ => &[],
    };
    // TestConnection tries what runs read, optional kinds included, and names what the
    // district will not get without failing the check.
    let checked = client
        .test_connection(pb::TestConnectionRequest {
            district_id: case.name.into(),
        })
        .await
        .map_err(|e| format!("test connection: {e}"))?
        .into_inner();
    let limited = checked
        .steps
        .iter()
        .filter(|s| s.outcome == pb::CheckOutcome::Limited as i32)
        .count();
    if !checked.ok || (limited > 0) == without.is_empty() {
        return Err(format!("test connection: {checked:#?}"));
    }
    for step in &checked.steps {
        if SOURCE_BODIES
            .iter()
            .any(|b| step.cause.contains(b) || step.detail.contains(b))
        {
            return Err(format!(
                "the source's own words reached the check: {step:#?}"
            ));
        }
    }
    check("students", count("students").await, truth.students)?;
    if count("guardians").await == 0 {
        return Err(format!("no guardian was stored: {run:#?}"));
    }
    for (kind, want) in [("staff", truth.staff), ("classrooms", truth.classrooms)] {
        let want = if without.contains(&kind) { 0 } else { want };
        check(kind, count(kind).await, want)?;
    }
    for kind in without {
        let said = format!("{kind} not synced this run");
        if !run.warnings.iter().any(|w| w.contains(&said)) {
            return Err(format!("no warning says {said:?}: {:#?}", run.warnings));
        }
    }
    if let Expect::WholeWarning(said) = case.expect {
        if !run.warnings.iter().any(|w| w.contains(said)) {
            return Err(format!("no warning says {said:?}: {:#?}", run.warnings));
        }
    }
    if without.is_empty() && run.warnings.iter().any(|w| w.contains("not synced")) {
        return Err(format!("an unexpected warning: {:#?}", run.warnings));
    }
    if let Some((student, email)) = truth.student_email {
        let s = store
            .find_student_by_source(d, &SourceId::new(&student))
            .await
            .map_err(|e| format!("student {student}: {e}"))?;
        if s.org_email != email {
            return Err(format!(
                "student {student}'s e-mail: stored {:?}, the source holds {email:?}",
                s.org_email
            ));
        }
    }
    Ok(())
}

/// A source that takes a minute to answer a page does not hold a cancel back: the run
/// stops within a second or two, with nothing written — on PostgreSQL with the cancel
/// asked of another replica, which reaches the working one through the store.
async fn a_cancel_stops_a_pull_waiting_on_a_slow_page(backend: Backend) {
    use sim::oneroster::{Fault, FaultKind, Match};
    let server = Server::start_with(backend, &[("ROSTERSYNC_INSTANCE_ID", "replica-a")]).await;
    let other = (backend == Backend::Postgres)
        .then(|| server.replica(&[("ROSTERSYNC_INSTANCE_ID", "replica-b")]));
    let mut client = server.client().await;
    let mut canceller = match &other {
        Some(replica) => replica.client().await,
        None => server.client().await,
    };
    let store = server.store().await;
    let case = oneroster(
        "slow-source",
        Version::V1_1,
        10_000,
        sim::oneroster::Quirks::default(),
        Expect::Whole,
    )
    .await;
    let Sim::OneRoster(sim) = &case.sim else {
        unreachable!("a OneRoster case")
    };
    sim.inject(
        Fault::new(
            Match::get("/ims/oneroster/v1p1/students"),
            FaultKind::Delay(std::time::Duration::from_secs(60)),
        )
        .times(u32::MAX),
    );
    client
        .create_district(create_request(district(
            case.name,
            case.name,
            case.connector.clone(),
            None,
            "America/Chicago",
        )))
        .await
        .expect("create");
    let run = client
        .start_sync(pb::StartSyncRequest {
            district_id: case.name.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    // Wait until the pull is waiting on the slow page: the run records what it has
    // fetched every half second while it pulls.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = client
            .get_sync_run(pb::GetSyncRunRequest {
                district_id: case.name.into(),
                run_id: run.run_id.clone(),
            })
            .await
            .expect("get")
            .into_inner();
        if now.fetched.get("schools").copied().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pull never showed its schools: {now:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    canceller
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: case.name.into(),
            run_id: run.run_id.clone(),
        })
        .await
        .expect("cancel");
    let ended = crate::harness::follow_run(&mut client, case.name, &run.run_id).await;
    assert_eq!(ended.state, pb::RunState::Cancelled as i32, "{ended:#?}");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "the cancel took {:?}",
        asked.elapsed()
    );
    let d: DistrictId = case.name.parse().expect("id");
    assert_eq!(store.count_students(&d, false).await.expect("count"), 0);
}
