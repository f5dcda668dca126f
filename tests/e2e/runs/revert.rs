//! Undoing a run: RevertSyncRun plans a run that puts back every field, link and archive
//! the run changed, so the district's content digest equals the one taken before it; a
//! field a later run moved is left and named, unless forced.

use super::*;

store::on_both_backends!(an_undo_restores_the_district_as_it_was_and_names_what_it_left,);

/// Runs the district to its end, approving a run a threshold holds.
async fn run_through(client: &mut crate::harness::Client, started: pb::SyncRun) -> pb::SyncRun {
    let mut run = follow(client, &started.run_id).await;
    if run.state == pb::RunState::Paused as i32 {
        client
            .approve_sync_run(pb::ApproveSyncRunRequest {
                district_id: DISTRICT.into(),
                run_id: run.run_id.clone(),
                ..Default::default()
            })
            .await
            .expect("approve");
        run = follow(client, &run.run_id).await;
    }
    ok(&run);
    run
}

async fn start(client: &mut crate::harness::Client) -> pb::SyncRun {
    client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            ..Default::default()
        })
        .await
        .expect("start")
        .into_inner()
}

async fn revert(
    client: &mut crate::harness::Client,
    run_id: &str,
    dry_run: bool,
    force: bool,
) -> Result<pb::SyncRun, tonic::Status> {
    client
        .revert_sync_run(pb::RevertSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: run_id.into(),
            dry_run,
            force,
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn an_undo_restores_the_district_as_it_was_and_names_what_it_left(backend: Backend) {
    let (sim, server, mut client) = setup(backend).await;
    let store = server.store().await;
    let dcids: Vec<u64> = sim.district(|d| {
        d.expected_students()
            .iter()
            .map(|s| s.source_id.as_str().parse().expect("dcid"))
            .collect()
    });
    let (returning, moving) = (dcids[dcids.len() - 1], dcids[1]);
    sim.edit(|d| {
        d.student_mut(returning)
            .expect("student")
            .enroll_status_code = 2
    });
    let first = start(&mut client).await;
    run_through(&mut client, first).await;
    let before = store.roster_digest(&district()).await.expect("digest");

    // The run to undo: half the students leave (archives, links removed), one returns
    // (created with contacts and links), one moves up a grade.
    let leaving = crate::harness::half_the_students_leave(&sim);
    assert!(!leaving.contains(&moving) && !leaving.contains(&returning));
    sim.edit(|d| {
        d.student_mut(returning)
            .expect("student")
            .enroll_status_code = 0;
        d.student_mut(moving).expect("student").grade_level += 1;
    });
    let started = start(&mut client).await;
    let damage = run_through(&mut client, started).await;
    assert!(damage.applied > 0);
    let after = store.roster_digest(&district()).await.expect("digest");
    assert_ne!(after, before);

    // A dry undo plans and writes nothing.
    let dry = revert(&mut client, &damage.run_id, true, false)
        .await
        .expect("a dry undo");
    assert_eq!(dry.trigger, pb::RunTrigger::Revert as i32);
    let dry = follow(&mut client, &dry.run_id).await;
    ok(&dry);
    assert!(dry.plan_items > 0);
    assert_eq!(
        dry.revert.as_ref().map(|r| r.run_id.as_str()),
        Some(damage.run_id.as_str())
    );
    assert_eq!(
        store.roster_digest(&district()).await.expect("digest"),
        after
    );

    // The undo puts the district back as it was, to the digest.
    let undo = revert(&mut client, &damage.run_id, false, false)
        .await
        .expect("an undo");
    let undo = run_through(&mut client, undo).await;
    assert_eq!(undo.revert.as_ref().map(|r| r.left_fields), Some(0));
    assert!(
        undo.planned.contains_key("student.delete"),
        "{:#?}",
        undo.planned
    );
    assert!(
        undo.planned.contains_key("student.unarchive"),
        "{:#?}",
        undo.planned
    );
    assert_eq!(
        store.roster_digest(&district()).await.expect("digest"),
        before
    );

    // A later run changes again what the undone run had changed: undoing that run again
    // leaves the moved field as it is and names it; forcing puts it back too.
    sim.edit(|d| d.student_mut(moving).expect("student").grade_level += 1);
    let started = start(&mut client).await;
    run_through(&mut client, started).await;
    let moved = model::ids::StudentId::derived(&district(), &SourceId::new(moving.to_string()));
    let grade = || async {
        store
            .get_student(&district(), moved)
            .await
            .expect("student")
            .grade
    };
    let now_grade = grade().await;
    let undo = revert(&mut client, &damage.run_id, false, false)
        .await
        .expect("an undo");
    let undo = run_through(&mut client, undo).await;
    assert_eq!(
        undo.revert.as_ref().map(|r| r.left_fields),
        Some(1),
        "{undo:#?}"
    );
    let named = undo
        .warnings
        .iter()
        .find(|w| w.contains(&moved.to_string()))
        .expect("the field left is named");
    assert!(
        named.contains("grade") && named.contains(&now_grade),
        "{named}"
    );
    assert_eq!(grade().await, now_grade, "left as the later run made it");
    let forced = revert(&mut client, &damage.run_id, false, true)
        .await
        .expect("a forced undo");
    let forced = run_through(&mut client, forced).await;
    assert_eq!(forced.revert.as_ref().map(|r| r.force), Some(true));
    assert_ne!(grade().await, now_grade, "forced back to what it was");

    // Refusals: a run still to be found, and a dry run.
    let missing = revert(&mut client, &RunId::new().to_string(), false, false)
        .await
        .expect_err("no such run");
    assert_eq!(missing.code(), Code::NotFound);
    let nothing = revert(&mut client, &dry.run_id, false, false)
        .await
        .expect_err("a dry run changed nothing");
    assert_eq!(nothing.code(), Code::FailedPrecondition);
}
