//! Run plans: appended in order, read back filtered, applied a batch per transaction.

use model::change::{ChangeSource, Entity, FieldChange, Operation};
use model::ids::{DistrictId, GuardianId, RunId, StudentId};
use model::link::{AccessTier, Decision, Link, LinkOrigin};
use model::roster::{Guardian, Student};
use model::run::{PlanItem, RunState, SyncRun};

use super::runs::{at, run};
use super::{guardian, store_with_district, student, synced};
use crate::{Backend, Store, StoreError, Synced};

crate::on_both_backends!(
    a_plan_is_appended_read_filtered_and_counted,
    a_plan_number_is_used_once,
    applying_writes_records_change_log_and_checkpoint,
    a_failed_apply_writes_nothing,
    a_later_item_for_the_same_record_wins,
    large_batches_apply_in_several_statements,
    plans_of_old_finished_runs_are_pruned,
);

fn change(entity: Entity, record_id: String, operation: Operation, field: &str) -> FieldChange {
    FieldChange {
        entity,
        record_id,
        operation,
        field: field.into(),
        old_value: None,
        new_value: Some(format!("new {field}")),
    }
}

pub(super) fn student_item(operation: Operation, student: &Student) -> PlanItem {
    PlanItem::Student {
        operation,
        student: student.clone(),
        source_hash: format!("hash-{}", student.source_id),
        changes: vec![
            change(Entity::Student, student.id.to_string(), operation, "grade"),
            change(
                Entity::Student,
                student.id.to_string(),
                operation,
                "archived",
            ),
        ],
    }
}

pub(super) fn guardian_item(operation: Operation, guardian: &Guardian) -> PlanItem {
    PlanItem::Guardian {
        operation,
        guardian: guardian.clone(),
        source_hash: "hash-guardian".into(),
        changes: vec![change(
            Entity::Guardian,
            guardian.id.to_string(),
            operation,
            "email",
        )],
    }
}

pub(super) fn link(student: StudentId, guardian: GuardianId) -> Link {
    Link {
        student_id: student,
        guardian_id: guardian,
        origin: LinkOrigin::Sis,
        tier: AccessTier::Full,
        decision: Decision::new("ps.link.full").fact("contact_email", "a@example.com"),
        updated_at: at(3, 7),
    }
}

pub(super) fn link_item(operation: Operation, link: &Link) -> PlanItem {
    let record = format!("{}/{}", link.student_id, link.guardian_id);
    PlanItem::Link {
        operation,
        link: link.clone(),
        changes: vec![change(Entity::Link, record, operation, "tier")],
    }
}

/// A district with one run, ready for its plan.
pub(super) async fn store_with_run(
    backend: Backend,
) -> (crate::testing::TestDatabase, Store, DistrictId, SyncRun) {
    let (db, store, cbe) = store_with_district(backend, "cbe").await;
    // A run applies only while it is running.
    let r = SyncRun {
        state: RunState::Running,
        ..run(&cbe, at(0, 0))
    };
    store.create_run(&r).await.expect("create run");
    (db, store, cbe, r)
}

/// Plan entries as numbered items, where none was kept out.
fn entries(listed: Vec<model::run::PlanEntry>) -> Vec<(u64, PlanItem)> {
    assert!(listed.iter().all(|e| e.excluded.is_none()), "{listed:?}");
    listed.into_iter().map(|e| (e.seq, e.item)).collect()
}

pub(super) fn numbered(first: u64, items: &[PlanItem]) -> Vec<(u64, PlanItem)> {
    (first..).zip(items.iter().cloned()).collect()
}

