//! A district in memory — what a source sent and what we hold — and a driver that pages
//! it through the planner as the engine's driver pages a store: the planner's suites
//! need no database.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{TimeZone, Utc};
use model::district::DistrictSettings;
use model::ids::{ClassroomId, DistrictId, GuardianId, SchoolId, SourceId, StaffId, StudentId};
use model::link::{AccessTier, Decision, FormAuthorship, Link, LinkOrigin, LinkRuleSet};
use model::roster::{
    AccountStatus, Classroom, Contact, ContactType, Enrollment, EnrollmentRole, EnrollmentStatus,
    Gender, Guardian, Relationship, School, Staff, Student,
};
use model::run::PlanItem;
use model::source::{GuardianAccount, SourceStudent};
use model::staging::{StagedKind, StagedRecord};
use model::Synced;
use planner::guardians::AccountPage;
use planner::page::StudentPage;
use planner::roster::ClassroomPage;
use planner::{Ctx, Mark, Phase, Planned};

pub const PAT: &str = "pat@family.example";

pub fn district() -> DistrictId {
    "d1".parse().expect("a district id")
}

pub fn student(id: &str) -> SourceStudent {
    SourceStudent {
        source_id: SourceId::new(id),
        student_number: format!("20{id}"),
        sis_id: format!("S-{id}"),
        state_id: "123456789".into(),
        legal_first_name: "Jamie".into(),
        legal_last_name: format!("Doe{id}"),
        middle_name: String::new(),
        birth_date: None,
        gender: Gender::Female,
        school_source_id: Some(SourceId::new("17")),
        grade: "7".into(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: false,
        org_email: format!("s{id}@district.example"),
        personal_email: format!("jamie{id}@mail.example"),
        web_id: format!("web{id}"),
        email: String::new(),
        home_phone: String::new(),
        mailing_address: None,
        physical_address: None,
    }
}

/// A contact `person` of `student`, of PowerSchool's shape.
pub fn contact(student: &str, person: &str, email: &str, decision: Option<bool>) -> Contact {
    Contact {
        source_id: SourceId::new(person),
        student_source_id: SourceId::new(student),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        emails: if email.is_empty() {
            vec![]
        } else {
            vec![email.to_owned()]
        },
        relationship: Relationship::Mother,
        contact_type: ContactType::Guardian,
        phones: vec![],
        decision_making: decision,
    }
}

/// A SIS account `id` of contact `person`, with login `email`, seeing `students`.
pub fn account(id: &str, person: &str, email: &str, students: &[&str]) -> GuardianAccount {
    GuardianAccount {
        phones: Vec::new(),
        source_id: SourceId::new(id),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        username: email.into(),
        home_phone: String::new(),
        mobile_phone: String::new(),
        mailing_address: None,
        physical_address: None,
        contact_source_ids: if person.is_empty() {
            vec![]
        } else {
            vec![SourceId::new(person)]
        },
        student_source_ids: students.iter().map(|s| SourceId::new(*s)).collect(),
    }
}

pub fn school(id: &str, name: &str) -> School {
    School {
        id: SchoolId::derived(&district(), &SourceId::new(id)),
        source_id: SourceId::new(id),
        school_number: id.into(),
        name: name.into(),
        archived: false,
    }
}

pub fn staff(id: &str) -> Staff {
    Staff {
        id: StaffId::derived(&district(), &SourceId::new(id)),
        source_id: SourceId::new(id),
        first_name: "Lee".into(),
        last_name: format!("Teacher{id}"),
        email: format!("t{id}@district.example"),
        school_source_ids: vec![SourceId::new("17")],
        permissions: BTreeSet::new(),
        archived: false,
    }
}

pub fn classroom(id: &str) -> Classroom {
    Classroom {
        id: ClassroomId::derived(&district(), &SourceId::new(id)),
        source_id: SourceId::new(id),
        school_source_id: SourceId::new("17"),
        name: format!("Class {id}"),
        archived: false,
    }
}

pub fn enrollment(classroom: &str, person: &str) -> Enrollment {
    Enrollment {
        classroom_source_id: SourceId::new(classroom),
        person_source_id: SourceId::new(person),
        role: EnrollmentRole::Student,
    }
}

/// What a source sent in one pull.
#[derive(Debug, Clone, Default)]
pub struct Pull {
    pub schools: Vec<School>,
    pub staff: Vec<Staff>,
    pub classrooms: Vec<Classroom>,
    pub enrollments: Vec<Enrollment>,
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub accounts: Vec<GuardianAccount>,
    /// Keys of records the pull refused, by kind (they count as present).
    pub refused: Vec<(StagedKind, String, String)>,
}

/// What the district holds.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub schools: Vec<Synced<School>>,
    pub staff: Vec<Synced<Staff>>,
    pub classrooms: Vec<Synced<Classroom>>,
    pub enrollments: Vec<Enrollment>,
    pub students: Vec<Synced<Student>>,
    pub contacts: Vec<Synced<Contact>>,
    pub guardians: Vec<Synced<Guardian>>,
    pub links: Vec<Link>,
    pub form_authors: Vec<FormAuthorship>,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("json")
}

