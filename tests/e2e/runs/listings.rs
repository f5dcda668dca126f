//! Runs and changes as callers list and follow them: pages that stay stable while runs
//! are added, a retried start that gets its run back, and a change feed resumed from its
//! cursor.

use super::*;

store::on_both_backends!(
    pages_stay_stable_while_runs_are_added_and_tokens_keep_to_their_request,
    a_retried_start_with_one_request_id_gets_the_same_run,
    a_change_feed_watcher_that_resumes_from_its_cursor_gets_every_change_once,
);

async fn list_runs(
    client: &mut crate::harness::Client,
    district: &str,
    size: i32,
    token: &str,
) -> Result<pb::ListSyncRunsResponse, tonic::Status> {
    client
        .list_sync_runs(pb::ListSyncRunsRequest {
            district_id: district.into(),
            page_size: size,
            page_token: token.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn pages_stay_stable_while_runs_are_added_and_tokens_keep_to_their_request(backend: Backend) {
    let (sim, _server, mut client) = setup(backend).await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(run(&mut client, true).await.run_id);
    }
    made.reverse(); // newest first, as listed

    let first = list_runs(&mut client, DISTRICT, 2, "")
        .await
        .expect("page 1");
    let mut seen: Vec<String> = first.runs.iter().map(|r| r.run_id.clone()).collect();
    let mut token = first.next_page_token;
    assert!(!token.is_empty());
    // Two more runs start while the caller pages: they are newer than every page to come.
    for _ in 0..2 {
        run(&mut client, true).await;
    }
    while !token.is_empty() {
        let page = list_runs(&mut client, DISTRICT, 2, &token)
            .await
            .expect("page");
        seen.extend(page.runs.iter().map(|r| r.run_id.clone()));
        token = page.next_page_token;
    }
    assert_eq!(seen, made, "every run once, none twice, in order");

    // A token answers its own request only.
    create_sim_district(&mut client, "other", &sim, &[]).await;
    let page = list_runs(&mut client, DISTRICT, 1, "").await.expect("page");
    let elsewhere = list_runs(&mut client, "other", 1, &page.next_page_token)
        .await
        .expect_err("a token of another district");
    assert_eq!(elsewhere.code(), Code::InvalidArgument);
    assert!(
        elsewhere.message().starts_with("page_token"),
        "{}",
        elsewhere.message()
    );
    for bad in ["garbage", "+5", "2"] {
        let refused = list_runs(&mut client, DISTRICT, 1, bad)
            .await
            .expect_err("not a token this server gave");
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
    }
    let negative = list_runs(&mut client, DISTRICT, -1, "")
        .await
        .expect_err("a negative page size");
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert!(negative.message().starts_with("page_size"));

    // A change-list token is bound to its filter.
    let changes = |entity: &str, token: &str| pb::ListRunChangesRequest {
        district_id: DISTRICT.into(),
        run_id: made[0].clone(),
        entity: entity_value(entity),
        operation: 0,
        page_size: 1,
        page_token: token.into(),
    };
    let students = client
        .list_run_changes(changes("student", ""))
        .await
        .expect("changes")
        .into_inner();
    assert!(!students.next_page_token.is_empty());
    client
        .list_run_changes(changes("student", &students.next_page_token))
        .await
        .expect("the same filter continues");
    let other = client
        .list_run_changes(changes("link", &students.next_page_token))
        .await
        .expect_err("another filter with the token");
    assert_eq!(other.code(), Code::InvalidArgument);
}

async fn a_retried_start_with_one_request_id_gets_the_same_run(backend: Backend) {
    let (_sim, server, mut client) = setup(backend).await;
    let start = |request_id: &str| pb::StartSyncRequest {
        district_id: DISTRICT.into(),
        dry_run: false,
        request_id: request_id.into(),
    };
    let first = client
        .start_sync(start("req-7f3a"))
        .await
        .expect("start")
        .into_inner();
    assert_eq!(first.request_id, "req-7f3a");
    // A retry while it runs, and another after it ended: the same run each time.
    let retry = client
        .start_sync(start("req-7f3a"))
        .await
        .expect("a retry is answered, not refused")
        .into_inner();
    assert_eq!(retry.run_id, first.run_id);
    let done = follow(&mut client, &first.run_id).await;
    ok(&done);
    let late = client
        .start_sync(start("req-7f3a"))
        .await
        .expect("a late retry")
        .into_inner();
    assert_eq!(late.run_id, first.run_id);
    assert_eq!(late.state, pb::RunState::Succeeded as i32);
    let store = server.store().await;
    let runs = store.list_runs(&district(), None, 10).await.expect("runs");
    assert_eq!(runs.len(), 1, "one request, one run");
    // Another request id starts another run.
    let second = client
        .start_sync(start("req-8b21"))
        .await
        .expect("start")
        .into_inner();
    assert_ne!(second.run_id, first.run_id);
    ok(&follow(&mut client, &second.run_id).await);
    // The schedule's request ids are its own: a caller cannot take tonight's run.
    let night = format!("nightly:{}", chrono::Utc::now().date_naive());
    let refused = client
        .start_sync(start(&night))
        .await
        .expect_err("the schedule's request id");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("request_id"), "{refused:?}");
}

/// Reads `n` changes from a WatchChanges stream, within two minutes.
async fn take_changes(stream: &mut tonic::Streaming<pb::Change>, n: usize) -> Vec<pb::Change> {
    use tokio_stream::StreamExt;
    let mut got = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while got.len() < n {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} changes arrived in time", got.len()))
            .expect("the feed stays open");
        got.push(next.expect("a change"));
    }
    got
}