async fn a_plan_is_appended_read_filtered_and_counted(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    let s = student("4101");
    let g = guardian(Some("700512"), "pat@example.com");
    let old = link(s.id, GuardianId::new());
    let items = vec![
        student_item(Operation::Create, &s),
        guardian_item(Operation::Create, &g),
        link_item(Operation::Create, &link(s.id, g.id)),
        link_item(Operation::Delete, &old),
        student_item(Operation::Archive, &student("4102")),
    ];
    store
        .append_plan(&cbe, r.id, &numbered(0, &items[..3]))
        .await
        .expect("append");
    store
        .append_plan(&cbe, r.id, &numbered(3, &items[3..]))
        .await
        .expect("append more");

    assert_eq!(
        store.read_plan(&cbe, r.id, None, 100).await.expect("read"),
        numbered(0, &items)
    );
    assert_eq!(
        store.read_plan(&cbe, r.id, None, 2).await.expect("read"),
        numbered(0, &items[..2])
    );
    assert_eq!(
        store
            .read_plan(&cbe, r.id, Some(2), 100)
            .await
            .expect("after"),
        numbered(3, &items[3..])
    );

    let links = store
        .list_plan(&cbe, r.id, Some(Entity::Link), None, None, 100)
        .await
        .expect("links");
    assert_eq!(entries(links), numbered(2, &items[2..4]));
    let deletions = store
        .list_plan(
            &cbe,
            r.id,
            Some(Entity::Link),
            Some(Operation::Delete),
            None,
            100,
        )
        .await
        .expect("link deletions");
    assert_eq!(entries(deletions), numbered(3, &items[3..4]));
    let creations = store
        .list_plan(&cbe, r.id, None, Some(Operation::Create), Some(0), 100)
        .await
        .expect("creations after 0");
    assert_eq!(entries(creations), numbered(1, &items[1..3]));

    assert_eq!(store.count_plan(&cbe, r.id).await.expect("count"), 5);
    assert_eq!(
        store.count_plan(&cbe, RunId::new()).await.expect("count"),
        0
    );
    assert!(store
        .read_plan(&cbe, RunId::new(), None, 10)
        .await
        .expect("read")
        .is_empty());
}

async fn a_plan_number_is_used_once(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    let items: Vec<PlanItem> = (0..3)
        .map(|i| student_item(Operation::Create, &student(&format!("s{i}"))))
        .collect();
    store
        .append_plan(&cbe, r.id, &numbered(10, &items))
        .await
        .expect("append");
    // Numbers 12..15: 12 is taken, so none of them is written.
    let again = store.append_plan(&cbe, r.id, &numbered(12, &items)).await;
    assert!(again.is_err(), "re-using plan number 12 must fail");
    assert_eq!(store.count_plan(&cbe, r.id).await.expect("count"), 3);
}

async fn applying_writes_records_change_log_and_checkpoint(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    // Before the run: a student in grade 7 linked to a guardian the SIS no longer lists.
    let mut kept = student("4100");
    store
        .upsert_students(&cbe, &[synced(kept.clone())])
        .await
        .expect("seed student");
    let gone = link(kept.id, GuardianId::new());
    store
        .upsert_links(&cbe, std::slice::from_ref(&gone))
        .await
        .expect("seed link");

    kept.grade = "8".into();
    let new_student = student("4101");
    let g = guardian(Some("700512"), "pat@example.com");
    let new_link = link(new_student.id, g.id);
    let items = vec![
        student_item(Operation::Update, &kept),
        student_item(Operation::Create, &new_student),
        guardian_item(Operation::Create, &g),
        link_item(Operation::Create, &new_link),
        link_item(Operation::Delete, &gone),
    ];
    store
        .append_plan(&cbe, r.id, &numbered(0, &items))
        .await
        .expect("append");
    let batch = store.read_plan(&cbe, r.id, None, 100).await.expect("read");
    let source = ChangeSource::Run(r.id);
    let first = store.next_change_seq(&cbe, source).await.expect("next seq");
    assert_eq!(first, 0, "a new run has no changes yet");

    let when = at(4, 0);
    let written = store
        .apply_plan_items(&cbe, r.id, &batch, first, when)
        .await
        .expect("apply");
    assert_eq!(
        written, 6,
        "an update logs each field that moved (2); a creation or deletion one row per record (4)"
    );

    assert_eq!(store.get_student(&cbe, kept.id).await.expect("get"), kept);
    assert_eq!(
        store.get_student(&cbe, new_student.id).await.expect("get"),
        new_student
    );
    assert_eq!(store.get_guardian(&cbe, g.id).await.expect("get"), g);
    assert_eq!(
        store
            .list_student_links(&cbe, new_student.id)
            .await
            .expect("links"),
        vec![new_link]
    );
    assert!(store
        .list_student_links(&cbe, kept.id)
        .await
        .expect("links")
        .is_empty());
    let by_source = store
        .students_by_source(&cbe, &[kept.source_id.clone()])
        .await
        .expect("by source");
    assert_eq!(
        by_source.get(&kept.source_id),
        Some(&Synced {
            value: kept.clone(),
            source_hash: "hash-4100".into()
        }),
        "the plan item's source hash is stored with the record"
    );

    let log = store
        .list_changes(&cbe, source, None, 100)
        .await
        .expect("log");
    let expected: Vec<FieldChange> = items.iter().flat_map(PlanItem::log_changes).collect();
    assert_eq!(
        log.iter().map(|c| c.change.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        log.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (0..6).collect::<Vec<_>>()
    );
    assert!(log.iter().all(|c| c.at == when && c.source == source));
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, r.id)
            .await
            .expect("count"),
        6
    );
    assert_eq!(store.next_change_seq(&cbe, source).await.expect("next"), 6);
    assert_eq!(
        store.run_checkpoint(&cbe, r.id).await.expect("checkpoint"),
        Some(4)
    );

    // Saving the run's progress leaves its checkpoint alone.
    let mut progressed = r.clone();
    progressed.counts.applied = 5;
    store
        .update_run(&progressed, &[RunState::Running])
        .await
        .expect("update");
    assert_eq!(
        store.run_checkpoint(&cbe, r.id).await.expect("checkpoint"),
        Some(4)
    );
    assert_eq!(store.get_run(&cbe, r.id).await.expect("get"), progressed);
}

