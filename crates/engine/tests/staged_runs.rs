//! Runs planned from a staged pull, against a generated PowerSchool district replayed by a
//! source that can send it in any order:
//! - the same roster in four orders gives identical plans, links and tiers;
//! - with `manage_guardians` off, a run plans no guardian or link change;
//! - a few malformed records are refused one by one with a warning each, and a pull with
//!   more than the allowed share fails naming it.

use std::collections::{BTreeMap, BTreeSet};
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
struct Roster {
    students: Vec<SourceStudent>,
    contacts: Vec<Contact>,
    accounts: Vec<GuardianAccount>,
}

impl Roster {
    fn generated(students: usize) -> Self {
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
enum Order {
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

fn events(roster: &Roster, order: Order) -> Vec<RosterEvent> {
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

/// A source that replays whatever events it was last given.
#[derive(Debug, Default)]
struct Replay {
    events: Mutex<Vec<RosterEvent>>,
}

#[async_trait::async_trait]
impl Connector for Replay {
    async fn check(&self) -> CheckReport {
        CheckReport::default()
    }

    fn roster(&self) -> RosterStream {
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

    async fn user(&self, _: &UserRef) -> Result<Option<UserSnapshot>, ConnectorError> {
        Ok(None)
    }
}

#[derive(Debug)]
struct ReplayFactory(Arc<Replay>);

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
struct Bench {
    _db: TestDatabase,
    engine: Engine,
    source: Arc<Replay>,
    district: DistrictId,
}

impl Bench {
    async fn new(backend: Backend, settings: DistrictSettings) -> Self {
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
    async fn run(&self, events: Vec<RosterEvent>, mode: RunMode) -> SyncRun {
        *self.source.events.lock().unwrap_or_else(|p| p.into_inner()) = events;
        let run = self
            .engine
            .start_sync(&self.district, mode, RunTrigger::Manual)
            .await
            .expect("start");
        for _ in 0..6_000 {
            let r = self
                .engine
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
    async fn plan(&self, run: RunId) -> Vec<(u64, PlanItem)> {
        let mut items = self
            .engine
            .store()
            .list_plan(&self.district, run, None, None, None, 1_000_000)
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
    async fn links(&self) -> BTreeSet<(String, String, String, String, String)> {
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

fn row(l: &Link) -> (String, String, String, String, String) {
    (
        l.student_id.to_string(),
        l.guardian_id.to_string(),
        l.origin.as_str().to_owned(),
        l.tier.as_str().to_owned(),
        l.decision.rule.to_string(),
    )
}

fn lenient() -> DistrictSettings {
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

/// What changes at the source between two nights: students leave, accounts close, e-mails
/// move, a contact stops being decision-making, contacts are removed.
fn next_night(roster: &Roster) -> Roster {
    let mut next = roster.clone();
    let leaving: BTreeSet<_> = next
        .students
        .iter()
        .take(6)
        .map(|s| s.source_id.clone())
        .collect();
    next.students.retain(|s| !leaving.contains(&s.source_id));
    next.contacts
        .retain(|c| !leaving.contains(&c.student_source_id));
    next.accounts.drain(..3);
    for a in &mut next.accounts {
        a.student_source_ids.retain(|s| !leaving.contains(s));
    }
    next.accounts.retain(|a| !a.student_source_ids.is_empty());
    for a in next.accounts.iter_mut().take(5) {
        a.mobile_phone = "403-555-0199".into();
    }
    for (i, c) in next.contacts.iter_mut().enumerate().take(40) {
        match i % 3 {
            0 => c.emails = vec![format!("moved{i}@example.org")],
            1 => c.decision_making = Some(false),
            _ => c.phones.clear(),
        }
    }
    // Two contacts of students who stay are gone.
    next.contacts.drain(45..47);
    next
}

const ORDERS: [Order; 4] = [
    Order::Grouped,
    Order::ContactsFirst,
    Order::StudentsFirst,
    Order::Shuffled(11),
];

async fn the_same_roster_in_four_orders_plans_the_same(backend: Backend) {
    let night1 = Roster::generated(180);
    let night2 = next_night(&night1);
    let mut plans: Vec<(Order, Vec<(u64, PlanItem)>)> = Vec::new();
    let mut links: Vec<(Order, BTreeSet<_>)> = Vec::new();
    for order in ORDERS {
        let bench = Bench::new(backend, lenient()).await;
        // The first night, always sent the same way: every store starts alike.
        let first = bench
            .run(events(&night1, Order::Grouped), RunMode::Full)
            .await;
        assert_eq!(first.state, RunState::Succeeded, "{order:?}: {first:?}");
        // The second night in this order: planned dry, then applied.
        let dry = bench.run(events(&night2, order), RunMode::DryRun).await;
        assert_eq!(dry.state, RunState::Succeeded, "{order:?}: {dry:?}");
        let full = bench.run(events(&night2, order), RunMode::Full).await;
        assert_eq!(full.state, RunState::Succeeded, "{order:?}: {full:?}");
        let plan = bench.plan(full.id).await;
        assert_eq!(
            bench.plan(dry.id).await,
            plan,
            "{order:?}: a dry run plans what a run does"
        );
        plans.push((order, plan));
        links.push((order, bench.links().await));
    }
    let (first_order, first_plan) = &plans[0];
    let kinds: BTreeMap<String, usize> =
        first_plan.iter().fold(BTreeMap::new(), |mut m, (_, i)| {
            *m.entry(format!(
                "{}.{}",
                i.entity().as_str(),
                i.operation().as_str()
            ))
            .or_default() += 1;
            m
        });
    // The second night changes something of every kind the test is about.
    for kind in [
        "student.archive",
        "link.delete",
        "link.update",
        "guardian.update",
        "guardian.archive",
        "contact.update",
        "contact.delete",
    ] {
        assert!(kinds.contains_key(kind), "{kind} missing from {kinds:?}");
    }
    for (order, plan) in &plans[1..] {
        assert_eq!(
            plan.len(),
            first_plan.len(),
            "{order:?} planned {} items, {first_order:?} {}",
            plan.len(),
            first_plan.len()
        );
        for (a, b) in first_plan.iter().zip(plan) {
            assert_eq!(a, b, "{order:?} differs from {first_order:?}");
        }
    }
    let (_, first_links) = &links[0];
    assert!(first_links.len() > 50, "links: {}", first_links.len());
    for (order, l) in &links[1..] {
        assert_eq!(l, first_links, "{order:?}: links and tiers differ");
    }
}

async fn with_guardians_not_managed_a_run_plans_no_guardian_or_link(backend: Backend) {
    let night1 = Roster::generated(120);
    let bench = Bench::new(backend, lenient()).await;
    let first = bench
        .run(events(&night1, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");
    let links_before = bench.links().await;
    assert!(!links_before.is_empty());

    let mut settings = lenient();
    settings.manage_guardians = false;
    let mut d = bench
        .engine
        .store()
        .get_district(&bench.district)
        .await
        .expect("district");
    d.settings = settings;
    bench
        .engine
        .store()
        .update_district(&d)
        .await
        .expect("update");

    // The source changes guardians and links; none of it is planned.
    let night2 = next_night(&night1);
    let run = bench
        .run(events(&night2, Order::Shuffled(3)), RunMode::Full)
        .await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    let plan = bench.plan(run.id).await;
    assert!(
        plan.iter()
            .all(|(_, i)| matches!(i, PlanItem::Student { .. })),
        "only students are planned: {:?}",
        run.counts.planned
    );
    assert!(run.counts.planned.contains_key("student.archive"));
    // The links of the students still active are exactly as they were: none added,
    // removed or re-tiered.
    let still: BTreeSet<_> = bench.links().await;
    assert!(!still.is_empty());
    assert!(still.iter().all(|l| links_before.contains(l)));
}

/// A copy of `s` no sync should accept.
fn malformed(s: &SourceStudent, i: usize) -> SourceStudent {
    let mut bad = s.clone();
    match i % 3 {
        0 => bad.birth_date = chrono::NaiveDate::from_ymd_opt(3000, 1, 1),
        1 => {
            bad.legal_first_name = String::new();
            bad.legal_last_name = " ".into();
        }
        _ => bad.middle_name = "x".repeat(1_048_576),
    }
    bad
}

async fn malformed_records_are_refused_one_by_one_until_too_many(backend: Backend) {
    let roster = Roster::generated(400);
    let bench = Bench::new(backend, lenient()).await;
    let first = bench
        .run(events(&roster, Order::Grouped), RunMode::Full)
        .await;
    assert_eq!(first.state, RunState::Succeeded, "{first:?}");

    // Three malformed students out of 360 or so (under the default 1 %):
    // refused with a warning each, kept as they were, never archived.
    let mut few = roster.clone();
    let n = few.students.len();
    let picked: Vec<usize> = vec![3, 50, 101];
    for &i in &picked {
        few.students[i] = malformed(&few.students[i], i);
    }
    let run = bench
        .run(events(&few, Order::StudentsFirst), RunMode::Full)
        .await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    for &i in &picked {
        let id = few.students[i].source_id.as_str();
        assert!(
            run.warnings
                .iter()
                .any(|w| w.contains("refused student") && w.contains(id)),
            "a warning names student {id}: {:?}",
            run.warnings
        );
        let held = bench
            .engine
            .store()
            .find_student_by_source(&bench.district, &few.students[i].source_id)
            .await
            .expect("still held");
        assert!(!held.archived, "a refused student is not archived");
    }
    assert!(
        !run.counts.planned.contains_key("student.archive"),
        "{:?}",
        run.counts.planned
    );

    // Five per cent malformed: the run fails, naming the share, and writes nothing.
    let mut many = roster.clone();
    let bad = n.div_ceil(20);
    for i in 0..bad {
        many.students[i * 7 % n] = malformed(&many.students[i * 7 % n], i);
    }
    let changes_before = bench
        .engine
        .store()
        .count_changes(&bench.district)
        .await
        .expect("count");
    let failed = bench
        .run(events(&many, Order::Shuffled(5)), RunMode::Full)
        .await;
    assert_eq!(failed.state, RunState::Failed, "{failed:?}");
    let why = failed.error.clone().unwrap_or_default();
    assert!(
        why.contains("students") && why.contains("% allowed"),
        "the reason names the kind and the share: {why}"
    );
    assert_eq!(
        bench
            .engine
            .store()
            .count_changes(&bench.district)
            .await
            .expect("count"),
        changes_before
    );
}

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(store::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(store::Backend::Postgres).await;
                }
            )+
        }
    };
}

on_both_backends!(
    the_same_roster_in_four_orders_plans_the_same,
    with_guardians_not_managed_a_run_plans_no_guardian_or_link,
    malformed_records_are_refused_one_by_one_until_too_many,
);
