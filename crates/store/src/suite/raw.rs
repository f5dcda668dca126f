//! The benchmark's raw limit: tables written out to a file and bulk-loaded into another
//! store of the same schema arrive whole and equal, more rows than one insert or one
//! `COPY` chunk holds, with values a text format must escape.

use super::{district, store_with_district, student, synced};
use crate::tables::PARENT_TABLES;
use crate::testing::TestDatabase;
use crate::Backend;

crate::on_both_backends!(tables_dumped_to_a_file_load_whole_into_another_store);

async fn tables_dumped_to_a_file_load_whole_into_another_store(backend: Backend) {
    let (_db, from, cbe) = store_with_district(backend, "cbe").await;
    let mut students: Vec<_> = (0..2_345).map(|i| student(&format!("s{i}"))).collect();
    // Tabs, newlines, backslashes and quotes must survive `COPY`'s text format; an
    // absent birth date is a NULL.
    students[7].legal_last_name = "O'Brien\tde\nla \\ \"Cruz\"".into();
    students[8].birth_date = None;
    from.upsert_students(
        &cbe,
        &students.iter().cloned().map(synced).collect::<Vec<_>>(),
    )
    .await
    .expect("upsert");

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("dump");
    let tables: Vec<&str> = PARENT_TABLES.iter().chain(&["students"]).copied().collect();
    let dump = from.dump_tables(&tables, &path).await.expect("dump");
    assert_eq!(dump.rows(), 1 + 2_345, "the district and its students");
    assert_eq!(
        dump.bytes(),
        std::fs::metadata(&path).expect("file").len(),
        "each table's section adds up to the file"
    );

    let db = TestDatabase::new(backend).await;
    let to = db.store().await;
    assert_eq!(to.bulk_load(&dump).await.expect("load"), 1 + 2_345);
    assert_eq!(to.count_rows("students").await.expect("count"), 2_345);
    for s in [&students[0], &students[7], &students[8], &students[2_344]] {
        assert_eq!(&to.get_student(&cbe, s.id).await.expect("loaded"), s);
    }
    assert_eq!(
        to.get_district(&cbe).await.expect("district").name,
        district("cbe").name
    );

    // A dump of one database kind does not load into the other.
    let other = match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let elsewhere = TestDatabase::new(other).await;
    assert!(elsewhere.store().await.bulk_load(&dump).await.is_err());
}
