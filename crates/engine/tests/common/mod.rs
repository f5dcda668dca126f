//! What the engine's run tests share: a generated PowerSchool district replayed by a
//! source that can send it in any order, and an engine on its own database with one
//! district whose source that is.

#![allow(dead_code)] // each test file uses its own part of this

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector::{
    roster_stream, CheckReport, Connector, ConnectorError, ConnectorFactory, HttpConfig,
    PullCounts, Registry, RosterEvent, RosterStream, SettingSpec, UserRef, UserSnapshot,
};
use model::district::{ConnectorConfig, District, DistrictSettings, Limit, Thresholds};
use model::ids::{DistrictId, RunId};
use model::link::{Link, LinkRuleSet};
use model::roster::Contact;
use model::run::{PlanItem, RunMode, RunState, RunTrigger, SyncRun};
use model::source::{GuardianAccount, SourceStudent};
use model::ValidationErrors;
use rostersync_engine::Engine;
use sim::powerschool::{District as SimDistrict, SimConfig};
use store::testing::TestDatabase;
use store::{Backend, Store};

/// The roster a source holds: students, contacts, and accounts with all their students.
#[derive(Debug, Clone)]
pub struct Roster {
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub accounts: Vec<GuardianAccount>,
}

impl Roster {
    pub fn generated(students: usize) -> Self {
        let d = SimDistrict::generate(&SimConfig {
            seed: 7,
            students,
            schools: 4,
            ..SimConfig::default()
        });
        Roster {
            students: d.expected_students(),
            contacts: d.expected_contacts(),
            accounts: d.expected_guardian_accounts(),
        }
    }
}

/// How the source sends its roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Page by page: each page's students, their contacts and the accounts of those
    /// students (listing only them), as PowerSchool does.
    Grouped,
    /// Every contact, then every account, then the students.
    ContactsFirst,
    /// Every student, then the accounts, then the contacts.
    StudentsFirst,
    /// Every record shuffled, in batches of random size; each account sent in pieces,
    /// each piece listing some of its students.
    Shuffled(u64),
}

pub fn events(roster: &Roster, order: Order) -> Vec<RosterEvent> {
    let mut out = Vec::new();
    let chunked = |out: &mut Vec<RosterEvent>, n: usize, what: &str| match what {
        "students" => roster
            .students
            .chunks(n)
            .for_each(|c| out.push(RosterEvent::Students(c.to_vec()))),
        "contacts" => roster
            .contacts
            .chunks(n)
            .for_each(|c| out.push(RosterEvent::Contacts(c.to_vec()))),
        _ => roster
            .accounts
            .chunks(n)
            .for_each(|c| out.push(RosterEvent::GuardianAccounts(c.to_vec()))),
    };
    match order {
        Order::Grouped => {
            for page in roster.students.chunks(25) {
                let ids: BTreeSet<_> = page.iter().map(|s| s.source_id.clone()).collect();
                out.push(RosterEvent::Students(page.to_vec()));
                out.push(RosterEvent::Contacts(
                    roster
                        .contacts
                        .iter()
                        .filter(|c| ids.contains(&c.student_source_id))
                        .cloned()
                        .collect(),
                ));
                out.push(RosterEvent::GuardianAccounts(
                    roster
                        .accounts
                        .iter()
                        .filter_map(|a| {
                            let mine: Vec<_> = a
                                .student_source_ids
                                .iter()
                                .filter(|s| ids.contains(*s))
                                .cloned()
                                .collect();
                            (!mine.is_empty()).then(|| GuardianAccount {
                                student_source_ids: mine,
                                ..a.clone()
                            })
                        })
                        .collect(),
                ));
            }
        }
        Order::ContactsFirst => {
            chunked(&mut out, 50, "contacts");
            chunked(&mut out, 30, "accounts");
            chunked(&mut out, 40, "students");
        }
        Order::StudentsFirst => {
            chunked(&mut out, 40, "students");
            chunked(&mut out, 30, "accounts");
            chunked(&mut out, 50, "contacts");
        }
        Order::Shuffled(seed) => {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut items: Vec<RosterEvent> = Vec::new();
            items.extend(
                roster
                    .students
                    .iter()
                    .map(|s| RosterEvent::Students(vec![s.clone()])),
            );
            items.extend(
                roster
                    .contacts
                    .iter()
                    .map(|c| RosterEvent::Contacts(vec![c.clone()])),
            );
            for a in &roster.accounts {
                let mut students = a.student_source_ids.clone();
                rng.shuffle(&mut students);
                let pieces = rng.usize(1..=students.len().max(1));
                for piece in students.chunks(students.len().div_ceil(pieces).max(1)) {
                    items.push(RosterEvent::GuardianAccounts(vec![GuardianAccount {
                        student_source_ids: piece.to_vec(),
                        ..a.clone()
                    }]));
                }
            }
            rng.shuffle(&mut items);
            // Consecutive records of one kind travel together, up to a random size.
            let mut batch: Option<RosterEvent> = None;
            let mut room = 0;
            for item in items {
                let merged = match (&mut batch, item) {
                    (Some(RosterEvent::Students(b)), RosterEvent::Students(v)) if room > 0 => {
                        b.extend(v);
                        None
                    }
                    (Some(RosterEvent::Contacts(b)), RosterEvent::Contacts(v)) if room > 0 => {
                        b.extend(v);
                        None
                    }
                    (Some(RosterEvent::GuardianAccounts(b)), RosterEvent::GuardianAccounts(v))
                        if room > 0 =>
                    {
                        b.extend(v);
                        None
                    }
                    (_, other) => Some(other),
                };
                match merged {
                    None => room -= 1,
                    Some(next) => {
                        out.extend(batch.take());
                        batch = Some(next);
                        room = rng.usize(0..60);
                    }
                }
            }
            out.extend(batch);
        }
    }
    let mut counts = PullCounts::default();
    for e in &out {
        match e {
            RosterEvent::Students(v) => counts.students += v.len() as u64,
            RosterEvent::Contacts(v) => counts.contacts += v.len() as u64,
            RosterEvent::GuardianAccounts(v) => counts.guardian_accounts += v.len() as u64,
            _ => {}
        }
    }
    out.push(RosterEvent::Complete(counts));
    out
}

