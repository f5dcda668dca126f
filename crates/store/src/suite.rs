//! The store suite: every test runs on SQLite and on PostgreSQL, each on its own database.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use model::change::{ChangeSource, Entity, FieldChange, Operation};
use model::district::{ConnectorConfig, District, DistrictSettings, StaffPermission};
use model::ids::{DistrictId, GuardianId, RunId, SourceId, StudentId};
use model::link::{AccessTier, Decision, FormAuthorship, Link, LinkOrigin};
use model::roster::{AccountStatus, Address, EnrollmentStatus, Gender, Guardian, Student};
use model::Secret;

use crate::testing::TestDatabase;
use crate::{Backend, Store, StoreError, Synced};

crate::on_both_backends!(
    migrations_go_up_down_and_up_again,
    districts_are_created_read_listed_and_updated,
    a_duplicate_or_unknown_district_is_refused_by_id,
    students_are_upserted_and_kept_apart_per_district,
    guardians_are_upserted_and_read_in_bulk,
    links_keep_origin_tier_rule_and_facts,
    the_change_log_is_ordered_paged_and_never_duplicated,
    concurrent_writers_fill_the_change_feed_in_order_without_gaps,
    form_authorship_is_recorded_once,
);

// Runs, plans and the batch reads a sync plans with; each file runs on both backends too.
mod events;
mod inputs;
mod nightly;
mod notifications;
mod plan;
#[cfg(feature = "raw")]
mod raw;
mod reads;
mod review;
mod runs;
mod search;
mod staging;

/// How many steps down undo the migration whose name ends in `name`, and every later one.
pub(super) fn steps_back_to(name: &str) -> u32 {
    let all = <migrations::Migrator as migrations::MigratorTrait>::migrations();
    let at = all
        .iter()
        .position(|m| m.name().ends_with(name))
        .unwrap_or_else(|| panic!("no migration named {name}"));
    u32::try_from(all.len() - at).expect("a few steps")
}

fn district_id(s: &str) -> DistrictId {
    s.parse().expect("valid district id")
}

pub(super) fn district(id: &str) -> District {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let mut settings = DistrictSettings::default();
    settings
        .staff_permissions
        .insert(StaffPermission::FamilyAccess);
    District {
        id: district_id(id),
        name: format!("District {id}"),
        connector: ConnectorConfig {
            kind: "powerschool".into(),
            settings: BTreeMap::from([
                ("base_url".into(), "https://ps.example.org".into()),
                ("client_id".into(), "client-1".into()),
            ]),
            secrets: BTreeMap::from([("client_secret".into(), Secret::new("s3cret"))]),
        },
        settings,
        time_zone: chrono_tz::America::Edmonton,
        created_at: now,
        updated_at: now,
        revision: 1,
        created_by: String::new(),
        updated_by: String::new(),
    }
}

async fn store_with_district(backend: Backend, id: &str) -> (TestDatabase, Store, DistrictId) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    store
        .create_district(&district(id))
        .await
        .expect("create district");
    (db, store, district_id(id))
}

pub(super) fn student(source: &str) -> Student {
    Student {
        id: StudentId::new(),
        source_id: SourceId::new(source),
        student_number: format!("N{source}"),
        state_id: "123456789".into(),
        legal_first_name: "Jamie".into(),
        legal_last_name: "Doe".into(),
        middle_name: "Lee".into(),
        birth_date: NaiveDate::from_ymd_opt(2012, 4, 9),
        gender: Gender::Female,
        school_source_id: Some(SourceId::new("17")),
        grade: "7".into(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: false,
        org_email: "jdoe@district.example".into(),
        personal_email: String::new(),
        web_id: String::new(),
        archived: false,
    }
}

fn guardian(source: Option<&str>, email: &str) -> Guardian {
    Guardian {
        id: GuardianId::new(),
        source_id: source.map(SourceId::new),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        home_phone: "403-555-0100".into(),
        mobile_phone: "403-555-0101".into(),
        address: Address {
            street: "12 Elm St".into(),
            city: "Calgary".into(),
            region: "AB".into(),
            postal_code: "T2P 1A1".into(),
        },
        status: AccountStatus::Pending,
        sis_connected: source.is_some(),
        archived: false,
    }
}

fn synced<T>(value: T) -> Synced<T> {
    Synced {
        value,
        source_hash: "h1".into(),
    }
}

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    let (applied, pending) = store.migration_status().await.expect("status");
    assert_eq!(
        applied.len(),
        <migrations::Migrator as migrations::MigratorTrait>::migrations().len(),
        "{applied:?}"
    );
    assert!(pending.is_empty());
    let tables = store.table_names().await.expect("tables");
    for t in [
        "districts",
        "students",
        "guardians",
        "links",
        "change_log",
        "sync_runs",
        "run_plan",
    ] {
        assert!(tables.iter().any(|n| n == t), "{t} missing from {tables:?}");
    }

    store.migrate_down(None).await.expect("down");
    let tables = store.table_names().await.expect("tables");
    assert_eq!(tables, ["seaql_migrations"], "down must remove every table");

    store.migrate().await.expect("up again");
    store
        .create_district(&district("after-round-trip"))
        .await
        .expect("usable after up");
}