fn staged(kind: StagedKind, key: String, group: String, payload: String) -> StagedRecord {
    planner::staged::record(kind, key, group, payload)
}

/// A held copy of what a pull of `value` writes.
pub fn synced<T: serde::Serialize + Clone>(value: &T) -> Synced<T> {
    Synced {
        value: value.clone(),
        source_hash: planner::bytes_hash(json(value).as_bytes()),
    }
}

/// The student we hold after a sync of `src`.
pub fn held_student(src: &SourceStudent) -> Synced<Student> {
    let settings = DistrictSettings::default();
    let id = StudentId::derived(&district(), &src.source_id);
    Synced {
        value: planner::students::student_from_source(src, id, settings.student_id_source),
        source_hash: planner::staged::student(src).hash,
    }
}

/// The guardian we hold after a sync of `account`.
pub fn held_guardian(account: &GuardianAccount, status: AccountStatus) -> Synced<Guardian> {
    let settings = DistrictSettings::default();
    let mut g =
        planner::guardian_from_account(None, account, &settings, policy::Authority::SystemOfRecord);
    g.id = GuardianId::derived(&district(), &account.source_id);
    g.status = status;
    Synced {
        value: g,
        source_hash: planner::guardians::account_hash(account, &settings),
    }
}

/// A guardian made in our product, with no SIS account.
pub fn local_guardian(email: &str) -> Guardian {
    Guardian {
        id: GuardianId::derived(&district(), &SourceId::new(format!("local:{email}"))),
        source_id: None,
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        home_phone: String::new(),
        mobile_phone: String::new(),
        address: Default::default(),
        status: AccountStatus::Active,
        sis_connected: false,
        archived: false,
    }
}

pub fn link(student: &str, guardian: GuardianId, origin: LinkOrigin, tier: AccessTier) -> Link {
    Link {
        student_id: StudentId::derived(&district(), &SourceId::new(student)),
        guardian_id: guardian,
        origin,
        tier,
        decision: Decision::new("ps.link.full"),
        updated_at: Utc
            .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
            .single()
            .expect("a date"),
    }
}

pub fn gid(source: &str) -> GuardianId {
    GuardianId::derived(&district(), &SourceId::new(source))
}

/// The district: a pull and what is held, the settings and the source's rules.
#[derive(Debug, Clone)]
pub struct World {
    pub pull: Pull,
    pub held: Held,
    pub settings: DistrictSettings,
    pub rules: LinkRuleSet,
    /// Kinds the source would not give.
    pub unavailable: Vec<StagedKind>,
}

