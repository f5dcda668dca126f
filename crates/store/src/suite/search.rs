//! Finding people: by every key, paged without repeats, in one district only, and for
//! rows stored before their keys were kept.

use model::ids::{SourceId, StaffId};
use model::roster::Staff;
use model::search::SearchText;

use super::{district, district_id, guardian, store_with_district, student, synced};
use crate::search::{Match, PersonKind, SearchCursor};
use crate::{Backend, Store, Synced};

crate::on_both_backends!(
    a_person_is_found_by_each_key,
    names_are_found_by_prefix_folded_and_paged_without_repeats,
    a_search_stays_in_its_district,
    rows_stored_before_their_keys_are_found_after_the_migration,
    every_lane_reads_an_index_range,
);

async fn find(store: &Store, district: &str, text: &str) -> Vec<Match> {
    let text = SearchText::parse("query", text).expect("search text");
    let found = store
        .search_roster(&district_id(district), &text, None, 100)
        .await
        .expect("search");
    found.into_iter().map(|(m, _)| m).collect()
}

fn who(found: &[Match]) -> Vec<(PersonKind, &str, &'static str)> {
    found
        .iter()
        .map(|m| (m.kind, m.source_id.as_str(), m.matched))
        .collect()
}

async fn seed(store: &Store, district: &str) {
    let d = district_id(district);
    let mut ana = student("s-ana");
    ana.legal_first_name = "Ána María".into();
    ana.legal_last_name = "O'Brien".into();
    ana.student_number = "100200".into();
    ana.org_email = "Ana.OBrien@District.example".into();
    ana.personal_email = "ana@home.example".into();
    let mut bo = student("s-bo");
    bo.legal_first_name = "Bo".into();
    bo.legal_last_name = "Obrecht".into();
    bo.student_number = "100201".into();
    bo.org_email = "bo@district.example".into();
    store
        .upsert_students(&d, &[synced(ana), synced(bo)])
        .await
        .expect("students");
    let mut pat = guardian(Some("g-pat"), "Pat.Doe@Mail.example");
    pat.home_phone = "(403) 555-0100".into();
    pat.mobile_phone = "403.555.0101".into();
    store
        .upsert_guardians(&d, &[synced(pat)])
        .await
        .expect("guardians");
    let teacher = Staff {
        id: StaffId::new(),
        source_id: SourceId::new("t-1"),
        first_name: "Obi".into(),
        last_name: "Wan".into(),
        email: "obi@district.example".into(),
        school_source_ids: vec![],
        permissions: Default::default(),
        archived: false,
    };
    let row = crate::roster::staff_row(&d, &teacher, "h", chrono::Utc::now());
    crate::roster::write_staff(store.db(), vec![row])
        .await
        .expect("staff");
}

async fn a_person_is_found_by_each_key(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "cbe").await;
    seed(&store, "cbe").await;
    use PersonKind::{Guardian, Staff, Student};
    assert_eq!(
        who(&find(&store, "cbe", "s-ana").await),
        [(Student, "s-ana", "source_id")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "g-pat").await),
        [(Guardian, "g-pat", "source_id")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "t-1").await),
        [(Staff, "t-1", "source_id")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "100201").await),
        [(Student, "s-bo", "student_number")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "ANA.obrien@district.EXAMPLE").await),
        [(Student, "s-ana", "email")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "ana@home.example").await),
        [(Student, "s-ana", "personal_email")]
    );
    assert_eq!(
        who(&find(&store, "cbe", "pat.doe@mail.example").await),
        [(Guardian, "g-pat", "email")]
    );
    // A phone in any format, matched in E.164.
    for phone in ["403-555-0101", "+1 (403) 555 0101", "14035550101"] {
        assert_eq!(
            who(&find(&store, "cbe", phone).await),
            [(Guardian, "g-pat", "mobile_phone")],
            "{phone}"
        );
    }
    assert_eq!(
        who(&find(&store, "cbe", "4035550100").await),
        [(Guardian, "g-pat", "home_phone")]
    );
    let shown = &find(&store, "cbe", "s-ana").await[0];
    assert_eq!(
        (
            shown.first_name.as_str(),
            shown.last_name.as_str(),
            shown.student_number.as_str()
        ),
        ("Ána María", "O'Brien", "100200")
    );
    assert!(find(&store, "cbe", "nobody-has-this").await.is_empty());
}