/// A source that replays whatever events it was last given — or, as a plugin with a
/// bug would, panics when asked for its roster while `panics` is set.
#[derive(Debug, Default)]
pub struct Replay {
    pub events: Mutex<Vec<RosterEvent>>,
    pub panics: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Connector for Replay {
    fn link_rules(&self) -> model::link::LinkRuleSet {
        model::link::LinkRuleSet::PowerSchool
    }

    async fn check(&self) -> CheckReport {
        CheckReport::default()
    }

    fn roster(&self) -> RosterStream {
        if self.panics.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("the source plugin failed: index 3 out of range");
        }
        let events = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        roster_stream(4, |sink| async move {
            for e in events {
                sink.send(e).await?;
            }
            Ok(())
        })
    }

    /// A student as the roster it replays holds it: the student, its contacts, and the
    /// accounts related to it with all their students.
    async fn user(&self, user: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        let UserRef::Student(id) = user else {
            return Ok(None);
        };
        let events = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut snapshot = UserSnapshot::default();
        let mut accounts: Vec<GuardianAccount> = Vec::new();
        for e in events {
            match e {
                RosterEvent::Students(v) => snapshot
                    .students
                    .extend(v.into_iter().filter(|s| &s.source_id == id)),
                RosterEvent::Contacts(v) => snapshot
                    .contacts
                    .extend(v.into_iter().filter(|c| &c.student_source_id == id)),
                RosterEvent::GuardianAccounts(v) => accounts.extend(v),
                _ => {}
            }
        }
        // An account sent in pieces is one account with all its students.
        let mut whole: Vec<GuardianAccount> = Vec::new();
        for a in accounts {
            match whole.iter_mut().find(|w| w.source_id == a.source_id) {
                Some(w) => w.student_source_ids.extend(a.student_source_ids),
                None => whole.push(a),
            }
        }
        snapshot.guardian_accounts = whole
            .into_iter()
            .filter(|a| a.student_source_ids.contains(id))
            .collect();
        Ok((!snapshot.students.is_empty()).then_some(snapshot))
    }
}

#[derive(Debug)]
pub struct ReplayFactory(pub Arc<Replay>);

