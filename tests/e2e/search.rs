//! SearchRoster over grpcurl and `rostersync find`: a district synced from the PowerSchool
//! simulator, and a student and guardian found by every key support asks with.

use std::process::Command;

use model::ids::{GuardianId, SourceId};
use model::roster::{AccountStatus, Address, Guardian};
use proto::v1 as pb;
use serde_json::Value;
use sim::powerschool::{SimConfig, Simulator};
use store::{Backend, Synced};
use tonic::Code;

use crate::harness::{create_sim_district, run_to_end, stdout, Server, BIN};

store::on_both_backends!(support_finds_anyone_by_each_key);

/// SearchRoster through grpcurl: the matches, as JSON.
fn search(server: &Server, query: &str, extra: &str) -> Value {
    let body = format!(
        r#"{{"district_id":"sim","query":{}{extra}}}"#,
        Value::from(query)
    );
    let out = server.grpcurl(&["-d", &body], &["rostersync.v1.SyncService/SearchRoster"]);
    assert!(
        out.status.success(),
        "{query}: {}",
        crate::harness::stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("JSON answer")
}

/// `(kind, id, matched)` of each match.
fn found(answer: &Value) -> Vec<(String, String, String)> {
    answer["matches"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|m| {
                    let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
                    (s("kind"), s("id"), s("matched"))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn support_finds_anyone_by_each_key(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        students: 30,
        schools: 1,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, "sim", &sim, &[]).await;
    let run = run_to_end(&mut client, "sim", false).await;
    assert_eq!(run.state(), pb::RunState::Succeeded, "{run:?}");

    // A student as the sync stored it.
    let store = server.store().await;
    let district = "sim".parse().expect("id");
    let (student_id, _) = store
        .active_students_page(&district, None, 1)
        .await
        .expect("students")
        .into_iter()
        .next()
        .expect("a synced student");
    let student = store
        .get_student(&district, student_id)
        .await
        .expect("student");
    let id = student.id.to_string();
    let student_kind = ("student".to_owned(), id.clone());
    // A guardian with a phone written as people write them.
    let guardian = Guardian {
        id: GuardianId::new(),
        source_id: Some(SourceId::new("search-g1")),
        first_name: "Zoë".into(),
        last_name: "Quill-Ashby".into(),
        email: "Zoe.Quill@Example.org".into(),
        home_phone: String::new(),
        mobile_phone: "(403) 555-0199".into(),
        address: Address::default(),
        status: AccountStatus::Active,
        sis_connected: false,
        archived: false,
    };
    store
        .upsert_guardians(
            &district,
            &[Synced {
                value: guardian.clone(),
                source_hash: "h".into(),
            }],
        )
        .await
        .expect("guardian");
    let guardian_kind = ("guardian".to_owned(), guardian.id.to_string());

    // A student by source id, student number, e-mail in another case, and name prefix.
    let has = |answer: &Value, who: &(String, String), by: &str| {
        found(answer)
            .iter()
            .any(|(k, i, m)| (k, i) == (&who.0, &who.1) && m == by)
    };
    let by_source = search(&server, student.source_id.as_str(), "");
    assert!(has(&by_source, &student_kind, "source_id"), "{by_source}");
    let by_number = search(&server, &student.student_number, "");
    assert!(
        has(&by_number, &student_kind, "student_number"),
        "{by_number}"
    );
    if !student.org_email.is_empty() {
        let by_email = search(&server, &student.org_email.to_uppercase(), "");
        assert!(has(&by_email, &student_kind, "email"), "{by_email}");
    }
    let prefix: String = student.legal_last_name.chars().take(3).collect();
    let by_name = search(&server, &prefix.to_lowercase(), r#","page_size":500"#);
    assert!(has(&by_name, &student_kind, "last_name"), "{by_name}");
    let full = format!("{} {}", student.legal_last_name, student.legal_first_name);
    let by_full = search(&server, &full, "");
    assert!(has(&by_full, &student_kind, "last_name"), "{by_full}");

    // A guardian by a phone in another format, by e-mail, by a folded name.
    for (query, by) in [
        ("+1 403 555 0199", "mobile_phone"),
        ("4035550199", "mobile_phone"),
        ("zoe.quill@example.org", "email"),
        ("quillash", "last_name"),
        ("zoe quill", "first_name"),
    ] {
        let answer = search(&server, query, "");
        assert_eq!(
            found(&answer),
            [(
                guardian_kind.0.clone(),
                guardian_kind.1.clone(),
                by.to_owned()
            )],
            "{query}: {answer}"
        );
    }

    // Paged: one at a time, every student of a shared prefix once.
    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let extra = format!(r#","page_size":1,"page_token":"{token}""#);
        let page = search(&server, &prefix, &extra);
        seen.extend(found(&page));
        token = page["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if token.is_empty() {
            break;
        }
        assert!(seen.len() < 100, "paging ends");
    }
    let all = found(&by_name);
    assert_eq!(seen, all, "pages of one give the page of many");

    // Refused: an empty text, a token of another query.
    let mut client = server.client().await;
    let empty = client
        .search_roster(pb::SearchRosterRequest {
            district_id: "sim".into(),
            query: "  ".into(),
            ..Default::default()
        })
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), Code::InvalidArgument, "{empty:?}");
    assert!(empty.message().contains("query"), "{empty:?}");
    let first = client
        .search_roster(pb::SearchRosterRequest {
            district_id: "sim".into(),
            query: prefix.clone(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
    if !first.next_page_token.is_empty() {
        let other = client
            .search_roster(pb::SearchRosterRequest {
                district_id: "sim".into(),
                query: "zoe".into(),
                page_size: 1,
                page_token: first.next_page_token,
            })
            .await
            .expect_err("another query's token");
        assert_eq!(other.code(), Code::InvalidArgument, "{other:?}");
    }

    // The CLI: one line per person, with what found them.
    let out = Command::new(BIN)
        .args(["find", "--district", "sim", "403.555.0199"])
        .args(["--server", &server.url()])
        .output()
        .expect("run rostersync find");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&guardian.id.to_string())
            && text.contains("Zoë Quill-Ashby")
            && text.contains("(by mobile_phone)"),
        "{text}"
    );
}