async fn a_failed_apply_writes_nothing(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    let s = student("4101");
    let g = guardian(Some("700512"), "pat@example.com");
    let items = numbered(
        0,
        &[
            student_item(Operation::Create, &s),
            guardian_item(Operation::Create, &g),
            link_item(Operation::Create, &link(s.id, g.id)),
        ],
    );
    let written = store
        .apply_plan_items(&cbe, r.id, &items, 0, at(4, 0))
        .await
        .expect("apply");
    assert_eq!(written, 3);

    // The same change numbers again, with the student moved on: the change log refuses
    // the numbers, and the student row written before that is rolled back.
    let mut moved = s.clone();
    moved.grade = "9".into();
    let other = guardian(Some("700513"), "sam@example.com");
    let again = numbered(
        3,
        &[
            student_item(Operation::Update, &moved),
            link_item(Operation::Create, &link(s.id, other.id)),
            link_item(Operation::Delete, &link(s.id, g.id)),
        ],
    );
    let failed = store
        .apply_plan_items(&cbe, r.id, &again, 0, at(5, 0))
        .await;
    assert!(failed.is_err(), "change numbers 0.. are taken");
    assert_eq!(store.get_student(&cbe, s.id).await.expect("get"), s);
    assert_eq!(store.count_links(&cbe).await.expect("links"), 1);
    assert_eq!(
        store.list_student_links(&cbe, s.id).await.expect("links"),
        vec![link(s.id, g.id)]
    );
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, r.id)
            .await
            .expect("count"),
        3
    );
    assert_eq!(
        store.run_checkpoint(&cbe, r.id).await.expect("checkpoint"),
        Some(2)
    );

    // An unknown run has no checkpoint to move: nothing is written for it either.
    let stray = RunId::new();
    match store
        .apply_plan_items(&cbe, stray, &again, 0, at(5, 0))
        .await
    {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id), ("sync run", stray.to_string()));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(store.get_student(&cbe, s.id).await.expect("get"), s);
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, stray)
            .await
            .expect("count"),
        0
    );

    assert_eq!(
        store
            .apply_plan_items(&cbe, r.id, &[], 100, at(5, 0))
            .await
            .expect("nothing to apply"),
        0
    );
}

