//! Staged pulls: staged once per key, duplicates kept beside the first, read back in key
//! order, by group and by key; students the pull did not list.

use model::ids::{RunId, SourceId};
use model::staging::{StagedKind, StagedRecord};

use super::{store_with_district, student, synced};
use crate::Backend;

crate::on_both_backends!(
    a_pull_is_staged_and_read_back_in_key_order,
    a_key_sent_twice_keeps_the_first_and_names_the_second,
    students_the_pull_did_not_list_are_found_and_old_pulls_dropped,
    older_pulls_are_dropped_whole_a_chunk_at_a_time,
);

fn record(kind: StagedKind, key: &str, group: &str, payload: &str) -> StagedRecord {
    StagedRecord {
        kind,
        key: key.into(),
        group: group.into(),
        hash: format!("h:{payload}"),
        arrival: format!("event 1, record {key}"),
        payload: payload.into(),
        rejected: None,
        duplicate: None,
    }
}

async fn a_pull_is_staged_and_read_back_in_key_order(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let run = RunId::new();
    let students: Vec<StagedRecord> = ["30", "10", "20"]
        .iter()
        .map(|k| record(StagedKind::Student, k, k, &format!("student {k}")))
        .collect();
    store.stage(&cbe, run, &students).await.expect("stage");
    let contacts = vec![
        record(StagedKind::Contact, "20\u{1f}c2", "20", "c2"),
        record(StagedKind::Contact, "10\u{1f}c1", "10", "c1"),
        record(StagedKind::Contact, "30\u{1f}c3", "30", "c3"),
    ];
    store.stage(&cbe, run, &contacts).await.expect("stage");

    let first = store
        .staged_page(&cbe, run, StagedKind::Student, None, 2)
        .await
        .expect("page");
    assert_eq!(
        first.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["10", "20"]
    );
    assert_eq!(first[0], students[1], "read back exactly as staged");
    let rest = store
        .staged_page(&cbe, run, StagedKind::Student, Some("20"), 2)
        .await
        .expect("page");
    assert_eq!(
        rest.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["30"]
    );

    let of_page = store
        .staged_in_groups(&cbe, run, StagedKind::Contact, "10", "20")
        .await
        .expect("groups");
    assert_eq!(
        of_page
            .iter()
            .map(|r| r.payload.as_str())
            .collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    let by_group = store
        .staged_of_groups(&cbe, run, StagedKind::Contact, &["30".to_owned()])
        .await
        .expect("groups");
    assert_eq!(by_group.len(), 1);
    let by_key = store
        .staged_by_keys(
            &cbe,
            run,
            StagedKind::Student,
            &["30".to_owned(), "99".to_owned()],
        )
        .await
        .expect("keys");
    assert_eq!(by_key.len(), 1);
    assert_eq!(
        store
            .count_staged(&cbe, run, StagedKind::Contact)
            .await
            .expect("count"),
        3
    );
    // Another run's pull is another pull.
    assert!(store
        .staged_page(&cbe, RunId::new(), StagedKind::Student, None, 10)
        .await
        .expect("page")
        .is_empty());
}

async fn a_key_sent_twice_keeps_the_first_and_names_the_second(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let run = RunId::new();
    let first = record(StagedKind::GuardianAccount, "700", "700", "pat");
    store
        .stage(&cbe, run, std::slice::from_ref(&first))
        .await
        .expect("stage");
    // The same content again (an account sent with each page of its students): one record.
    let again = StagedRecord {
        arrival: "event 9, record 1".into(),
        ..first.clone()
    };
    store.stage(&cbe, run, &[again]).await.expect("stage");
    assert_eq!(
        store
            .count_staged_duplicates(&cbe, run, StagedKind::GuardianAccount)
            .await
            .expect("count"),
        0
    );
    // Other content under the same key: kept beside the first, both named.
    let other = StagedRecord {
        arrival: "event 12, record 4".into(),
        ..record(StagedKind::GuardianAccount, "700", "700", "someone else")
    };
    store.stage(&cbe, run, &[other]).await.expect("stage");
    let dups = store
        .staged_duplicates(&cbe, run, StagedKind::GuardianAccount, 10)
        .await
        .expect("dups");
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].payload, "pat", "the first keeps its place");
    assert_eq!(
        dups[0].duplicate,
        Some(("h:someone else".to_owned(), "event 12, record 4".to_owned()))
    );
    assert!(!dups[0].usable());
}

async fn students_the_pull_did_not_list_are_found_and_old_pulls_dropped(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let held: Vec<_> = ["4101", "4102", "4103"]
        .iter()
        .map(|s| synced(student(s)))
        .collect();
    store.upsert_students(&cbe, &held).await.expect("students");
    let old = RunId::new();
    let run = RunId::new();
    store
        .stage(
            &cbe,
            old,
            &[record(StagedKind::Student, "4102", "4102", "x")],
        )
        .await
        .expect("stage");
    let mut refused = record(StagedKind::Student, "4103", "4103", "");
    refused.rejected = Some("birth date 3000-01-01 is not between 1900-01-01 and today".into());
    store
        .stage(
            &cbe,
            run,
            &[record(StagedKind::Student, "4101", "4101", "x"), refused],
        )
        .await
        .expect("stage");
    let missing = store
        .students_not_staged(&cbe, run, None, 10)
        .await
        .expect("missing");
    assert_eq!(
        missing.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
        [SourceId::new("4102")],
        "a refused student counts as listed"
    );
    let after = store
        .students_not_staged(&cbe, run, Some(&SourceId::new("4102")), 10)
        .await
        .expect("missing");
    assert!(after.is_empty());

    assert_eq!(store.staged_runs(&cbe).await.expect("runs").len(), 2);
    assert_eq!(store.keep_only_staged(&cbe, run).await.expect("drop"), 1);
    assert_eq!(store.staged_runs(&cbe).await.expect("runs"), [run]);
    assert_eq!(store.delete_staged(&cbe, run).await.expect("drop"), 2);
}

async fn older_pulls_are_dropped_whole_a_chunk_at_a_time(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    store
        .create_district(&super::district("other"))
        .await
        .expect("district");
    let other = super::district_id("other");
    let students = |n: usize| -> Vec<StagedRecord> {
        (0..n)
            .map(|i| record(StagedKind::Student, &format!("{i:03}"), "", "s"))
            .collect()
    };
    let (old, older, kept, elsewhere) = (RunId::new(), RunId::new(), RunId::new(), RunId::new());
    store.stage(&cbe, old, &students(7)).await.expect("stage");
    store.stage(&cbe, older, &students(4)).await.expect("stage");
    store.stage(&cbe, kept, &students(5)).await.expect("stage");
    store
        .stage(&other, elsewhere, &students(3))
        .await
        .expect("stage");

    // Chunks of 2: several statements per pull and a last short one, whatever order
    // the run ids sort in around the kept one.
    assert_eq!(
        store
            .keep_only_staged_in_chunks(&cbe, kept, 2)
            .await
            .expect("drop"),
        7 + 4
    );
    assert_eq!(store.staged_runs(&cbe).await.expect("runs"), [kept]);
    let left = store
        .staged_page(&cbe, kept, StagedKind::Student, None, 100)
        .await
        .expect("page");
    assert_eq!(left.len(), 5, "the kept pull is whole");
    assert_eq!(
        store.staged_runs(&other).await.expect("runs"),
        [elsewhere],
        "another district's pull stays"
    );
    assert_eq!(
        store.keep_only_staged(&cbe, kept).await.expect("again"),
        0,
        "nothing left to drop"
    );
}