async fn districts_are_created_read_listed_and_updated(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    for id in ["c-district", "a-district", "b-district"] {
        store.create_district(&district(id)).await.expect("create");
    }
    let read = store
        .get_district(&district_id("a-district"))
        .await
        .expect("get");
    assert_eq!(
        read,
        district("a-district"),
        "a district reads back exactly as stored"
    );
    assert_eq!(read.connector.secrets["client_secret"].expose(), "s3cret");

    let first = store.list_districts(None, 2).await.expect("page 1");
    let ids: Vec<&str> = first.districts.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a-district", "b-district"]);
    let next = first.next_after.expect("more remain");
    let second = store.list_districts(Some(&next), 2).await.expect("page 2");
    let ids: Vec<&str> = second.districts.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["c-district"]);
    assert!(second.next_after.is_none());

    let mut changed = read.clone();
    changed.name = "Renamed".into();
    changed.settings.daily_sync_enabled = true;
    changed.time_zone = chrono_tz::America::Toronto;
    changed.created_at = Utc::now();
    let updated = store.update_district(&changed).await.expect("update");
    let again = store.get_district(&changed.id).await.expect("get");
    assert_eq!(again.name, "Renamed");
    assert!(again.settings.daily_sync_enabled);
    assert_eq!(again.time_zone, chrono_tz::America::Toronto);
    assert_eq!(
        again.created_at, read.created_at,
        "creation time never changes"
    );
    assert!(again.updated_at > read.updated_at);
    assert_eq!(again.updated_at, updated.updated_at);
}

