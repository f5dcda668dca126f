//! A held run's review: the items an approval keeps out are stored with it, once, shown
//! beside the plan, and passed over by the apply's counts.

use model::change::Operation;
use model::ids::GuardianId;
use model::run::{Excluded, RunState, SyncRun};

use super::plan::{guardian_item, link, link_item, numbered, student_item};
use super::runs::{at, run};
use super::{guardian, store_with_district, student};
use crate::{Backend, StoreError};

crate::on_both_backends!(
    an_approval_stores_what_it_keeps_out_once,
    an_undo_deletes_what_a_run_created_and_the_digest_sees_only_content,
);

async fn an_approval_stores_what_it_keeps_out_once(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let paused = SyncRun {
        state: RunState::Paused,
        ..run(&cbe, at(0, 0))
    };
    store.create_run(&paused).await.expect("create run");
    let s = student("4101");
    let g = guardian(Some("700512"), "pat@example.com");
    let items = vec![
        student_item(Operation::Create, &s),
        guardian_item(Operation::Create, &g),
        link_item(Operation::Create, &link(s.id, g.id)),
        link_item(Operation::Delete, &link(s.id, GuardianId::new())),
        student_item(Operation::Archive, &student("4102")),
    ];
    store
        .append_plan(&cbe, paused.id, &numbered(1, &items))
        .await
        .expect("append");

    let approved = SyncRun {
        state: RunState::Running,
        ..paused.clone()
    };
    let kept_out = [
        (
            1,
            Excluded {
                exclusion: 0,
                via: None,
            },
        ),
        (
            3,
            Excluded {
                exclusion: 0,
                via: Some(1),
            },
        ),
    ];
    store
        .approve_run(&approved, &kept_out)
        .await
        .expect("approve");
    let listed = store
        .list_plan(&cbe, paused.id, None, None, None, 100)
        .await
        .expect("list");
    let marks: Vec<(u64, Option<Excluded>)> = listed.iter().map(|e| (e.seq, e.excluded)).collect();
    assert_eq!(
        marks,
        vec![
            (1, Some(kept_out[0].1)),
            (2, None),
            (3, Some(kept_out[1].1)),
            (4, None),
            (5, None),
        ]
    );
    assert_eq!(
        store
            .count_plan_through(&cbe, paused.id, 3)
            .await
            .expect("count"),
        1,
        "of items 1 to 3, only the guardian is applied"
    );
    assert_eq!(
        store
            .count_plan_through(&cbe, paused.id, 5)
            .await
            .expect("count"),
        3
    );

    // A second approval finds the run running and writes nothing.
    let again = store
        .approve_run(&approved, &[(2, kept_out[0].1)])
        .await
        .expect_err("approved once");
    assert!(
        matches!(&again, StoreError::StateChanged { found, .. } if found == "running"),
        "{again:?}"
    );
    let second = store
        .list_plan(&cbe, paused.id, None, None, Some(1), 1)
        .await
        .expect("list");
    assert_eq!(
        second[0].excluded, None,
        "the losing approval marked nothing"
    );

    // A plan dropped to be made again takes its exclusions with it.
    store.delete_plan(&cbe, paused.id).await.expect("drop");
    store
        .append_plan(&cbe, paused.id, &numbered(1, &items))
        .await
        .expect("append again");
    let fresh = store
        .list_plan(&cbe, paused.id, None, None, None, 100)
        .await
        .expect("list");
    assert!(fresh.iter().all(|e| e.excluded.is_none()), "{fresh:?}");
}

/// An undo deletes what a run created; the content digest sees records' synced fields only.
async fn an_undo_deletes_what_a_run_created_and_the_digest_sees_only_content(backend: Backend) {
    let (_db, store, cbe, r) = super::plan::store_with_run(backend).await;
    let empty = store.roster_digest(&cbe).await.expect("digest");
    let s = student("4101");
    let g = guardian(Some("700512"), "pat@example.com");
    let made = [
        student_item(Operation::Create, &s),
        guardian_item(Operation::Create, &g),
        link_item(Operation::Create, &link(s.id, g.id)),
    ];
    store
        .apply_plan_items(&cbe, r.id, &numbered(1, &made), 0, at(1, 0))
        .await
        .expect("create");
    let held = store.roster_digest(&cbe).await.expect("digest");
    assert_ne!(held, empty);

    // The same records under other source hashes, written later: the same content.
    let mut rehashed = student_item(Operation::Update, &s);
    if let model::run::PlanItem::Student { source_hash, .. } = &mut rehashed {
        *source_hash = "another".into();
    }
    store
        .apply_plan_items(&cbe, r.id, &numbered(4, &[rehashed]), 100, at(2, 0))
        .await
        .expect("rehash");
    assert_eq!(store.roster_digest(&cbe).await.expect("digest"), held);

    // One field moved: another digest.
    let mut older = s.clone();
    older.grade = "6".into();
    store
        .apply_plan_items(
            &cbe,
            r.id,
            &numbered(5, &[student_item(Operation::Update, &older)]),
            200,
            at(3, 0),
        )
        .await
        .expect("update");
    assert_ne!(store.roster_digest(&cbe).await.expect("digest"), held);

    // Deleted — the link first, then the guardian and the student — the district is as
    // it was before.
    let undone = [
        link_item(Operation::Delete, &link(s.id, g.id)),
        student_item(Operation::Delete, &older),
        guardian_item(Operation::Delete, &g),
    ];
    store
        .apply_plan_items(&cbe, r.id, &numbered(6, &undone), 300, at(4, 0))
        .await
        .expect("delete");
    assert!(store.get_student(&cbe, s.id).await.is_err());
    assert!(store.get_guardian(&cbe, g.id).await.is_err());
    assert_eq!(store.roster_digest(&cbe).await.expect("digest"), empty);
}
