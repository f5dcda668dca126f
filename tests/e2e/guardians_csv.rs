//! guardians.csv end to end, on both databases: a district whose sync does not manage
//! guardians gets them from a file — through ImportGuardians, the CLI and its drop
//! folder, one code path — as a run with its plan, links of origin `import` with tiers
//! and rule ids, phones in the SMS and phone fields; a later file replaces what an
//! earlier one made; no SIS run touches them; a bad file writes nothing and its report
//! names each line and column wherever it came in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::{Backend, Store};

use crate::harness::{create_sim_district, follow_run, run_to_end, update_request, Server, BIN};

store::on_both_backends!(
    a_guardians_csv_gives_the_district_its_guardians_every_way_in,
    a_bad_guardians_csv_writes_nothing_and_names_each_line_and_column,
);

const DISTRICT: &str = "csv-district";
const HEADER: &str =
    "student_id,first_name,last_name,email,sms_phone,home_phone,relationship,contact_type";

fn district_id() -> DistrictId {
    DISTRICT.parse().expect("id")
}

struct Setup {
    sim: Simulator,
    server: Server,
    client: crate::harness::Client,
    store: Store,
    drops: tempfile::TempDir,
    /// Two students' numbers, as the district shows them.
    numbers: [String; 2],
}

async fn setup(backend: Backend) -> Setup {
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let drops = tempfile::tempdir().expect("drop folders");
    let server = Server::start_with(
        backend,
        &[(
            "ROSTERSYNC_IMPORTS_DIR",
            drops.path().to_str().expect("utf-8 path"),
        )],
    )
    .await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    client
        .update_district(update_request(
            pb::District {
                district_id: DISTRICT.into(),
                settings: Some(pb::DistrictSettings {
                    manage_guardians: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["settings.manage_guardians"],
        ))
        .await
        .expect("guardians from guardians.csv");
    let run = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    let store = server.store().await;
    assert_eq!(
        store
            .count_guardians(&district_id(), false)
            .await
            .expect("count"),
        0
    );
    let numbers = sim.district(|d| {
        let s = d.expected_students();
        [s[0].student_number.clone(), s[1].student_number.clone()]
    });
    Setup {
        sim,
        server,
        client,
        store,
        drops,
        numbers,
    }
}

/// Sends `content` through ImportGuardians in pieces of 64 bytes.
async fn import(
    client: &mut crate::harness::Client,
    content: &str,
    dry_run: bool,
) -> Result<pb::SyncRun, tonic::Status> {
    let mut pieces: Vec<pb::ImportGuardiansRequest> = content
        .as_bytes()
        .chunks(64)
        .map(|c| pb::ImportGuardiansRequest {
            data: c.to_vec(),
            ..Default::default()
        })
        .collect();
    pieces[0].district_id = DISTRICT.into();
    pieces[0].dry_run = dry_run;
    client
        .import_guardians(tokio_stream::iter(pieces))
        .await
        .map(tonic::Response::into_inner)
}

/// A student's links by the guardian's source id: (origin, tier, rule).
async fn links_of(store: &Store, number: &str) -> Vec<(String, String, String, String)> {
    let d = district_id();
    let student = store
        .students_by_number(&d, &[number.to_owned()])
        .await
        .expect("student")
        .pop()
        .expect("held")
        .value;
    let mut out = Vec::new();
    for l in store
        .list_student_links(&d, student.id)
        .await
        .expect("links")
    {
        let g = store
            .get_guardian(&d, l.guardian_id)
            .await
            .expect("guardian");
        out.push((
            g.source_id
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            l.origin.as_str().to_owned(),
            l.tier.as_str().to_owned(),
            l.decision.rule.to_string(),
        ));
    }
    out.sort();
    out
}

async fn latest_import(client: &mut crate::harness::Client) -> pb::SyncRun {
    client
        .list_sync_runs(pb::ListSyncRunsRequest {
            district_id: DISTRICT.into(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("runs")
        .into_inner()
        .runs
        .into_iter()
        .find(|r| r.trigger == pb::RunTrigger::Import as i32)
        .expect("an import run")
}

async fn import_runs(client: &mut crate::harness::Client) -> usize {
    client
        .list_sync_runs(pb::ListSyncRunsRequest {
            district_id: DISTRICT.into(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("runs")
        .into_inner()
        .runs
        .iter()
        .filter(|r| r.trigger == pb::RunTrigger::Import as i32)
        .count()
}

/// Drops `content` as `name` in the district's folder and waits for its report.
async fn drop_file(drops: &Path, name: &str, content: &str) -> (PathBuf, String) {
    let dir = drops.join(DISTRICT);
    std::fs::create_dir_all(&dir).expect("the district's folder");
    std::fs::write(dir.join(name), content).expect("drop");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        for folder in ["done", "failed"] {
            let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let file = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if file.ends_with(&format!("-{name}.report.txt")) {
                    assert!(!dir.join(name).exists(), "the file was moved aside");
                    let moved = path.with_file_name(file.trim_end_matches(".report.txt"));
                    assert!(moved.exists(), "{moved:?}");
                    return (
                        dir.join(folder),
                        std::fs::read_to_string(&path).expect("report"),
                    );
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no report for {name}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn a_guardians_csv_gives_the_district_its_guardians_every_way_in(backend: Backend) {
    let Setup {
        sim,
        server,
        mut client,
        store,
        drops,
        numbers: [s1, s2],
    } = setup(backend).await;
    let d = district_id();
    let first = format!(
        "\u{feff}{HEADER}\r\n\
         {s1},Ana,Ruiz,ana.ruiz@example.net,+1 555 010 2233,555-010-4455,mother,guardian\r\n\
         {s2},Ana,Ruiz,Ana.Ruiz@example.net,+1 555 010 2233,555-010-4455,mother,guardian\r\n\
         {s1},\"Ng, Sam\",Ng,,555-010-9000,,grandparent,emergency\r\n"
    );

    // A dry run shows the plan and writes nothing.
    let dry = import(&mut client, &first, true).await.expect("dry run");
    let dry = follow_run(&mut client, DISTRICT, &dry.run_id).await;
    assert_eq!(dry.state, pb::RunState::Succeeded as i32, "{dry:#?}");
    assert_eq!(dry.trigger, pb::RunTrigger::Import as i32);
    assert_eq!(
        dry.planned.get("guardian.create").copied(),
        Some(2),
        "{:?}",
        dry.planned
    );
    assert_eq!(
        dry.planned.get("link.create").copied(),
        Some(3),
        "{:?}",
        dry.planned
    );
    assert_eq!(store.count_guardians(&d, false).await.expect("count"), 0);

    // Through the RPC: two guardians, three links of origin import, Full by the file's rule.
    let run = import(&mut client, &first, false).await.expect("import");
    let run = follow_run(&mut client, DISTRICT, &run.run_id).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    assert_eq!(store.count_guardians(&d, false).await.expect("count"), 2);
    let ana = "csv:ana.ruiz@example.net".to_owned();
    let sam = "csv:ng, sam|ng|5550109000".to_owned();
    let full = |g: &str| {
        (
            g.to_owned(),
            "import".to_owned(),
            "full".to_owned(),
            "guardians_csv.link.full".to_owned(),
        )
    };
    assert_eq!(links_of(&store, &s1).await, [full(&ana), full(&sam)]);
    assert_eq!(links_of(&store, &s2).await, [full(&ana)]);
    let g = store
        .find_guardian_by_source(&d, &SourceId::new(&ana))
        .await
        .expect("Ana");
    assert_eq!(
        (
            g.mobile_phone.as_str(),
            g.home_phone.as_str(),
            g.sis_connected
        ),
        ("+1 555 010 2233", "555-010-4455", false),
        "SMS phone → the SMS field, home phone → the phone field; not a SIS account"
    );

    // A SIS run leaves the file's guardians and links alone.
    sim.edit(|x| {
        if let Some(s) = x.students.first_mut() {
            s.last_name = "Renamed".into();
        }
    });
    let sis = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(sis.state, pb::RunState::Succeeded as i32, "{sis:#?}");
    assert_eq!(links_of(&store, &s1).await, [full(&ana), full(&sam)]);

    // Through the CLI: a later file replaces what the first made — Sam goes (and his
    // account with his last link), Ana stays.
    let second = format!(
        "{HEADER}\n{s1},Ana,Ruiz,ana.ruiz@example.net,+1 555 010 2233,555-010-4455,mother,guardian\n"
    );
    let file = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(file.path(), &second).expect("write");
    let out = std::process::Command::new(BIN)
        .args(["guardians", "import", "--district", DISTRICT, "--watch"])
        .arg(file.path())
        .args(["--server", &server.url()])
        .output()
        .expect("run the cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Removing a third of the district's links trips its links_removed threshold: the
    // run waits for someone to look, then is approved.
    let paused = latest_import(&mut client).await;
    assert_eq!(paused.state, pb::RunState::Paused as i32, "{paused:#?}");
    assert!(
        paused.trips.iter().any(|t| t.limit == "links_removed"),
        "{paused:#?}"
    );
    assert_eq!(
        links_of(&store, &s1).await,
        [full(&ana), full(&sam)],
        "nothing written while paused"
    );
    client
        .approve_sync_run(pb::ApproveSyncRunRequest {
            district_id: DISTRICT.into(),
            run_id: paused.run_id.clone(),
            ..Default::default()
        })
        .await
        .expect("approve");
    let approved = follow_run(&mut client, DISTRICT, &paused.run_id).await;
    assert_eq!(
        approved.state,
        pb::RunState::Succeeded as i32,
        "{approved:#?}"
    );
    assert_eq!(links_of(&store, &s1).await, [full(&ana)]);
    assert_eq!(
        links_of(&store, &s2).await,
        Vec::new(),
        "the second file does not list Ana for s2"
    );
    let gone = store
        .find_guardian_by_source(&d, &SourceId::new(&sam))
        .await
        .expect("Sam");
    assert!(gone.archived, "his last link went");

    // Through the drop folder: imported once, moved to done/ with its report.
    let third = format!(
        "{HEADER}\n{s1},Ana,Ruiz,ana.ruiz@example.net,+1 555 010 2233,555-010-4455,mother,guardian\n{s2},Lee,Park,lee.park@example.net,,,father,guardian\n"
    );
    let (folder, report) = drop_file(drops.path(), "nightly.csv", &third).await;
    assert!(folder.ends_with("done"), "{report}");
    assert!(report.contains("succeeded"), "{report}");
    assert_eq!(
        links_of(&store, &s2).await,
        [full("csv:lee.park@example.net")]
    );
    assert_eq!(
        import_runs(&mut client).await,
        4,
        "dry run, RPC, CLI, drop folder"
    );
}

async fn a_bad_guardians_csv_writes_nothing_and_names_each_line_and_column(backend: Backend) {
    let Setup {
        server,
        mut client,
        store,
        drops,
        numbers: [s1, _],
        ..
    } = setup(backend).await;
    let d = district_id();
    let bad = format!(
        "{HEADER}\n\
         no-such-student,Ana,Ruiz,ana@example.net,,,mother,guardian\n\
         {s1},Bo,Li,bo@@example,,,father,guardian\n\
         {s1},Cy,Ng,cy@example.net,,,aunt,family\n\
         {s1},Cy,Ng,cy@example.net,,,aunt,family\n\
         {s1},Dee,\"Ko\"x,dee@example.net,,,parent,guardian\n"
    );
    let want = [
        ("line 3, column email", "not an e-mail address"),
        ("line 5", "duplicate row: line 4"),
        ("line 6, column last_name", "stray quote"),
    ];

    // The RPC: INVALID_ARGUMENT, a field violation per problem.
    let status = import(&mut client, &bad, false).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let violations = {
        use tonic_types::StatusExt;
        status
            .get_error_details()
            .bad_request()
            .map(|b| b.field_violations.clone())
            .unwrap_or_default()
    };
    let seen: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    for (place, why) in want {
        assert!(
            seen.iter().any(|s| s.starts_with(place) && s.contains(why)),
            "{place} {why} in {seen:#?}"
        );
    }
    // The unknown student is named once the file's own problems are fixed.
    let unknown = format!(
        "{HEADER}\nno-such-student,Ana,Ruiz,ana@example.net,,,mother,guardian\n{s1},Bo,Li,bo@example.net,,,father,guardian\n"
    );
    let status = import(&mut client, &unknown, false)
        .await
        .expect_err("refused");
    assert!(
        status
            .message()
            .contains("line 2, column student_id: unknown student id"),
        "{}",
        status.message()
    );

    // The CLI prints every problem.
    let file = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(file.path(), &bad).expect("write");
    let out = std::process::Command::new(BIN)
        .args(["guardians", "import", "--district", DISTRICT])
        .arg(file.path())
        .args(["--server", &server.url()])
        .output()
        .expect("run the cli");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for (place, why) in want {
        assert!(
            err.contains(place) && err.contains(why),
            "{place} {why} in {err}"
        );
    }

    // The drop folder: moved to failed/, the report names each problem; a missing
    // column is named too.
    let (folder, report) = drop_file(drops.path(), "bad.csv", &bad).await;
    assert!(folder.ends_with("failed"), "{report}");
    for (place, why) in want {
        assert!(
            report.contains(place) && report.contains(why),
            "{place} {why} in {report}"
        );
    }
    let no_column = format!("student_id,first_name,last_name,email,sms_phone,home_phone,relationship\n{s1},Ana,Ruiz,,,,mother\n");
    let (folder, report) = drop_file(drops.path(), "short.csv", &no_column).await;
    assert!(folder.ends_with("failed"));
    assert!(
        report.contains("line 1, column contact_type: missing column"),
        "{report}"
    );

    // Nothing was written: no guardian, no import run.
    assert_eq!(store.count_guardians(&d, false).await.expect("count"), 0);
    assert_eq!(import_runs(&mut client).await, 0);

    // A district whose sync manages guardians takes no file.
    client
        .update_district(update_request(
            pb::District {
                district_id: DISTRICT.into(),
                settings: Some(pb::DistrictSettings {
                    manage_guardians: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["settings.manage_guardians"],
        ))
        .await
        .expect("settings");
    let refused = import(&mut client, &unknown, false)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("manage_guardians"),
        "{}",
        refused.message()
    );
}
