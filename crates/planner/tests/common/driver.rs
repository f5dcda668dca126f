//! The in-memory driver: a world paged through the planner as the engine pages a store.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{TimeZone, Utc};
use model::ids::{GuardianId, SourceId, StudentId};
use model::link::Link;
use model::roster::{Classroom, Enrollment, Guardian, Staff, Student};
use model::source::{GuardianAccount, SourceStudent};
use model::staging::{StagedKind, StagedRecord};
use model::Synced;
use planner::guardians::AccountPage;
use planner::page::StudentPage;
use planner::roster::ClassroomPage;
use planner::{Ctx, Mark, Planned};

use super::{district, json, staged, Outcome, World};

impl World {
    /// What the world's pages are planned with, at a fixed time.
    pub fn ctx<'a>(&'a self, district: &'a model::ids::DistrictId) -> Ctx<'a> {
        Ctx {
            district,
            settings: &self.settings,
            rules: policy::rules_for(self.rules),
            now: Utc
                .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
                .single()
                .expect("a date"),
        }
    }

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
        let ctx = self.ctx(&d);
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
        let groups: HashSet<String> = planner::guardians::account_page_groups(
            &sources.iter().cloned().collect::<Vec<_>>(),
            &held_by,
        )
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