impl ConnectorFactory for ReplayFactory {
    fn kind(&self) -> &'static str {
        "replay"
    }
    fn display_name(&self) -> &'static str {
        "Replayed PowerSchool roster"
    }
    fn link_rules(&self) -> LinkRuleSet {
        LinkRuleSet::PowerSchool
    }
    fn description(&self) -> &'static str {
        "sends a generated PowerSchool roster in the order a test chooses"
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
        Ok(self.0.clone())
    }
}

/// An engine on its own database with one district, `test`, whose source is `replay`.
pub struct Bench {
    _db: TestDatabase,
    pub engine: Engine,
    pub source: Arc<Replay>,
    pub district: DistrictId,
}

impl Bench {
    pub async fn new(backend: Backend, settings: DistrictSettings) -> Self {
        let db = TestDatabase::new(backend).await;
        let store = Store::connect(db.url()).await.expect("connect");
        store.migrate().await.expect("migrate");
        let district: DistrictId = "test".parse().expect("id");
        let now = chrono::Utc::now();
        store
            .create_district(&District {
                id: district.clone(),
                name: "Test".into(),
                connector: ConnectorConfig {
                    kind: "replay".into(),
                    ..ConnectorConfig::default()
                },
                settings,
                time_zone: chrono_tz::America::Edmonton,
                created_at: now,
                updated_at: now,
                revision: 1,
                created_by: String::new(),
                updated_by: String::new(),
            })
            .await
            .expect("district");
        let source = Arc::new(Replay::default());
        let registry = Registry::new().register(Arc::new(ReplayFactory(source.clone())));
        let engine = Engine::new(store, registry).with_instance("test", Duration::from_secs(30));
        Bench {
            _db: db,
            engine,
            source,
            district,
        }
    }

    /// Runs the district over `events` and waits for the run to stop.
    pub async fn run(&self, events: Vec<RosterEvent>, mode: RunMode) -> SyncRun {
        *self.source.events.lock().unwrap_or_else(|p| p.into_inner()) = events;
        let run = self
            .engine
            .runs()
            .start_sync(&self.district, mode, RunTrigger::Manual)
            .await
            .expect("start");
        for _ in 0..6_000 {
            let r = self
                .engine
                .runs()
                .get_run(&self.district, run.id)
                .await
                .expect("run");
            if r.state.is_final() || r.state == RunState::Paused {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("run {} did not stop in 60 s", run.id);
    }

    /// The run's plan, with the planning time taken out of links.
    pub async fn plan(&self, run: RunId) -> Vec<(u64, PlanItem)> {
        let mut items = self
            .engine
            .store()
            .read_plan(&self.district, run, None, 1_000_000)
            .await
            .expect("plan");
        for (_, item) in &mut items {
            if let PlanItem::Link { link, .. } = item {
                link.updated_at = chrono::DateTime::UNIX_EPOCH;
            }
        }
        items
    }

    /// Every link we hold, as (student, guardian, origin, tier, rule).
    pub async fn links(&self) -> BTreeSet<(String, String, String, String, String)> {
        let store = self.engine.store();
        let mut out = BTreeSet::new();
        let mut after = None;
        loop {
            let page = store
                .active_students_page(&self.district, after.as_ref(), 500)
                .await
                .expect("students");
            let Some((_, last)) = page.last() else { break };
            after = Some(last.clone());
            let ids: Vec<_> = page.iter().map(|(id, _)| *id).collect();
            for l in store
                .links_of_students(&self.district, &ids)
                .await
                .expect("links")
            {
                out.insert(row(&l));
            }
        }
        out
    }
}

pub fn row(l: &Link) -> (String, String, String, String, String) {
    (
        l.student_id.to_string(),
        l.guardian_id.to_string(),
        l.origin.as_str().to_owned(),
        l.tier.as_str().to_owned(),
        l.decision.rule.to_string(),
    )
}

pub fn lenient() -> DistrictSettings {
    let all = Limit::percent(100.0);
    DistrictSettings {
        thresholds: Thresholds {
            students_archived: all,
            guardians_archived: all,
            links_removed: all,
            links_downgraded: all,
            staff_archived: all,
            classrooms_archived: all,
        },
        ..DistrictSettings::default()
    }
}
