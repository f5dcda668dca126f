//! README.md's grpcurl tour, every command of it in order, run through a shell against
//! `rostersync demo` — so the tour a new user follows cannot drift from what the service
//! does. Placeholders (`RUN-ID`, `ETAG`, `CURSOR`, `STUDENT-ID`, …) take the values the
//! earlier answers gave, as a reader would copy them.

use std::collections::HashMap;
use std::process::Command;

use proto::v1 as pb;

use crate::harness::{follow_run, Server};

const README: &str = include_str!("../../README.md");

/// The grpcurl commands of the tour section, whole (continuation lines and multi-line
/// JSON joined).
fn tour_commands() -> Vec<String> {
    let start = README
        .find("## A grpcurl tour")
        .expect("README has a grpcurl tour");
    let end = README[start..]
        .find("\n## Configuration")
        .map_or(README.len(), |e| start + e);
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut current: Option<String> = None;
    for line in README[start..end].lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh" && !in_sh;
            continue;
        }
        if !in_sh {
            continue;
        }
        match current.as_mut() {
            Some(cmd) => {
                cmd.push('\n');
                cmd.push_str(line);
            }
            None if line.starts_with("grpcurl ") => current = Some(line.to_owned()),
            None => continue,
        }
        let cmd = current.as_deref().unwrap_or_default();
        let open_quote = cmd.matches('\'').count() % 2 == 1;
        if !open_quote && !cmd.ends_with('\\') {
            commands.extend(current.take());
        }
    }
    commands
}

/// The first `"key": "value"` in a grpcurl JSON answer.
fn field(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\": \""))? + key.len() + 5;
    let rest = &json[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The gRPC code grpcurl printed for a failed call (`Code: NotFound`).
fn code(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Code: "))
        .unwrap_or("?")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_grpcurl_tour_runs_against_the_demo() {
    let commands = tour_commands();
    assert!(commands.len() >= 25, "{commands:#?}");
    let mut server = Server::demo().await;
    let mut client = server.client().await;
    let mut vars: HashMap<&'static str, String> = HashMap::from([
        // The tour's cbe district never syncs: its reads answer NotFound for any id.
        ("STUDENT-UUID", uuid_like()),
        ("STAFF-DCID", "1".to_owned()),
        ("SECTION-DCID", "1".to_owned()),
    ]);
    for raw in &commands {
        let mut cmd = raw.replace("127.0.0.1:50051", &server.addr);
        for (name, value) in &vars {
            cmd = cmd.replace(name, value);
        }
        let method = raw
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if method == "WatchChanges" || method == "WatchRunEvents" {
            // It streams and waits for more: look for a few seconds.
            cmd = cmd.replacen("grpcurl ", "grpcurl -max-time 3 ", 1);
        }
        assert!(
            !cmd.contains("-ID") && !cmd.contains("ETAG") && !cmd.contains("CURSOR"),
            "a placeholder the tour never filled: {cmd}"
        );
        let run = || {
            Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .env(
                    "ROSTERSYNC_API_KEY",
                    server.api_key.as_deref().expect("the demo printed its key"),
                )
                .output()
                .expect("run a tour command through sh")
        };
        let mut out = run();
        // Created between its midnight and 6 AM, cbe has its night's run at once (seed
        // 001's catch-up); the delete waits for that run to fail on its unreachable SIS.
        for _ in 0..120 {
            if method != "DeleteDistrict"
                || !String::from_utf8_lossy(&out.stderr).contains("is syncing")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            out = run();
        }
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let on_cbe = cmd.contains(r#""district_id": "cbe""#);
        let allowed: &[&str] = match method.as_str() {
            "GetStudent"
            | "ListStudentLinks"
            | "GetStaff"
            | "GetClassroom"
            | "ListStudentClassrooms"
            | "GetSourceRecords"
                if on_cbe =>
            {
                &["NotFound"]
            }
            // The tour's run has ended by then: nothing is paused to approve or cancel.
            "ApproveSyncRun" | "CancelSyncRun" => &["FailedPrecondition"],
            "WatchChanges" | "WatchRunEvents" => &["DeadlineExceeded"],
            _ => &[],
        };
        if out.status.success() {
            assert!(
                allowed.is_empty() || method == "WatchChanges" || method == "WatchRunEvents",
                "{method} was to be refused ({allowed:?}) and succeeded: {cmd}\n{stdout}"
            );
        } else {
            let got = code(&stderr);
            assert!(
                allowed.contains(&got.as_str()),
                "the tour's command failed with {got}:\n{cmd}\n{stderr}"
            );
        }
        match method.as_str() {
            "GetDistrict" => {
                if let Some(etag) = field(&stdout, "etag") {
                    vars.insert("ETAG", etag);
                }
            }
            "StartSync" => {
                let run = field(&stdout, "runId").expect("a run id");
                let ended = follow_run(&mut client, "demo", &run).await;
                assert_eq!(ended.state, pb::RunState::Succeeded as i32, "{ended:#?}");
                vars.insert("RUN-ID", run.clone());
                // A student the full run brought in, for the spot sync lines.
                let students = client
                    .list_run_changes(pb::ListRunChangesRequest {
                        district_id: "demo".into(),
                        run_id: run,
                        entity: pb::Entity::Student as i32,
                        operation: 0,
                        page_size: 1,
                        page_token: String::new(),
                    })
                    .await
                    .expect("the run's students")
                    .into_inner();
                if let Some(c) = students.changes.first() {
                    vars.insert("STUDENT-ID", c.record_id.clone());
                }
            }
            "ListChanges" => {
                if let Some(cursor) = field(&stdout, "cursor") {
                    vars.insert("CURSOR", cursor);
                }
            }
            "ListAuditEvents" => {
                // The runs the tour started, under the demo key's name.
                assert!(stdout.contains(r#""action": "run.start""#), "{stdout}");
                assert!(stdout.contains(r#""actor": "demo""#), "{stdout}");
            }
            "CreateApiKey" => {
                let token = field(&stdout, "token").expect("the new key's token");
                assert!(token.starts_with("rsk_"), "{stdout}");
                // The support desk's key reads district demo and nothing of cbe.
                let mut support = server.client_with(Some(&token)).await;
                support
                    .get_district(pb::GetDistrictRequest {
                        district_id: "demo".into(),
                    })
                    .await
                    .expect("the support key reads demo");
                let denied = support
                    .get_district(pb::GetDistrictRequest {
                        district_id: "cbe".into(),
                    })
                    .await
                    .expect_err("cbe is beyond the support key");
                assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
                vars.insert("SUPPORT-TOKEN", token);
            }
            "RevokeApiKey" => {
                assert!(stdout.contains("revokeTime"), "{stdout}");
                let token = vars.get("SUPPORT-TOKEN").expect("made before").clone();
                let refused = server
                    .client_with(Some(&token))
                    .await
                    .get_district(pb::GetDistrictRequest {
                        district_id: "demo".into(),
                    })
                    .await
                    .expect_err("a revoked key is refused");
                assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
            }
            _ => {}
        }
    }
    assert!(server.stop().success());
}

fn uuid_like() -> String {
    "00000000-0000-4000-8000-000000000001".to_owned()
}