impl Default for World {
    fn default() -> Self {
        World {
            pull: Pull::default(),
            held: Held::default(),
            settings: DistrictSettings::default(),
            rules: LinkRuleSet::PowerSchool,
            unavailable: Vec::new(),
        }
    }
}

/// What the planner gave for a world: its items in apply order, and its warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub items: Vec<Planned>,
    pub warnings: Vec<String>,
}

impl World {
    fn staged(&self) -> BTreeMap<StagedKind, Vec<StagedRecord>> {
        let mut out: BTreeMap<StagedKind, Vec<StagedRecord>> = BTreeMap::new();
        let mut put = |r: StagedRecord| out.entry(r.kind).or_default().push(r);
        for s in &self.pull.schools {
            put(staged(
                StagedKind::School,
                s.source_id.to_string(),
                s.source_id.to_string(),
                json(s),
            ));
        }
        for s in &self.pull.staff {
            put(staged(
                StagedKind::Staff,
                s.source_id.to_string(),
                s.source_id.to_string(),
                json(s),
            ));
        }
        for c in &self.pull.classrooms {
            put(staged(
                StagedKind::Classroom,
                c.source_id.to_string(),
                c.source_id.to_string(),
                json(c),
            ));
        }
        for e in &self.pull.enrollments {
            let key = model::staging::compound_key(&[
                e.classroom_source_id.as_str(),
                e.person_source_id.as_str(),
                e.role.as_str(),
            ]);
            put(staged(
                StagedKind::Enrollment,
                key,
                e.classroom_source_id.to_string(),
                json(e),
            ));
        }
        for s in &self.pull.students {
            put(planner::staged::student(s));
        }
        for c in &self.pull.contacts {
            put(planner::staged::contact(c));
        }
        for a in &self.pull.accounts {
            let (account, relations) = planner::staged::account(a);
            put(account);
            relations.into_iter().for_each(&mut put);
        }
        for (kind, key, group) in &self.pull.refused {
            let mut r = staged(*kind, key.clone(), group.clone(), String::new());
            r.rejected = Some("refused".into());
            put(r);
        }
        for v in out.values_mut() {
            v.sort_by(|a, b| a.key.cmp(&b.key));
        }
        out
    }

    /// Plans the world in pages of `page` records, as the engine's driver does.
    pub fn plan(&self, page: usize) -> Outcome {
        self.plan_with(page, |v| v)
    }

    /// Plans with each page's records given to the planner in the order `order` leaves
    /// them.
    pub fn plan_with(
        &self,
        page: usize,
        order: impl Fn(Vec<StagedRecord>) -> Vec<StagedRecord>,
    ) -> Outcome {
        let d = district();
        let ctx = Ctx {
            district: &d,
            settings: &self.settings,
            rules: policy::rules_for(self.rules),
            now: Utc
                .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
                .single()
                .expect("a date"),
        };
        let staged = self.staged();
        let of = |k: StagedKind| staged.get(&k).cloned().unwrap_or_default();
        let mut d = Driver {
            w: self,
            items: Vec::new(),
            warnings: Vec::new(),
            marks: BTreeSet::new(),
            rekeyed: HashSet::new(),
        };
        let roster = ctx.authority().owns_roster();
        if roster {
            d.roster(&ctx, &of, page, &order);
        }
        for chunk in of(StagedKind::Student).chunks(page.max(1)) {
            let facts = d.student_page(&ctx, order(chunk.to_vec()), &staged);
            let plan = planner::plan_student_page(&ctx, &facts, &d.rekeyed);
            d.take(plan);
        }
        if self.settings.manage_guardians || !roster {
            for chunk in of(StagedKind::GuardianAccount).chunks(page.max(1)) {
                d.account_page(&ctx, order(chunk.to_vec()));
            }
            d.marked(&ctx);
        }
        if roster && self.settings.archived_students == model::district::ArchivedStudents::Archive {
            let listed: HashSet<String> =
                of(StagedKind::Student).into_iter().map(|r| r.key).collect();
            let mut absent: Vec<Synced<Student>> = self
                .held
                .students
                .iter()
                .filter(|s| !listed.contains(s.value.source_id.as_str()))
                .cloned()
                .collect();
            absent.sort_by(|a, b| a.value.source_id.cmp(&b.value.source_id));
            for chunk in absent.chunks(page.max(1)) {
                d.items
                    .extend(planner::students::student_archives(chunk, &d.rekeyed));
            }
        }
        let mut items = d.items;
        // Numbered by phase, in the order planned within a phase (a stable sort).
        items.sort_by_key(|p| p.phase);
        Outcome {
            items,
            warnings: d.warnings,
        }
    }
}

