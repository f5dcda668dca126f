//! District sync runs end to end: the real server over gRPC against the PowerSchool
//! simulator, on SQLite and PostgreSQL.

use model::ids::{DistrictId, RunId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{Fault, FaultKind, Match, SimConfig, Simulator};
use store::{Backend, Store};
use tonic::Code;

use crate::harness::{create_sim_district, follow_run, run_to_end, Server};

mod listings;
mod revert;
mod review;

store::on_both_backends!(
    a_first_run_creates_the_roster_and_a_second_writes_nothing,
    a_plan_over_a_threshold_pauses_until_approved_or_cancelled,
    a_truncated_pull_fails_without_archiving,
);

const DISTRICT: &str = "sim";

async fn setup(backend: Backend) -> (Simulator, Server, crate::harness::Client) {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[("page_size", "7")]).await;
    (sim, server, client)
}

/// Starts a run and follows it to its end (or pause).
async fn run(client: &mut crate::harness::Client, dry_run: bool) -> pb::SyncRun {
    run_to_end(client, DISTRICT, dry_run).await
}

async fn follow(client: &mut crate::harness::Client, run_id: &str) -> pb::SyncRun {
    follow_run(client, DISTRICT, run_id).await
}

async fn changes(
    client: &mut crate::harness::Client,
    run_id: &str,
    entity: &str,
    operation: &str,
) -> Vec<pb::RunChange> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_run_changes(pb::ListRunChangesRequest {
                district_id: DISTRICT.into(),
                run_id: run_id.into(),
                entity: entity_value(entity),
                operation: operation_value(operation),
                page_size: 50,
                page_token: token,
            })
            .await
            .expect("changes")
            .into_inner();
        out.extend(page.changes);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// The proto value of an entity filter by its lower-case name ("" for all).
fn entity_value(name: &str) -> i32 {
    match name {
        "" => 0,
        n => pb::Entity::from_str_name(&format!("ENTITY_{}", n.to_uppercase()))
            .map(|e| e as i32)
            .unwrap_or_else(|| panic!("no entity {n}")),
    }
}

/// The proto value of an operation filter by its lower-case name ("" for all).
fn operation_value(name: &str) -> i32 {
    match name {
        "" => 0,
        n => pb::Operation::from_str_name(&format!("OPERATION_{}", n.to_uppercase()))
            .map(|o| o as i32)
            .unwrap_or_else(|| panic!("no operation {n}")),
    }
}

fn district() -> DistrictId {
    DISTRICT.parse().expect("district id")
}

async fn change_log_rows(store: &Store, run_id: &str) -> u64 {
    let id: RunId = run_id.parse().expect("run id");
    store
        .count_change_log_rows_of_run(&district(), id)
        .await
        .expect("count")
}

/// The tier and rule of the link between a student and a guardian, by their SIS ids.
async fn link(store: &Store, student: &str, guardian: &str) -> Option<(String, String)> {
    let d = district();
    let s = store
        .find_student_by_source(&d, &SourceId::new(student))
        .await
        .expect("student");
    let g = store
        .find_guardian_by_source(&d, &SourceId::new(guardian))
        .await
        .ok()?;
    store
        .list_student_links(&d, s.id)
        .await
        .expect("links")
        .into_iter()
        .find(|l| l.guardian_id == g.id)
        .map(|l| (l.tier.as_str().to_owned(), l.decision.rule.to_string()))
}

fn ok(run: &pb::SyncRun) {
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
}

