//! Approve and cancel sent at the same instant on a paused run, with a resume pass beside
//! them: exactly one call wins, the other is told the state it found, a cancelled run
//! applies nothing, and an approved plan is applied exactly once. Raced 100 times on each
//! backend.

use std::sync::Arc;
use std::time::Duration;

use connector::{
    roster_stream, CheckReport, Connector, ConnectorError, ConnectorFactory, HttpConfig,
    PullCounts, Registry, RosterEvent, RosterStream, SettingSpec, UserRef, UserSnapshot,
};
use model::district::{ConnectorConfig, District, DistrictSettings};
use model::ids::{DistrictId, RunId, SourceId, StudentId};
use model::roster::{EnrollmentStatus, Gender, Student};
use model::run::{RunMode, RunState, RunTrigger, SyncRun};
use model::source::SourceStudent;
use model::ValidationErrors;
use rostersync_engine::{Engine, EngineError};
use store::testing::TestDatabase;
use store::{Backend, Store, Synced};

/// Students held before each race; the source lists only the first half of them.
const HELD: usize = 10;

fn source_student(i: usize) -> SourceStudent {
    SourceStudent {
        source_id: SourceId::new(format!("{}", 1000 + i)),
        student_number: format!("{}", 2000 + i),
        sis_id: String::new(),
        state_id: String::new(),
        legal_first_name: "Jamie".into(),
        legal_last_name: format!("Doe{i}"),
        middle_name: String::new(),
        birth_date: None,
        gender: Gender::Female,
        school_source_id: Some(SourceId::new("17")),
        grade: "7".into(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: false,
        org_email: String::new(),
        personal_email: String::new(),
        web_id: String::new(),
        email: String::new(),
        home_phone: String::new(),
        mailing_address: None,
        physical_address: None,
    }
}

/// A source that lists half the held students, so every run trips students_archived.
#[derive(Debug)]
struct HalfSource;

#[async_trait::async_trait]
impl Connector for HalfSource {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::PowerSchool
    }

    async fn check(&self) -> CheckReport {
        CheckReport::default()
    }

    fn roster(&self) -> RosterStream {
        roster_stream(2, |sink| async move {
            let students: Vec<_> = (0..HELD / 2).map(source_student).collect();
            let n = students.len() as u64;
            sink.send(RosterEvent::Students(students)).await?;
            sink.send(RosterEvent::Complete(PullCounts {
                students: n,
                ..PullCounts::default()
            }))
            .await?;
            Ok(())
        })
    }

    async fn user(&self, _: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        Ok(None)
    }
}

#[derive(Debug)]
struct HalfFactory;

impl ConnectorFactory for HalfFactory {
    fn kind(&self) -> &'static str {
        "half"
    }
    fn display_name(&self) -> &'static str {
        "Half a roster"
    }
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::PowerSchool
    }
    fn description(&self) -> &'static str {
        "lists half the students the store holds"
    }
    fn settings(&self) -> &'static [SettingSpec] {
        &[]
    }
    fn validate(&self, _: &ConnectorConfig, _: &DistrictSettings) -> Result<(), ValidationErrors> {
        Ok(())
    }
    fn build(
        &self,
        _: &ConnectorConfig,
        _: &HttpConfig,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        Ok(Arc::new(HalfSource))
    }
}

async fn engine_on(backend: Backend) -> (TestDatabase, Engine, DistrictId) {
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(db.url()).await.expect("connect");
    store.migrate().await.expect("migrate");
    let id: DistrictId = "race".parse().expect("id");
    let now = chrono::Utc::now();
    store
        .create_district(&District {
            id: id.clone(),
            name: "Race".into(),
            connector: ConnectorConfig {
                kind: "half".into(),
                ..ConnectorConfig::default()
            },
            settings: DistrictSettings::default(),
            time_zone: chrono_tz::America::Edmonton,
            created_at: now,
            updated_at: now,
            revision: 1,
            created_by: String::new(),
            updated_by: String::new(),
        })
        .await
        .expect("district");
    let registry = Registry::new().register(Arc::new(HalfFactory));
    let engine = Engine::new(store, registry).with_instance("racer", Duration::from_secs(30));
    (db, engine, id)
}

/// Puts every held student back as it was: present and not archived.
async fn reset(engine: &Engine, district: &DistrictId, ids: &[StudentId]) {
    let rows: Vec<Synced<Student>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let s = source_student(i);
            Synced {
                value: Student {
                    id: *id,
                    source_id: s.source_id,
                    student_number: s.student_number,
                    state_id: s.state_id,
                    legal_first_name: s.legal_first_name,
                    legal_last_name: s.legal_last_name,
                    middle_name: s.middle_name,
                    birth_date: s.birth_date,
                    gender: s.gender,
                    school_source_id: s.school_source_id,
                    grade: s.grade,
                    enrollment_status: s.enrollment_status,
                    independent_student: false,
                    org_email: String::new(),
                    personal_email: String::new(),
                    web_id: String::new(),
                    archived: false,
                },
                source_hash: String::new(),
            }
        })
        .collect();
    engine
        .store()
        .upsert_students(district, &rows)
        .await
        .expect("reset students");
}