struct Driver<'a> {
    w: &'a World,
    items: Vec<Planned>,
    warnings: Vec<String>,
    marks: BTreeSet<Mark>,
    rekeyed: HashSet<StudentId>,
}

fn by_source<T: Clone>(
    held: &[Synced<T>],
    source: impl Fn(&T) -> &SourceId,
) -> HashMap<SourceId, Synced<T>> {
    held.iter()
        .map(|h| (source(&h.value).clone(), h.clone()))
        .collect()
}

impl Driver<'_> {
    fn take(&mut self, plan: planner::PagePlan) {
        self.items.extend(plan.items);
        self.warnings.extend(plan.warnings);
        self.marks.extend(plan.marks);
        self.rekeyed.extend(plan.rekeyed);
    }

    fn roster(
        &mut self,
        ctx: &Ctx<'_>,
        of: &dyn Fn(StagedKind) -> Vec<StagedRecord>,
        page: usize,
        order: &dyn Fn(Vec<StagedRecord>) -> Vec<StagedRecord>,
    ) {
        let held = &self.w.held;
        let schools = by_source(&held.schools, |s| &s.source_id);
        for chunk in of(StagedKind::School).chunks(page.max(1)) {
            self.items.extend(planner::roster::school_items(
                ctx,
                &order(chunk.to_vec()),
                &schools,
            ));
        }
        let unavailable = |k| self.w.unavailable.contains(&k);
        let staff = by_source(&held.staff, |s| &s.source_id);
        let classrooms = by_source(&held.classrooms, |c| &c.source_id);
        if !unavailable(StagedKind::Staff) {
            for chunk in of(StagedKind::Staff).chunks(page.max(1)) {
                self.items.extend(planner::roster::staff_items(
                    ctx,
                    &order(chunk.to_vec()),
                    &staff,
                ));
            }
        }
        let enrollments = of(StagedKind::Enrollment);
        if !unavailable(StagedKind::Classroom) {
            for chunk in of(StagedKind::Classroom).chunks(page.max(1)) {
                let keys: HashSet<&str> = chunk.iter().map(|r| r.key.as_str()).collect();
                let staged: Vec<StagedRecord> = enrollments
                    .iter()
                    .filter(|e| keys.contains(e.group.as_str()))
                    .cloned()
                    .collect();
                let held_e: Vec<Enrollment> = held
                    .enrollments
                    .iter()
                    .filter(|e| keys.contains(e.classroom_source_id.as_str()))
                    .cloned()
                    .collect();
                let with = !unavailable(StagedKind::Enrollment);
                let facts = ClassroomPage {
                    records: &order(chunk.to_vec()),
                    held: &classrooms,
                    enrollments: with.then_some((staged.as_slice(), held_e.as_slice())),
                };
                self.items
                    .extend(planner::roster::classroom_items(ctx, &facts));
            }
        }
        let count = |k: StagedKind| of(k).len() as u64;
        if !unavailable(StagedKind::Staff) {
            let listed = count(StagedKind::Staff);
            self.warnings.extend(planner::roster::none_listed_warning(
                "staff",
                listed,
                held.staff.iter().filter(|s| !s.value.archived).count() as u64,
            ));
            if listed > 0 {
                let keys: HashSet<String> =
                    of(StagedKind::Staff).into_iter().map(|r| r.key).collect();
                let absent: Vec<Synced<Staff>> = held
                    .staff
                    .iter()
                    .filter(|s| !keys.contains(s.value.source_id.as_str()) && !s.value.archived)
                    .cloned()
                    .collect();
                self.items.extend(planner::roster::staff_archives(&absent));
            }
        }
        if !unavailable(StagedKind::Classroom) {
            let listed = count(StagedKind::Classroom);
            self.warnings.extend(planner::roster::none_listed_warning(
                "classrooms",
                listed,
                held.classrooms.iter().filter(|s| !s.value.archived).count() as u64,
            ));
            if listed > 0 {
                let keys: HashSet<String> = of(StagedKind::Classroom)
                    .into_iter()
                    .map(|r| r.key)
                    .collect();
                let absent: Vec<Synced<Classroom>> = held
                    .classrooms
                    .iter()
                    .filter(|s| !keys.contains(s.value.source_id.as_str()) && !s.value.archived)
                    .cloned()
                    .collect();
                self.items
                    .extend(planner::roster::classroom_archives(&absent));
            }
        }
    }

    fn student_page(
        &self,
        ctx: &Ctx<'_>,
        students: Vec<StagedRecord>,
        staged: &BTreeMap<StagedKind, Vec<StagedRecord>>,
    ) -> StudentPage {
        let held = &self.w.held;
        let keys: HashSet<String> = students.iter().map(|r| r.key.clone()).collect();
        let of = |k: StagedKind| staged.get(&k).cloned().unwrap_or_default();
        let in_page = |k: StagedKind| -> Vec<StagedRecord> {
            of(k)
                .into_iter()
                .filter(|r| keys.contains(&r.group))
                .collect()
        };
        let parsed = planner::usable::<SourceStudent>(&students);
        let sources: HashSet<SourceId> = parsed.iter().map(|(s, _)| s.source_id.clone()).collect();
        let held_students: HashMap<SourceId, Synced<Student>> = held
            .students
            .iter()
            .filter(|s| sources.contains(&s.value.source_id))
            .map(|s| (s.value.source_id.clone(), s.clone()))
            .collect();
        let numbers: HashSet<String> = planner::students::rekey_numbers(
            &parsed,
            &held_students,
            ctx.settings.student_id_source,
        )
        .into_iter()
        .collect();
        let rekey_candidates: Vec<Synced<Student>> = held
            .students
            .iter()
            .filter(|s| numbers.contains(&s.value.student_number))
            .cloned()
            .collect();
        let all_students: HashSet<String> =
            of(StagedKind::Student).into_iter().map(|r| r.key).collect();
        let students_listed = rekey_candidates
            .iter()
            .map(|c| c.value.source_id.to_string())
            .filter(|k| all_students.contains(k))
            .collect();
        let relations = in_page(StagedKind::AccountStudent);
        let account_keys: HashSet<String> = planner::page::account_keys(&relations)
            .into_iter()
            .collect();
        let accounts: Vec<StagedRecord> = of(StagedKind::GuardianAccount)
            .into_iter()
            .filter(|r| account_keys.contains(&r.key))
            .collect();
        let held_guardians: HashMap<SourceId, Synced<Guardian>> = held
            .guardians
            .iter()
            .filter_map(|g| {
                let s = g.value.source_id.clone()?;
                account_keys.contains(s.as_str()).then(|| (s, g.clone()))
            })
            .collect();
        let ids: HashSet<StudentId> =
            planner::page::link_students(&held_students, &rekey_candidates)
                .into_iter()
                .collect();
        let held_links: Vec<Link> = held
            .links
            .iter()
            .filter(|l| ids.contains(&l.student_id))
            .cloned()
            .collect();
        let linked: HashSet<GuardianId> = planner::page::linked_guardian_ids(&held_links)
            .into_iter()
            .collect();
        let linked_guardians: HashMap<GuardianId, Guardian> = held
            .guardians
            .iter()
            .filter(|g| linked.contains(&g.value.id))
            .map(|g| (g.value.id, g.value.clone()))
            .collect();
        let all_accounts: HashSet<String> = of(StagedKind::GuardianAccount)
            .into_iter()
            .map(|r| r.key)
            .collect();
        let accounts_listed = planner::page::linked_account_keys(&linked_guardians)
            .into_iter()
            .filter(|k| all_accounts.contains(k))
            .collect();
        StudentPage {
            contacts: in_page(StagedKind::Contact),
            relations,
            accounts,
            held_students,
            rekey_candidates,
            students_listed,
            accounts_listed,
            held_contacts: held
                .contacts
                .iter()
                .filter(|c| sources.contains(&c.value.student_source_id))
                .cloned()
                .collect(),
            held_guardians,
            held_links,
            linked_guardians,
            form_authors: held
                .form_authors
                .iter()
                .filter(|f| ids.contains(&f.student_id))
                .copied()
                .collect(),
            students,
        }
    }

    fn links_now(&self) -> BTreeMap<GuardianId, u64> {
        let mut n = BTreeMap::new();
        for l in &self.w.held.links {
            *n.entry(l.guardian_id).or_insert(0) += 1;
        }
        n
    }

    fn account_page(&mut self, ctx: &Ctx<'_>, records: Vec<StagedRecord>) {
        let held = &self.w.held;
        let accounts = planner::usable::<GuardianAccount>(&records);
        let sources: HashSet<SourceId> =
            accounts.iter().map(|(a, _)| a.source_id.clone()).collect();
        let held_by: HashMap<SourceId, Synced<Guardian>> = held
            .guardians
            .iter()
            .filter_map(|g| {
                let s = g.value.source_id.clone()?;
                sources.contains(&s).then(|| (s, g.clone()))
            })
            .collect();
        let groups: HashSet<String> = planner::guardians::account_page_groups(&accounts, &held_by)
            .into_iter()
            .collect();
        let of_groups = |groups: &HashSet<String>| -> Vec<Mark> {
            self.marks
                .iter()
                .filter(|m| groups.contains(&m.staged().group))
                .cloned()
                .collect()
        };
        let mut marks = of_groups(&groups);
        let takers = planner::guardians::takers(&marks, &held_by);
        let taker_ids: HashSet<GuardianId> = takers.values().flatten().copied().collect();
        let taken: HashMap<GuardianId, Synced<Guardian>> = held
            .guardians
            .iter()
            .filter(|g| taker_ids.contains(&g.value.id))
            .map(|g| (g.value.id, g.clone()))
            .collect();
        let taker_groups: HashSet<String> = taker_ids
            .iter()
            .map(|g| planner::marks::guardian_group(*g))
            .collect();
        marks.extend(of_groups(&taker_groups));
        let links_now = self.links_now();
        let page = AccountPage {
            records: &records,
            held: &held_by,
            marks: &marks,
            taken: &taken,
            links_now: &links_now,
        };
        let plan = planner::guardians::plan_account_page(ctx, &page);
        self.take(plan);
    }

    fn marked(&mut self, ctx: &Ctx<'_>) {
        let records: Vec<StagedRecord> = self
            .marks
            .iter()
            .filter(|m| m.guardian().is_some())
            .map(Mark::staged)
            .collect();
        let marked = planner::guardians::marked_guardians(&records);
        let held: HashMap<GuardianId, Synced<Guardian>> = self
            .w
            .held
            .guardians
            .iter()
            .map(|g| (g.value.id, g.clone()))
            .collect();
        let items =
            planner::guardians::plan_marked_guardians(ctx, &marked, &held, &self.links_now());
        self.items.extend(items);
    }
}