async fn a_first_run_creates_the_roster_and_a_second_writes_nothing(backend: Backend) {
    let (sim, server, mut client) = setup(backend).await;
    let store = server.store().await;
    let cases = sim.district(|d| d.cases().clone());
    let students = sim.district(|d| d.expected_students().len() as u64);

    // A dry run plans everything and writes nothing else.
    let dry = run(&mut client, true).await;
    ok(&dry);
    assert_eq!(
        dry.planned.get("student.create"),
        Some(&students),
        "{dry:#?}"
    );
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        0,
        "a dry run writes no student"
    );
    assert_eq!(change_log_rows(&store, &dry.run_id).await, 0);

    // Its summary counts per school and kind.
    let by_school: u64 = dry
        .planned_by_school
        .iter()
        .filter(|(k, _)| k.ends_with("/student.create"))
        .map(|(_, n)| *n)
        .sum();
    assert_eq!(by_school, students, "{:#?}", dry.planned_by_school);
    let schools = sim.district(|d| d.expected_schools());
    for school in &schools {
        assert!(
            dry.planned_by_school
                .contains_key(&format!("{}/student.create", school.source_id)),
            "school {} in the summary: {:#?}",
            school.source_id,
            dry.planned_by_school
        );
    }

    // The first run creates what the dry run said.
    let first = run(&mut client, false).await;
    ok(&first);
    assert_eq!(
        first.planned, dry.planned,
        "the dry run reported what the run then did"
    );
    assert_eq!(first.applied, first.plan_items);
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        students
    );
    assert!(change_log_rows(&store, &first.run_id).await > 0);

    // Seed 000: a student's names are the legal ones, not the name it goes by.
    let (preferred, legal) = sim.district(|d| {
        let s = d
            .student(cases.preferred_name_student.parse().expect("dcid"))
            .expect("the preferred-name student");
        (s.first_name.clone(), s.legal_first_name().to_owned())
    });
    let stored = store
        .find_student_by_source(&district(), &SourceId::new(&cases.preferred_name_student))
        .await
        .expect("stored");
    assert_ne!(preferred, legal);
    assert_eq!(stored.legal_first_name, legal);

    // Tiers and rule ids of seed 001's cases.
    let expect = [
        (
            &cases.independent_full_student,
            &cases.independent_full_guardian,
            Some(("full", "ps.link.full")),
        ),
        (
            &cases.independent_read_only_student,
            &cases.independent_read_only_guardian,
            Some(("read_only", "ps.rule5.release_of_information")),
        ),
        (
            &cases.not_decision_making_student,
            &cases.not_decision_making_guardian,
            Some(("restricted", "ps.rule4.not_decision_making")),
        ),
        (
            &cases.no_decision_row_student,
            &cases.no_decision_row_guardian,
            Some(("restricted", "ps.rule4.not_decision_making")),
        ),
        (
            &cases.shared_email_student,
            &cases.shared_email_guardian,
            Some(("restricted", "ps.rule4.not_decision_making")),
        ),
        (&cases.web_access_student, &cases.web_access_guardian, None),
        (
            &cases.unmatched_email_student,
            &cases.unmatched_email_guardian,
            None,
        ),
        (&cases.disabled_student, &cases.disabled_guardian, None),
    ];
    for (student, guardian, want) in expect {
        let got = link(&store, student, guardian).await;
        let want = want.map(|(t, r)| (t.to_owned(), r.to_owned()));
        assert_eq!(got, want, "student {student}, guardian {guardian}");
    }

    // Nothing changed at the source: nothing is written.
    let second = run(&mut client, false).await;
    ok(&second);
    assert_eq!(second.plan_items, 0, "{second:#?}");
    assert_eq!(change_log_rows(&store, &second.run_id).await, 0);

    // One grade changes: exactly that field change.
    let dcid: u64 = cases.pre_registered_student.parse().expect("dcid");
    let (old, new) = sim.edit(|d| {
        let s = d.student_mut(dcid).expect("student");
        let old = s.grade_level;
        s.grade_level = if old == 12 { 11 } else { old + 1 };
        (old, s.grade_level)
    });
    let third = run(&mut client, false).await;
    ok(&third);
    let moved = changes(&mut client, &third.run_id, "", "").await;
    assert_eq!(moved.len(), 1, "{moved:#?}");
    assert_eq!(
        (moved[0].entity, moved[0].operation),
        (pb::Entity::Student as i32, pb::Operation::Update as i32)
    );
    assert_eq!(moved[0].fields.len(), 1);
    let f = &moved[0].fields[0];
    assert_eq!(
        (f.field.as_str(), f.old_value.clone(), f.new_value.clone()),
        ("grade", Some(old.to_string()), Some(new.to_string()))
    );
    assert_eq!(change_log_rows(&store, &third.run_id).await, 1);

    // The command line: a watched run, its changes as CSV.
    let cli = std::process::Command::new(crate::harness::BIN)
        .args([
            "sync",
            "start",
            "--district",
            DISTRICT,
            "--watch",
            "--server",
            &server.url(),
        ])
        .output()
        .expect("run the cli");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let text = String::from_utf8_lossy(&cli.stdout);
    assert!(
        text.contains("succeeded") && text.contains("planned: 0 changes"),
        "{text}"
    );
    let csv = std::process::Command::new(crate::harness::BIN)
        .args([
            "sync",
            "changes",
            "--district",
            DISTRICT,
            &third.run_id,
            "--csv",
            "--server",
            &server.url(),
        ])
        .output()
        .expect("run the cli");
    let csv = String::from_utf8_lossy(&csv.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[0].starts_with("seq,entity,operation") && lines[1].contains(",grade,"),
        "{csv}"
    );

    // One run per district at a time.
    let started = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    let busy = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(busy.code(), Code::FailedPrecondition);
    let info = tonic_types::StatusExt::get_error_details(&busy);
    let info = info.error_info().expect("an ErrorInfo reason");
    assert_eq!(
        (info.reason.as_str(), info.domain.as_str()),
        ("RUN_ALREADY_OPEN", "rostersync.v1")
    );
    ok(&follow(&mut client, &started.run_id).await);
}