async fn a_later_item_for_the_same_record_wins(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    let s = student("4101");
    let mut archived = s.clone();
    archived.archived = true;
    let g = guardian(Some("700512"), "pat@example.com");
    let both = link(s.id, g.id);
    let mut read_only = both.clone();
    read_only.tier = AccessTier::ReadOnly;
    let other = link(s.id, GuardianId::new());
    let items = numbered(
        0,
        &[
            student_item(Operation::Create, &s),
            link_item(Operation::Create, &both),
            link_item(Operation::Create, &other),
            student_item(Operation::Archive, &archived),
            link_item(Operation::Delete, &other),
            link_item(Operation::Update, &read_only),
        ],
    );
    let written = store
        .apply_plan_items(&cbe, r.id, &items, 0, at(4, 0))
        .await
        .expect("apply");
    assert_eq!(written, 7);
    assert_eq!(store.get_student(&cbe, s.id).await.expect("get"), archived);
    assert_eq!(
        store.list_student_links(&cbe, s.id).await.expect("links"),
        vec![read_only]
    );
    assert_eq!(
        store.run_checkpoint(&cbe, r.id).await.expect("checkpoint"),
        Some(5)
    );
}

async fn large_batches_apply_in_several_statements(backend: Backend) {
    let (_db, store, cbe, r) = store_with_run(backend).await;
    let g = guardian(Some("700512"), "pat@example.com");
    let students: Vec<Student> = (0..1_200).map(|i| student(&format!("s{i:04}"))).collect();
    let links: Vec<Link> = students.iter().map(|s| link(s.id, g.id)).collect();

    let mut plan: Vec<PlanItem> = students
        .iter()
        .map(|s| student_item(Operation::Create, s))
        .collect();
    plan.extend(links.iter().map(|l| link_item(Operation::Create, l)));
    store
        .append_plan(&cbe, r.id, &numbered(0, &plan))
        .await
        .expect("append");
    assert_eq!(store.count_plan(&cbe, r.id).await.expect("count"), 2_400);
    let middle = store
        .read_plan(&cbe, r.id, Some(499), 2)
        .await
        .expect("read across a statement boundary");
    assert_eq!(middle, numbered(500, &plan[500..502]));

    let batch = store
        .read_plan(&cbe, r.id, None, 10_000)
        .await
        .expect("read");
    let written = store
        .apply_plan_items(&cbe, r.id, &batch, 0, at(4, 0))
        .await
        .expect("apply");
    assert_eq!(written, 2_400);
    assert_eq!(
        store.count_students(&cbe, false).await.expect("count"),
        1_200
    );
    assert_eq!(store.count_links(&cbe).await.expect("count"), 1_200);

    let deletions: Vec<PlanItem> = links
        .iter()
        .map(|l| link_item(Operation::Delete, l))
        .collect();
    let written = store
        .apply_plan_items(&cbe, r.id, &numbered(2_400, &deletions), 2_400, at(5, 0))
        .await
        .expect("apply deletions");
    assert_eq!(written, 1_200);
    assert_eq!(store.count_links(&cbe).await.expect("count"), 0);
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, r.id)
            .await
            .expect("count"),
        3_600
    );
    assert_eq!(
        store.run_checkpoint(&cbe, r.id).await.expect("checkpoint"),
        Some(3_599)
    );
}

async fn plans_of_old_finished_runs_are_pruned(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let item = student_item(Operation::Create, &student("4100"));
    let mut runs = Vec::new();
    for (minute, state) in [
        (1, RunState::Succeeded),
        (2, RunState::Failed),
        (3, RunState::Paused),
        (4, RunState::Succeeded),
    ] {
        let r = SyncRun {
            state,
            ..run(&cbe, at(minute, 0))
        };
        store.create_run(&r).await.expect("create run");
        store
            .append_plan(&cbe, r.id, &numbered(0, std::slice::from_ref(&item)))
            .await
            .expect("plan");
        runs.push(r);
    }
    // Keep the newest run's plan; the paused run keeps its own whatever its age.
    let dropped = store.prune_plans(&cbe, 1).await.expect("prune");
    assert_eq!(dropped, 2);
    let counts: Vec<u64> = plan_counts(&store, &cbe, &runs).await;
    assert_eq!(counts, [0, 0, 1, 1]);
    assert_eq!(store.prune_plans(&cbe, 1).await.expect("again"), 0);
}

async fn plan_counts(store: &Store, cbe: &DistrictId, runs: &[SyncRun]) -> Vec<u64> {
    let mut out = Vec::new();
    for r in runs {
        out.push(store.count_plan(cbe, r.id).await.expect("count"));
    }
    out
}