/// Names for ids, to print plans in the words of the cases.
pub fn names(w: &World) -> HashMap<String, String> {
    let d = district();
    let mut n = HashMap::new();
    for s in w
        .pull
        .students
        .iter()
        .map(|s| s.source_id.clone())
        .chain(w.held.students.iter().map(|s| s.value.source_id.clone()))
    {
        n.insert(StudentId::derived(&d, &s).to_string(), s.to_string());
    }
    for s in &w.held.students {
        n.insert(s.value.id.to_string(), s.value.source_id.to_string());
    }
    for a in &w.pull.accounts {
        n.insert(
            gid(a.source_id.as_str()).to_string(),
            a.source_id.to_string(),
        );
    }
    for g in &w.held.guardians {
        let name = g
            .value
            .source_id
            .as_ref()
            .map_or_else(|| format!("local {}", g.value.email), |s| s.to_string());
        n.insert(g.value.id.to_string(), name);
    }
    n
}

/// One plan item in a line: entity, operation, the record in source ids, and what it
/// changes (the fields of an update; a link's tier, origin and rule).
pub fn line(item: &PlanItem, names: &HashMap<String, String>) -> String {
    let name = |id: String| names.get(&id).cloned().unwrap_or(id);
    let op = item.operation().as_str();
    let fields = |changes: &[model::change::FieldChange]| {
        changes
            .iter()
            .map(|c| c.field.as_str())
            .filter(|f| *f != "archived")
            .collect::<Vec<_>>()
            .join(",")
    };
    match item {
        PlanItem::School {
            school, changes, ..
        } => {
            format!("school.{op} {} [{}]", school.source_id, fields(changes))
        }
        PlanItem::Staff { staff, changes, .. } => {
            format!("staff.{op} {} [{}]", staff.source_id, fields(changes))
        }
        PlanItem::Classroom {
            classroom, changes, ..
        } => format!(
            "classroom.{op} {} [{}]",
            classroom.source_id,
            fields(changes)
        ),
        PlanItem::Enrollment { enrollment, .. } => format!(
            "enrollment.{op} {}/{}",
            enrollment.classroom_source_id, enrollment.person_source_id
        ),
        PlanItem::Student {
            student, changes, ..
        } => match item.operation() {
            model::change::Operation::Update => {
                format!("student.{op} {} [{}]", student.source_id, fields(changes))
            }
            _ => format!("student.{op} {}", student.source_id),
        },
        PlanItem::Contact {
            contact, changes, ..
        } => match item.operation() {
            model::change::Operation::Update => format!(
                "contact.{op} {}/{} [{}]",
                contact.student_source_id,
                contact.source_id,
                fields(changes)
            ),
            _ => format!(
                "contact.{op} {}/{}",
                contact.student_source_id, contact.source_id
            ),
        },
        PlanItem::Guardian {
            guardian, changes, ..
        } => match item.operation() {
            model::change::Operation::Create => format!(
                "guardian.create {} {}",
                name(guardian.id.to_string()),
                if guardian.sis_connected {
                    "sis"
                } else {
                    "not-sis"
                }
            ),
            _ => format!(
                "guardian.{op} {} [{}]",
                name(guardian.id.to_string()),
                fields(changes)
            ),
        },
        PlanItem::Link { link, .. } => format!(
            "link.{op} {}>{} {} {} {}",
            name(link.student_id.to_string()),
            name(link.guardian_id.to_string()),
            link.tier.as_str(),
            link.origin.as_str(),
            link.decision.rule
        ),
    }
}

/// The plan of a world in lines, in apply order.
pub fn lines(w: &World, o: &Outcome) -> Vec<String> {
    let names = names(w);
    o.items.iter().map(|p| line(&p.item, &names)).collect()
}

/// Phase of a line's item, for a reader.
pub fn phase_of(p: &Planned) -> Phase {
    p.phase
}