async fn a_duplicate_or_unknown_district_is_refused_by_id(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "cbe").await;
    match store.create_district(&district("cbe")).await {
        Err(StoreError::AlreadyExists { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("district", "cbe"));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    match store.get_district(&district_id("nowhere")).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("district", "nowhere"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    let mut ghost = district("ghost");
    ghost.name = "never created".into();
    assert!(matches!(
        store.update_district(&ghost).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn students_are_upserted_and_kept_apart_per_district(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    store
        .create_district(&district("other"))
        .await
        .expect("create");
    let other = district_id("other");

    let mine = student("4101");
    let theirs = student("4101");
    store
        .upsert_students(&cbe, &[synced(mine.clone())])
        .await
        .expect("upsert");
    store
        .upsert_students(&other, &[synced(theirs.clone())])
        .await
        .expect("upsert");

    assert_eq!(store.get_student(&cbe, mine.id).await.expect("get"), mine);
    let by_source = store
        .find_student_by_source(&cbe, &SourceId::new("4101"))
        .await
        .expect("by source");
    assert_eq!(
        by_source.id, mine.id,
        "the same source id in another district is another student"
    );
    assert!(matches!(
        store.get_student(&cbe, theirs.id).await,
        Err(StoreError::NotFound {
            entity: "student",
            ..
        })
    ));

    let mut moved = mine.clone();
    moved.grade = "8".into();
    moved.school_source_id = Some(SourceId::new("18"));
    moved.birth_date = None;
    store
        .upsert_students(&cbe, &[synced(moved.clone())])
        .await
        .expect("update");
    assert_eq!(store.get_student(&cbe, mine.id).await.expect("get"), moved);

    let many: Vec<_> = (0..1_200)
        .map(|i| synced(student(&format!("s{i}"))))
        .collect();
    store
        .upsert_students(&cbe, &many)
        .await
        .expect("bulk upsert over several batches");
    let last = &many[1_199].value;
    assert_eq!(store.get_student(&cbe, last.id).await.expect("get"), *last);
}

async fn guardians_are_upserted_and_read_in_bulk(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let sis = guardian(Some("700512"), "pat@example.com");
    let local = guardian(None, "sam@example.com");
    store
        .upsert_guardians(&cbe, &[synced(sis.clone()), synced(local.clone())])
        .await
        .expect("upsert");
    assert_eq!(store.get_guardian(&cbe, sis.id).await.expect("get"), sis);
    assert_eq!(
        store
            .find_guardian_by_source(&cbe, &SourceId::new("700512"))
            .await
            .expect("by source")
            .id,
        sis.id
    );
    let mut both = store
        .get_guardians(&cbe, &[sis.id, local.id, GuardianId::new()])
        .await
        .expect("bulk");
    both.sort_by_key(|g| g.email.clone());
    assert_eq!(both, vec![sis.clone(), local.clone()]);

    let mut incomplete = local.clone();
    incomplete.status = AccountStatus::Incomplete;
    store
        .upsert_guardians(&cbe, &[synced(incomplete.clone())])
        .await
        .expect("update");
    assert_eq!(
        store.get_guardian(&cbe, local.id).await.expect("get"),
        incomplete
    );
}

async fn links_keep_origin_tier_rule_and_facts(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let s = student("4101");
    let g1 = guardian(Some("1"), "a@example.com");
    let g2 = guardian(None, "b@example.com");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 24, 7, 0, 0)
        .single()
        .unwrap_or_default();
    let restricted = Link {
        student_id: s.id,
        guardian_id: g1.id,
        origin: LinkOrigin::Sis,
        tier: AccessTier::Restricted,
        decision: Decision::new("ps.rule4.not_decision_making")
            .fact("contact_email", "a@example.com")
            .fact("contacts_not_decision_making", "1"),
        updated_at: at,
    };
    let local = Link {
        student_id: s.id,
        guardian_id: g2.id,
        origin: LinkOrigin::Local,
        tier: AccessTier::Full,
        decision: Decision::new("reconcile.local_only"),
        updated_at: at,
    };
    store
        .upsert_links(&cbe, &[restricted.clone(), local.clone()])
        .await
        .expect("upsert");
    let mut listed = store.list_student_links(&cbe, s.id).await.expect("list");
    listed.sort_by_key(|l| l.guardian_id);
    let mut expected = vec![restricted.clone(), local.clone()];
    expected.sort_by_key(|l| l.guardian_id);
    assert_eq!(listed, expected);

    let mut full = restricted.clone();
    full.tier = AccessTier::Full;
    full.decision = Decision::new("ps.link.full");
    store
        .upsert_links(&cbe, &[full.clone()])
        .await
        .expect("re-tier");
    assert_eq!(
        store.list_guardian_links(&cbe, g1.id).await.expect("list"),
        vec![full]
    );
    assert!(store
        .list_student_links(&district_id("cbe"), StudentId::new())
        .await
        .expect("list")
        .is_empty());

    // The students holding links of one origin, once each, in id order, a page at a time.
    let mut imported: Vec<StudentId> = (0..3).map(|_| StudentId::new()).collect();
    let links: Vec<Link> = imported
        .iter()
        .flat_map(|s| {
            [g1.id, g2.id].map(|g| Link {
                student_id: *s,
                guardian_id: g,
                origin: LinkOrigin::Import,
                tier: AccessTier::Full,
                decision: Decision::new("guardians_csv.link.full"),
                updated_at: at,
            })
        })
        .collect();
    store.upsert_links(&cbe, &links).await.expect("upsert");
    imported.sort();
    let page = |after: Option<StudentId>| {
        let (store, cbe) = (&store, &cbe);
        async move {
            store
                .students_with_links_of(cbe, LinkOrigin::Import, after, 2)
                .await
                .expect("page")
        }
    };
    assert_eq!(page(None).await, imported[..2]);
    assert_eq!(page(Some(imported[1])).await, imported[2..]);
    assert!(page(Some(imported[2])).await.is_empty());
}

async fn the_change_log_is_ordered_paged_and_never_duplicated(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let run = ChangeSource::Run(RunId::new());
    let changes: Vec<FieldChange> = (0..5)
        .map(|i| FieldChange {
            entity: Entity::Student,
            record_id: format!("student-{i}"),
            operation: Operation::Update,
            field: "grade".into(),
            old_value: Some("7".into()),
            new_value: Some("8".into()),
        })
        .collect();
    let at = Utc::now();
    store
        .append_changes(&cbe, run, 1, &changes, at)
        .await
        .expect("append");
    let page = store.list_changes(&cbe, run, None, 3).await.expect("page");
    assert_eq!(page.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(page[0].change, changes[0]);
    let rest = store
        .list_changes(&cbe, run, Some(3), 10)
        .await
        .expect("rest");
    assert_eq!(rest.iter().map(|c| c.seq).collect::<Vec<_>>(), [4, 5]);

    let again = store.append_changes(&cbe, run, 5, &changes[..1], at).await;
    assert!(
        again.is_err(),
        "re-appending seq 5 must fail, not duplicate"
    );
    assert_eq!(store.count_changes(&cbe).await.expect("count"), 5);
    let other_run = ChangeSource::Run(RunId::new());
    assert!(store
        .list_changes(&cbe, other_run, None, 10)
        .await
        .expect("list")
        .is_empty());
}

async fn concurrent_writers_fill_the_change_feed_in_order_without_gaps(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let other = district_id("other");
    store
        .create_district(&district("other"))
        .await
        .expect("other district");
    let change = |i: u64| FieldChange {
        entity: Entity::Student,
        record_id: format!("student-{i}"),
        operation: Operation::Update,
        field: "grade".into(),
        old_value: Some("7".into()),
        new_value: Some("8".into()),
    };
    // Four writers (runs and spot syncs) append batches at once; a reader follows the
    // feed from its cursor while they write.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let cbe = cbe.clone();
            tokio::spawn(async move {
                let source = if w % 2 == 0 {
                    ChangeSource::Run(RunId::new())
                } else {
                    ChangeSource::SpotSync(model::ids::SpotSyncId::new())
                };
                for batch in 0..10u64 {
                    let changes: Vec<FieldChange> = (0..5).map(|i| change(batch * 5 + i)).collect();
                    store
                        .append_changes(&cbe, source, batch * 5, &changes, Utc::now())
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    store
        .append_changes(
            &other,
            ChangeSource::Run(RunId::new()),
            0,
            &[change(0)],
            Utc::now(),
        )
        .await
        .expect("another district's change");
    let mut seen = Vec::new();
    let mut after = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the feed filled in time"
        );
        let page = store.change_feed(&cbe, after, 7).await.expect("feed");
        for e in &page {
            assert_eq!(
                e.position,
                after + 1,
                "positions follow each other without gaps"
            );
            after = e.position;
            seen.push((format!("{:?}", e.record.source), e.record.seq));
        }
        if page.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    for w in writers {
        w.await.expect("writer");
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 200, "every change once");
    assert!(store
        .change_feed(&cbe, after, 10)
        .await
        .expect("end")
        .is_empty());
    assert_eq!(store.change_feed_head(&cbe).await.expect("head"), 200);
    let theirs = store.change_feed(&other, 0, 10).await.expect("other feed");
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].position, 1, "each district has its own feed");
}

async fn form_authorship_is_recorded_once(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    let fact = FormAuthorship {
        guardian_id: GuardianId::new(),
        student_id: StudentId::new(),
    };
    store
        .record_form_authorship(&cbe, fact)
        .await
        .expect("record");
    store
        .record_form_authorship(&cbe, fact)
        .await
        .expect("record again");
    assert_eq!(
        store
            .form_authors(&cbe, fact.student_id)
            .await
            .expect("authors"),
        vec![fact.guardian_id]
    );
}
