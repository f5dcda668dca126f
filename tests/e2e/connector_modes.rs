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

use crate::harness::{create_request, district, run_to_end, Client, Server};
use cases::{cases, oneroster, truth, Case, Expect, Sim, Version, SOURCE_BODIES};

mod cases;

store::on_both_backends!(
    every_connector_holds_in_every_mode_of_its_source,
    a_cancel_stops_a_pull_waiting_on_a_slow_page,
);

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