async fn names_are_found_by_prefix_folded_and_paged_without_repeats(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "cbe").await;
    seed(&store, "cbe").await;
    use PersonKind::{Staff, Student};
    // Last names first, then first names, students before staff; folded, in key order
    // (`obrecht` before `obrien`).
    assert_eq!(
        who(&find(&store, "cbe", "ob").await),
        [
            (Student, "s-bo", "last_name"),
            (Student, "s-ana", "last_name"),
            (Staff, "t-1", "first_name"),
        ]
    );
    assert_eq!(
        who(&find(&store, "cbe", "anA").await),
        [(Student, "s-ana", "first_name")]
    );
    // A second word must begin another word of the name.
    assert_eq!(
        who(&find(&store, "cbe", "obr mar").await),
        [(Student, "s-ana", "last_name")]
    );
    assert!(find(&store, "cbe", "obr zed").await.is_empty());

    // Many of one name, read a page at a time: every one once, in order.
    let d = district_id("cbe");
    let many: Vec<Synced<_>> = (0..57)
        .map(|i| {
            let mut s = student(&format!("m{i:02}"));
            s.legal_last_name = "Martin".into();
            s.legal_first_name = "Marty".into();
            synced(s)
        })
        .collect();
    store.upsert_students(&d, &many).await.expect("students");
    let text = SearchText::parse("query", "mart").expect("text");
    let mut after: Option<SearchCursor> = None;
    let mut seen = Vec::new();
    loop {
        let page = store
            .search_roster(&d, &text, after.as_ref(), 10)
            .await
            .expect("page");
        assert!(page.len() <= 10);
        let full = page.len() == 10;
        after = page
            .last()
            .map(|(_, c)| SearchCursor::decode(&c.encode()).expect("cursor"));
        seen.extend(page.into_iter().map(|(m, _)| (m.source_id, m.matched)));
        if !full {
            break;
        }
    }
    assert_eq!(seen.len(), 57, "{seen:?}");
    assert!(
        seen.iter().all(|(_, matched)| *matched == "last_name"),
        "each once, by its last name"
    );
    let mut ids: Vec<_> = seen.iter().map(|(s, _)| s.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 57);
}

async fn a_search_stays_in_its_district(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "cbe").await;
    store
        .create_district(&district("other"))
        .await
        .expect("district");
    seed(&store, "other").await;
    assert!(find(&store, "cbe", "s-ana").await.is_empty());
    assert!(find(&store, "cbe", "ob").await.is_empty());
    assert_eq!(find(&store, "other", "s-ana").await.len(), 1);
}

async fn rows_stored_before_their_keys_are_found_after_the_migration(backend: Backend) {
    let (_db, store, _) = store_with_district(backend, "cbe").await;
    seed(&store, "cbe").await;
    store
        .migrate_down(Some(super::steps_back_to("search_keys")))
        .await
        .expect("down to before the keys");
    store.migrate().await.expect("up again");
    assert_eq!(
        who(&find(&store, "cbe", "obri").await),
        [(PersonKind::Student, "s-ana", "last_name")]
    );
    assert_eq!(find(&store, "cbe", "403 555 0101").await.len(), 1);
}

async fn every_lane_reads_an_index_range(backend: Backend) {
    let (_db, store, cbe) = store_with_district(backend, "cbe").await;
    seed(&store, "cbe").await;
    let mut lanes = 0;
    for text in [
        "obr mar",
        "ana@home.example",
        "(403) 555-0101",
        "100200",
        "s-ana",
    ] {
        let parsed = SearchText::parse("query", text).expect("text");
        for (kind, matched, plan) in crate::search::lane_plans(&store, &cbe, &parsed)
            .await
            .expect("plans")
        {
            lanes += 1;
            let indexed = match backend {
                Backend::Sqlite => {
                    plan.contains("USING INDEX ix_")
                        || plan.contains("USING INDEX ux_")
                        || plan.contains("USING COVERING INDEX ix_")
                }
                Backend::Postgres => plan.contains("Index") && !plan.contains("Seq Scan"),
            };
            assert!(indexed, "{text:?}: {kind} by {matched} reads {plan}");
            // A source id is unique: its lane holds one row at most, sorted or not.
            let sorts = plan.contains("TEMP B-TREE FOR ORDER BY") || plan.contains("Sort");
            assert!(
                matched == "source_id" || !sorts,
                "{text:?}: {kind} by {matched} sorts: {plan}"
            );
        }
    }
    assert!(lanes >= 16, "every lane looked at: {lanes}");
}