async fn a_change_feed_watcher_that_resumes_from_its_cursor_gets_every_change_once(
    backend: Backend,
) {
    use tokio_stream::StreamExt;
    let (_sim, server, mut client) = setup(backend).await;
    let district: DistrictId = DISTRICT.parse().expect("id");

    // A watcher is there before the run starts, and leaves after its first changes.
    let mut first = client
        .watch_changes(pb::WatchChangesRequest {
            district_id: DISTRICT.into(),
            after: String::new(),
            from_now: false,
        })
        .await
        .expect("watch")
        .into_inner();
    let started = client
        .start_sync(pb::StartSyncRequest {
            district_id: DISTRICT.into(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    let mut received = take_changes(&mut first, 40).await;
    drop(first);

    // It comes back with the last cursor it saw while the run goes on.
    let resume_at = received.last().expect("a change").cursor.clone();
    let mut second = client
        .watch_changes(pb::WatchChangesRequest {
            district_id: DISTRICT.into(),
            after: resume_at,
            from_now: false,
        })
        .await
        .expect("resume")
        .into_inner();
    let run = follow(&mut client, &started.run_id).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    let phases: Vec<i32> = run.phases.iter().map(|p| p.phase).collect();
    assert_eq!(
        phases,
        [
            pb::RunPhase::Pulling as i32,
            pb::RunPhase::Checking as i32,
            pb::RunPhase::Applying as i32,
            pb::RunPhase::Done as i32
        ],
        "the run's phase history"
    );
    let logged = server
        .store()
        .await
        .count_changes(&district)
        .await
        .expect("count") as usize;
    assert!(logged > 40, "the run logged {logged} changes");
    received.extend(take_changes(&mut second, logged - received.len()).await);
    // Nothing more comes: no change twice.
    let extra = tokio::time::timeout(std::time::Duration::from_millis(1500), second.next()).await;
    assert!(extra.is_err(), "an extra change arrived: {extra:?}");

    let cursors: std::collections::HashSet<&str> =
        received.iter().map(|c| c.cursor.as_str()).collect();
    assert_eq!(cursors.len(), logged, "every change exactly once");
    assert!(received.iter().all(|c| matches!(
        &c.made_by,
        Some(pb::change::MadeBy::RunId(id)) if *id == started.run_id
    )));

    // ListChanges pages the same feed, in the same order.
    let mut listed = Vec::new();
    let mut after = String::new();
    loop {
        let page = client
            .list_changes(pb::ListChangesRequest {
                district_id: DISTRICT.into(),
                after: after.clone(),
                page_size: 97,
            })
            .await
            .expect("list")
            .into_inner();
        if page.changes.is_empty() {
            assert_eq!(page.next_cursor, after, "at the end, the cursor stays put");
            break;
        }
        listed.extend(page.changes);
        after = page.next_cursor;
    }
    assert_eq!(listed, received);

    // A cursor is tied to its district.
    let foreign = client
        .list_changes(pb::ListChangesRequest {
            district_id: "elsewhere".into(),
            after: after.clone(),
            page_size: 0,
        })
        .await
        .expect_err("another district's cursor");
    assert_eq!(foreign.code(), Code::InvalidArgument);
}