async fn wait_for(
    engine: &Engine,
    district: &DistrictId,
    id: RunId,
    done: impl Fn(&SyncRun) -> bool,
) -> SyncRun {
    for _ in 0..2_000 {
        let run = engine.runs().get_run(district, id).await.expect("run");
        if done(&run) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("run {id} did not get there in 10 s");
}

async fn approve_and_cancel_race_with_one_winner(backend: Backend) {
    let (_db, engine, district) = engine_on(backend).await;
    let ids: Vec<StudentId> = (0..HELD).map(|_| StudentId::new()).collect();
    let (mut approvals, mut cancels) = (0, 0);
    for round in 0..100 {
        reset(&engine, &district, &ids).await;
        let run = engine
            .runs()
            .start_sync(&district, RunMode::Full, RunTrigger::Manual)
            .await
            .expect("start");
        let paused = wait_for(&engine, &district, run.id, |r| r.state != RunState::Running).await;
        assert_eq!(paused.state, RunState::Paused, "round {round}: {paused:?}");
        let log_before = engine
            .store()
            .count_changes(&district)
            .await
            .expect("count");

        let (a, c) = (engine.clone(), engine.clone());
        let (d1, d2) = (district.clone(), district.clone());
        // Both calls start together, in alternating order; in some rounds the cancel is
        // a few hundred microseconds late, so every interleaving of the two is tried.
        let lag = Duration::from_micros((round as u64 % 4) * 400);
        let (approve, cancel) = if round % 2 == 0 {
            let approve =
                tokio::spawn(async move { a.runs().approve_run(&d1, run.id, Vec::new()).await });
            let cancel = tokio::spawn(async move {
                tokio::time::sleep(lag).await;
                c.runs().cancel_run(&d2, run.id).await
            });
            (approve, cancel)
        } else {
            let cancel = tokio::spawn(async move {
                tokio::time::sleep(lag).await;
                c.runs().cancel_run(&d2, run.id).await
            });
            let approve =
                tokio::spawn(async move { a.runs().approve_run(&d1, run.id, Vec::new()).await });
            (approve, cancel)
        };
        // A resume pass (what every replica's background loop runs) races them too: it
        // must neither work the run twice nor apply a cancelled plan.
        let r = engine.clone();
        let resume = tokio::spawn(async move { r.runs().resume_interrupted().await });
        let (approve, cancel) = (approve.await.expect("task"), cancel.await.expect("task"));
        resume.await.expect("task").expect("resume pass");
        let end = wait_for(&engine, &district, run.id, |r| r.state.is_final()).await;
        let archived = engine
            .store()
            .count_students(&district, true)
            .await
            .expect("count");
        let log_rows = engine
            .store()
            .count_change_log_rows_of_run(&district, run.id)
            .await
            .expect("count");
        match (&approve, &cancel) {
            (Ok(_), Err(EngineError::Precondition { message: why, .. })) => {
                approvals += 1;
                assert!(
                    why.contains("running")
                        || why.contains("approved")
                        || why.contains("succeeded"),
                    "round {round}: the loser names the state it found: {why}"
                );
                assert_eq!(end.state, RunState::Succeeded, "round {round}: {end:?}");
                assert_eq!(archived, (HELD / 2) as u64, "round {round}");
                assert_eq!(end.counts.applied, end.counts.plan_items, "round {round}");
                assert!(log_rows >= (HELD / 2) as u64, "round {round}: {log_rows}");
            }
            (Err(EngineError::Precondition { message: why, .. }), Ok(_)) => {
                cancels += 1;
                assert!(
                    why.contains("cancelled"),
                    "round {round}: the loser names the state it found: {why}"
                );
                assert_eq!(end.state, RunState::Cancelled, "round {round}: {end:?}");
                assert_eq!(
                    archived, 0,
                    "round {round}: a cancelled run applies nothing"
                );
                assert_eq!(
                    log_rows, 0,
                    "round {round}: a cancelled run applies nothing"
                );
                assert_eq!(
                    engine
                        .store()
                        .count_changes(&district)
                        .await
                        .expect("count"),
                    log_before
                );
            }
            other => panic!("round {round}: exactly one call wins, got {other:?}"),
        }
    }
    assert_eq!(approvals + cancels, 100);
    assert!(
        approvals > 0 && cancels > 0,
        "both outcomes are exercised: approve won {approvals}, cancel won {cancels}"
    );
    eprintln!("{backend:?}: approve won {approvals}, cancel won {cancels}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_and_cancel_race_with_one_winner_on_sqlite() {
    approve_and_cancel_race_with_one_winner(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_and_cancel_race_with_one_winner_on_postgres() {
    approve_and_cancel_race_with_one_winner(Backend::Postgres).await;
}