async fn a_plan_over_a_threshold_pauses_until_approved_or_cancelled(backend: Backend) {
    let (sim, server, mut client) = setup(backend).await;
    let store = server.store().await;
    ok(&run(&mut client, false).await);
    let held = store
        .count_students(&district(), false)
        .await
        .expect("count");

    // Half the students leave.
    let leaving = crate::harness::half_the_students_leave(&sim);
    let paused = run(&mut client, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");
    let trip = paused
        .trips
        .iter()
        .find(|t| t.limit == "students_archived")
        .expect("the student threshold tripped");
    assert_eq!((trip.count, trip.of), (leaving.len() as u64, held));
    let archives = changes(&mut client, &paused.run_id, "student", "archive").await;
    assert_eq!(
        archives.len(),
        leaving.len(),
        "the rows that tripped it are listed"
    );
    // The district reviews the held rows as CSV.
    let held_csv = std::process::Command::new(crate::harness::BIN)
        .args([
            "sync",
            "held",
            "--district",
            DISTRICT,
            &paused.run_id,
            "--csv",
            "--server",
            &server.url(),
        ])
        .output()
        .expect("run the cli");
    assert!(
        held_csv.status.success(),
        "{}",
        String::from_utf8_lossy(&held_csv.stderr)
    );
    let held_csv = String::from_utf8_lossy(&held_csv.stdout);
    let rows: Vec<&str> = held_csv.lines().skip(1).collect();
    assert!(
        held_csv.starts_with("seq,entity,operation,record_id,source_id"),
        "{held_csv}"
    );
    assert!(
        rows.len() >= leaving.len() && rows.iter().all(|r| r.contains(",student,archive,")),
        "{held_csv}"
    );
    for dcid in &leaving {
        assert!(
            rows.iter().any(|r| r.contains(&format!(",{dcid},"))),
            "student {dcid} is listed: {held_csv}"
        );
    }
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        held,
        "nothing written while paused"
    );

    // Cancel drops it.
    let cancelled = client
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
        })
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(cancelled.state, pb::RunState::Cancelled as i32);
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        held
    );
    let again = client
        .approve_sync_run(pb::ApproveSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a cancelled run cannot be approved");
    assert_eq!(again.code(), Code::FailedPrecondition);

    // Approving a plan the store moved under is refused.
    let paused = run(&mut client, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32);
    let moved = model::change::FieldChange {
        entity: model::change::Entity::Student,
        record_id: "elsewhere".into(),
        operation: model::change::Operation::Update,
        field: "grade".into(),
        old_value: Some("6".into()),
        new_value: Some("7".into()),
    };
    store
        .append_changes(
            &district(),
            model::change::ChangeSource::SpotSync(model::ids::SpotSyncId::new()),
            0,
            &[moved],
            chrono::Utc::now(),
        )
        .await
        .expect("another writer changes the district");
    let stale = client
        .approve_sync_run(pb::ApproveSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a plan the store moved under is not applied");
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert!(
        stale.message().contains("changed since"),
        "{}",
        stale.message()
    );
    client
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
        })
        .await
        .expect("cancel");

    // Approve applies exactly the stored plan.
    let paused = run(&mut client, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32);
    client
        .approve_sync_run(pb::ApproveSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
            ..Default::default()
        })
        .await
        .expect("approve");
    let done = follow(&mut client, &paused.run_id).await;
    ok(&done);
    assert_eq!(done.applied, paused.plan_items);
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        held - leaving.len() as u64
    );
    assert_eq!(
        store
            .count_students(&district(), true)
            .await
            .expect("count"),
        leaving.len() as u64
    );
}

async fn a_truncated_pull_fails_without_archiving(backend: Backend) {
    let (sim, server, mut client) = setup(backend).await;
    let store = server.store().await;
    ok(&run(&mut client, false).await);
    let held = store
        .count_students(&district(), false)
        .await
        .expect("count");
    sim.inject(Fault::new(Match::get("/ws/v1/school/"), FaultKind::ShortPage).times(1_000));
    let failed = run(&mut client, false).await;
    assert_eq!(failed.state, pb::RunState::Failed as i32, "{failed:#?}");
    assert!(failed.error.contains("incomplete"), "{}", failed.error);
    assert!(
        failed.error.contains("/ws/v1/school/"),
        "the error names the endpoint: {}",
        failed.error
    );
    assert_eq!(
        store
            .count_students(&district(), false)
            .await
            .expect("count"),
        held
    );
    assert_eq!(change_log_rows(&store, &failed.run_id).await, 0);
}
