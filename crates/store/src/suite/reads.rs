//! The reads a sync plans with: records by source id or id in bulk, links and form
//! authors of many students, the active students page by page, and counts.

use model::change::{ChangeSource, Entity, FieldChange, Operation};
use model::ids::{GuardianId, RunId, SourceId, SpotSyncId, StudentId};
use model::link::{AccessTier, Decision, FormAuthorship, Link, LinkOrigin};

use super::runs::at;
use super::{district, district_id, guardian, store_with_district, student, synced};
use crate::{Backend, Synced};

crate::on_both_backends!(
    students_and_guardians_are_read_by_source_in_bulk,
    links_and_form_authors_are_read_for_many_students,
    active_students_are_paged_in_source_order_without_the_archived,
    change_numbers_continue_per_run_or_spot_sync,
);

async fn students_and_guardians_are_read_by_source_in_bulk(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    store
        .create_district(&district("other"))
        .await
        .expect("create district");
    let many: Vec<Synced<_>> = (0..1_200)
        .map(|i| Synced {
            value: student(&format!("s{i}")),
            source_hash: format!("h{i}"),
        })
        .collect();
    store.upsert_students(&cbe, &many).await.expect("upsert");
    let theirs = student("s7");
    store
        .upsert_students(&district_id("other"), &[synced(theirs.clone())])
        .await
        .expect("upsert elsewhere");

    let mut asked: Vec<SourceId> = many.iter().map(|s| s.value.source_id.clone()).collect();
    asked.push(SourceId::new("never-seen"));
    let found = store.students_by_source(&cbe, &asked).await.expect("read");
    assert_eq!(found.len(), 1_200, "unknown source ids are left out");
    assert_eq!(found[&SourceId::new("s7")], many[7]);
    assert_eq!(found[&SourceId::new("s1199")], many[1_199]);
    assert!(store
        .students_by_source(&cbe, &[])
        .await
        .expect("read none")
        .is_empty());

    let sis = guardian(Some("700512"), "pat@example.com");
    let local = guardian(None, "sam@example.com");
    store
        .upsert_guardians(&cbe, &[synced(sis.clone()), synced(local.clone())])
        .await
        .expect("upsert");
    let by_source = store
        .guardians_by_source(&cbe, &[SourceId::new("700512"), SourceId::new("1")])
        .await
        .expect("read");
    assert_eq!(by_source.len(), 1);
    assert_eq!(by_source[&SourceId::new("700512")], synced(sis.clone()));

    let by_id = store
        .guardians_by_id(&cbe, &[sis.id, local.id, GuardianId::new()])
        .await
        .expect("read");
    assert_eq!(by_id.len(), 2);
    assert_eq!(by_id[&sis.id], sis);
    assert_eq!(by_id[&local.id], local);
}

async fn links_and_form_authors_are_read_for_many_students(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let students: Vec<StudentId> = (0..3).map(|_| StudentId::new()).collect();
    let guardians: Vec<GuardianId> = (0..2).map(|_| GuardianId::new()).collect();
    let mut links = Vec::new();
    for s in &students {
        for g in &guardians {
            links.push(Link {
                student_id: *s,
                guardian_id: *g,
                origin: LinkOrigin::Sis,
                tier: AccessTier::Restricted,
                decision: Decision::new("ps.rule4.not_decision_making"),
                updated_at: at(1, 0),
            });
        }
    }
    store.upsert_links(&cbe, &links).await.expect("upsert");
    assert_eq!(store.count_links(&cbe).await.expect("count"), 6);

    let mut expected: Vec<Link> = links
        .iter()
        .filter(|l| l.student_id != students[1])
        .cloned()
        .collect();
    expected.sort_by_key(|l| (l.student_id, l.guardian_id));
    let read = store
        .links_of_students(&cbe, &[students[0], students[2], StudentId::new()])
        .await
        .expect("read");
    assert_eq!(read, expected, "ordered by student, then guardian");

    let facts = [
        FormAuthorship {
            guardian_id: guardians[0],
            student_id: students[0],
        },
        FormAuthorship {
            guardian_id: guardians[1],
            student_id: students[0],
        },
        FormAuthorship {
            guardian_id: guardians[1],
            student_id: students[1],
        },
    ];
    for fact in facts {
        store
            .record_form_authorship(&cbe, fact)
            .await
            .expect("record");
    }
    let mut expected = vec![facts[0], facts[1]];
    expected.sort_by_key(|f| (f.student_id, f.guardian_id));
    let read = store
        .form_authors_of(&cbe, &[students[0], students[2]])
        .await
        .expect("read");
    assert_eq!(read, expected);
}

async fn active_students_are_paged_in_source_order_without_the_archived(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    // Written out of order; every third one archived.
    let students: Vec<_> = [7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 4, 6]
        .into_iter()
        .map(|i| {
            let mut s = student(&format!("s{i:02}"));
            s.archived = i % 3 == 0;
            synced(s)
        })
        .collect();
    store
        .upsert_students(&cbe, &students)
        .await
        .expect("upsert");
    let mut active: Vec<(StudentId, SourceId)> = students
        .iter()
        .filter(|s| !s.value.archived)
        .map(|s| (s.value.id, s.value.source_id.clone()))
        .collect();
    active.sort_by(|a, b| a.1.cmp(&b.1));

    let mut paged = Vec::new();
    let mut after: Option<SourceId> = None;
    loop {
        let page = store
            .active_students_page(&cbe, after.as_ref(), 3)
            .await
            .expect("page");
        assert!(page.len() <= 3);
        let Some((_, last)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        paged.extend(page);
    }
    assert_eq!(paged, active);
    let sources: Vec<&str> = paged.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        sources,
        ["s01", "s02", "s04", "s05", "s07", "s08", "s10", "s11"]
    );

    assert_eq!(store.count_students(&cbe, false).await.expect("count"), 8);
    assert_eq!(store.count_students(&cbe, true).await.expect("count"), 4);
    assert!(store
        .active_students_page(&district_id("cbe"), Some(&SourceId::new("s11")), 3)
        .await
        .expect("past the end")
        .is_empty());
}

async fn change_numbers_continue_per_run_or_spot_sync(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let run = RunId::new();
    let spot = ChangeSource::SpotSync(SpotSyncId::new());
    let changes: Vec<FieldChange> = (0..3)
        .map(|i| FieldChange {
            entity: Entity::Guardian,
            record_id: format!("guardian-{i}"),
            operation: Operation::Update,
            field: "email".into(),
            old_value: None,
            new_value: Some("pat@example.com".into()),
        })
        .collect();
    assert_eq!(
        store
            .next_change_seq(&cbe, ChangeSource::Run(run))
            .await
            .expect("next"),
        0
    );
    store
        .append_changes(&cbe, ChangeSource::Run(run), 0, &changes, at(1, 0))
        .await
        .expect("append");
    store
        .append_changes(&cbe, spot, 40, &changes[..1], at(1, 0))
        .await
        .expect("append");
    assert_eq!(
        store
            .next_change_seq(&cbe, ChangeSource::Run(run))
            .await
            .expect("next"),
        3
    );
    assert_eq!(store.next_change_seq(&cbe, spot).await.expect("next"), 41);
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, run)
            .await
            .expect("count"),
        3,
        "the spot sync's change is not the run's"
    );
    assert_eq!(
        store
            .count_change_log_rows_of_run(&cbe, RunId::new())
            .await
            .expect("count"),
        0
    );
}
