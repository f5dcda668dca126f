//! A held run reviewed change by change: an approval that keeps some changes out applies
//! exactly the rest, says who kept what out and why, and the district's next run plans
//! the kept-out changes again.

use std::collections::BTreeSet;

use super::*;

store::on_both_backends!(
    an_approval_with_exclusions_applies_the_rest_and_the_next_run_plans_them_again,
);

/// What a plan change is about: `entity.operation record`.
fn key(c: &pb::RunChange) -> String {
    format!(
        "{}.{} {}",
        lower(
            pb::Entity::try_from(c.entity)
                .expect("entity")
                .as_str_name()
        ),
        lower(
            pb::Operation::try_from(c.operation)
                .expect("operation")
                .as_str_name()
        ),
        c.record_id
    )
}

/// `ENTITY_STUDENT` → `student`.
fn lower(name: &str) -> String {
    name.split_once('_').map_or(name, |(_, n)| n).to_lowercase()
}

fn our_student(dcid: u64) -> String {
    model::ids::StudentId::derived(&district(), &SourceId::new(dcid.to_string())).to_string()
}

async fn an_approval_with_exclusions_applies_the_rest_and_the_next_run_plans_them_again(
    backend: Backend,
) {
    let (sim, server, mut client) = setup(backend).await;
    let store = server.store().await;
    // A student with contacts is away for the first sync and returns for the second.
    let returning = sim.district(|d| {
        let with_contacts: BTreeSet<u64> = d
            .student_contact_assocs
            .iter()
            .map(|a| a.student_dcid)
            .collect();
        d.expected_students()
            .iter()
            .map(|s| s.source_id.as_str().parse::<u64>().expect("dcid"))
            .rfind(|dcid| with_contacts.contains(dcid))
            .expect("a student with contacts")
    });
    sim.edit(|d| {
        d.student_mut(returning)
            .expect("student")
            .enroll_status_code = 2
    });
    ok(&run(&mut client, false).await);
    let leaving = crate::harness::half_the_students_leave(&sim);
    assert!(!leaving.contains(&returning));
    sim.edit(|d| {
        d.student_mut(returning)
            .expect("student")
            .enroll_status_code = 0
    });
    let paused = run(&mut client, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");

    // The reviewer keeps out new students, everything of one leaving student, and the
    // archive of another by its number.
    let plan = changes(&mut client, &paused.run_id, "", "").await;
    let (kept_student, numbered) = (leaving[0], leaving[1]);
    let numbered_archive = plan
        .iter()
        .find(|c| c.record_id == our_student(numbered) && key(c).starts_with("student.archive"))
        .expect("the archive of a leaving student")
        .seq;
    let approved = std::process::Command::new(crate::harness::BIN)
        .args([
            "sync",
            "approve",
            "--district",
            DISTRICT,
            &paused.run_id,
            "--exclude",
            "student.create",
            "--exclude",
            &format!("student:{}", our_student(kept_student)),
            "--exclude",
            &numbered_archive.to_string(),
            "--reason",
            "the office confirms these first",
            "--server",
            &server.url(),
        ])
        .output()
        .expect("run the cli");
    let said = String::from_utf8_lossy(&approved.stdout);
    assert!(
        approved.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    assert!(
        said.contains("kept out, planned again by the next run"),
        "{said}"
    );
    let done = follow(&mut client, &paused.run_id).await;
    ok(&done);
    assert!(done.excluded > 0);
    assert_eq!(done.applied + done.excluded, done.plan_items, "{done:#?}");
    assert_eq!(done.exclusions.len(), 3, "{:#?}", done.exclusions);
    assert_eq!(
        done.exclusions
            .iter()
            .map(|x| x.excluded_items)
            .sum::<u64>(),
        done.excluded
    );
    for x in &done.exclusions {
        assert_eq!(x.reason, "the office confirms these first");
        assert_eq!(x.excluded_by, "anonymous", "a server without keys");
        assert!(x.exclude_time.is_some());
    }

    // ListRunChanges marks each kept-out change, with who and why; a dependent names the
    // creation it waits on.
    let reviewed = changes(&mut client, &paused.run_id, "", "").await;
    let kept_out: Vec<&pb::RunChange> = reviewed.iter().filter(|c| c.excluded.is_some()).collect();
    assert_eq!(kept_out.len() as u64, done.excluded);
    let returning_id = our_student(returning);
    let created = reviewed
        .iter()
        .find(|c| key(c) == format!("student.create {returning_id}"))
        .expect("the returning student's creation");
    assert!(created.excluded.is_some());
    let dependents: Vec<&&pb::RunChange> = kept_out
        .iter()
        .filter(|c| {
            c.excluded
                .as_ref()
                .is_some_and(|x| x.depends_on == created.seq)
        })
        .collect();
    assert!(
        dependents
            .iter()
            .any(|c| key(c).starts_with("contact.create"))
            && dependents.iter().any(|c| key(c).starts_with("link.create")),
        "its contacts and links wait with it: {dependents:#?}"
    );
    for c in &kept_out {
        let x = c.excluded.as_ref().expect("excluded");
        assert_eq!(
            (x.excluded_by.as_str(), x.reason.as_str()),
            ("anonymous", "the office confirms these first")
        );
    }

    // Exactly the rest was applied.
    let held = |dcid: u64| {
        let store = store.clone();
        async move {
            store
                .find_student_by_source(&district(), &SourceId::new(dcid.to_string()))
                .await
        }
    };
    assert!(held(returning).await.is_err(), "the new student waits");
    assert!(!held(kept_student).await.expect("held").archived);
    assert!(!held(numbered).await.expect("held").archived);
    for dcid in &leaving[2..] {
        assert!(held(*dcid).await.expect("held").archived, "student {dcid}");
    }

    // The audit trail says who kept what out, and why.
    let audit = client
        .list_audit_events(pb::ListAuditEventsRequest {
            district_id: DISTRICT.into(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .expect("audit")
        .into_inner();
    let approval = audit
        .events
        .iter()
        .find(|e| e.action == "run.approve" && e.target == paused.run_id)
        .expect("the approval is audited");
    assert!(
        approval
            .detail
            .contains(&format!("excluded {} of", done.excluded))
            && approval.detail.contains("changes student.create")
            && approval.detail.contains("the office confirms these first"),
        "{}",
        approval.detail
    );

    // The next run plans exactly what was kept out.
    let next = run(&mut client, false).await;
    let replanned: BTreeSet<String> = changes(&mut client, &next.run_id, "", "")
        .await
        .iter()
        .map(key)
        .collect();
    let excluded: BTreeSet<String> = kept_out.iter().map(|c| key(c)).collect();
    assert_eq!(replanned, excluded);
    if next.state == pb::RunState::Paused as i32 {
        client
            .approve_sync_run(pb::ApproveSyncRunRequest {
                district_id: DISTRICT.into(),
                run_id: next.run_id.clone(),
                ..Default::default()
            })
            .await
            .expect("approve");
        ok(&follow(&mut client, &next.run_id).await);
    } else {
        ok(&next);
    }
    assert!(held(returning).await.is_ok(), "the new student arrives");
    assert!(held(kept_student).await.expect("held").archived);

    // An exclusion that keeps nothing out is refused, naming it; nothing is approved.
    sim.edit(|d| {
        d.student_mut(kept_student)
            .expect("student")
            .enroll_status_code = 0
    });
    let _ = crate::harness::half_the_students_leave(&sim);
    let paused = run(&mut client, false).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");
    let refused = client
        .approve_sync_run(pb::ApproveSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
            exclusions: vec![pb::RunExclusion {
                target: Some(pb::run_exclusion::Target::Items(pb::PlanItemNumbers {
                    seqs: vec![9_999_999],
                })),
                ..Default::default()
            }],
        })
        .await
        .expect_err("an item the plan does not hold");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("exclusions[0]") && refused.message().contains("9999999"),
        "{}",
        refused.message()
    );
    let still = client
        .get_sync_run(pb::GetSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(still.state, pb::RunState::Paused as i32);
}
