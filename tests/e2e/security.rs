//! The district's secret stays secret through a whole day of use: after a full run, a
//! spot sync, a connection test and every read support makes, the secret is in no RPC
//! answer, no log line and no byte the database holds (sealed at rest).

use model::ids::{DistrictId, SourceId};
use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;

use crate::harness::{create_sim_district, run_to_end, Server};

store::on_both_backends!(the_secret_is_in_no_answer_log_or_database_byte);

const DISTRICT: &str = "secretive";

async fn the_secret_is_in_no_answer_log_or_database_byte(backend: Backend) {
    let sim = Simulator::start(SimConfig {
        client_secret: "sis-secret-3c9d1e7a-NEVER-AT-REST".into(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let secret = sim.client_secret().to_owned();
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    create_sim_district(&mut client, DISTRICT, &sim, &[]).await;
    let mut answers: Vec<String> = Vec::new();

    let run = run_to_end(&mut client, DISTRICT, false).await;
    assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:#?}");
    answers.push(format!("{run:?}"));
    let d: DistrictId = DISTRICT.parse().expect("id");
    let store = server.store().await;
    let first = sim.district(|x| x.expected_students()[0].source_id.clone());
    let student = store
        .find_student_by_source(&d, &SourceId::new(first.as_str()))
        .await
        .expect("student");
    macro_rules! answer {
        ($call:expr) => {
            answers.push(format!("{:?}", $call.await.expect("answered").into_inner()))
        };
    }
    answer!(client.spot_sync(pb::SpotSyncRequest {
        district_id: DISTRICT.into(),
        user: Some(pb::spot_sync_request::User::StudentId(
            student.id.to_string()
        )),
        dry_run: false,
        request_id: "once".into(),
    }));
    answer!(client.test_connection(pb::TestConnectionRequest {
        district_id: DISTRICT.into(),
    }));
    answer!(client.get_district(pb::GetDistrictRequest {
        district_id: DISTRICT.into(),
    }));
    answer!(client.list_districts(pb::ListDistrictsRequest::default()));
    answer!(client.list_connectors(pb::ListConnectorsRequest::default()));
    answer!(client.get_sync_run(pb::GetSyncRunRequest {
        district_id: DISTRICT.into(),
        run_id: run.run_id.clone(),
    }));
    answer!(client.list_sync_runs(pb::ListSyncRunsRequest {
        district_id: DISTRICT.into(),
        page_size: 50,
        page_token: String::new(),
    }));
    answer!(client.list_run_changes(pb::ListRunChangesRequest {
        district_id: DISTRICT.into(),
        run_id: run.run_id.clone(),
        entity: 0,
        operation: 0,
        page_size: 1000,
        page_token: String::new(),
    }));
    answer!(client.list_changes(pb::ListChangesRequest {
        district_id: DISTRICT.into(),
        page_size: 1000,
        ..Default::default()
    }));
    answer!(client.get_source_records(pb::GetSourceRecordsRequest {
        district_id: DISTRICT.into(),
        student: Some(pb::get_source_records_request::Student::SourceId(
            first.to_string(),
        )),
    }));
    answer!(client.get_student(pb::GetStudentRequest {
        district_id: DISTRICT.into(),
        student: Some(pb::get_student_request::Student::StudentId(
            student.id.to_string()
        )),
    }));
    answer!(client.list_student_links(pb::ListStudentLinksRequest {
        district_id: DISTRICT.into(),
        student_id: student.id.to_string(),
        ..Default::default()
    }));
    assert!(answers.len() >= 13);
    for a in &answers {
        assert!(!a.contains(&secret), "an answer holds the secret: {a}");
    }
    let log = server.log();
    assert!(log.len() > 10_000, "the debug log was written");
    assert!(!log.contains(&secret), "the log holds the secret");

    // Every byte the database holds.
    let stored = match server.database_file() {
        Some(file) => {
            let dir = file.parent().expect("dir").to_owned();
            std::fs::read_dir(dir)
                .expect("dir")
                .flatten()
                .map(|f| std::fs::read(f.path()).unwrap_or_default())
                .collect::<Vec<_>>()
        }
        None => {
            let url = server.database_url();
            crate::harness::psql(
                &url,
                "select tablename from pg_tables where schemaname = 'public'",
            )
            .iter()
            .map(|t| {
                crate::harness::psql(
                    &url,
                    &format!("select coalesce(string_agg(x::text, '|'), '') from \"{t}\" x"),
                )
                .join("\n")
                .into_bytes()
            })
            .collect()
        }
    };
    assert!(
        stored.iter().map(Vec::len).sum::<usize>() > 10_000,
        "the rows were read"
    );
    let needle = secret.as_bytes();
    for bytes in &stored {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the database holds the secret"
        );
    }
}
