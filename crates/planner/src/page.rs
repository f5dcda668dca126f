//! One page of students: each student's own change, its contacts, and its links through
//! the source's rules and reconciliation against the links and guardians the district
//! holds — the same for a run's page, a spot sync's page of one, and a guardians.csv
//! file's page.
//!
//! The driver fills a [`StudentPage`] in bulk, one read per kind, using the key helpers
//! here ([`students::rekey_numbers`], [`account_keys`],
//! [`link_students`], [`linked_account_keys`]) to know what to read.

use std::collections::{BTreeSet, HashMap, HashSet};

use model::ids::{GuardianId, SourceId, StudentId};
use model::link::{FormAuthorship, Link};
use model::roster::{Contact, Guardian, Student};
use model::run::PlanItem;
use model::source::{GuardianAccount, SourceStudent};
use model::staging::StagedRecord;
use model::Synced;
use policy::reconcile::KnownGuardian;

use crate::links::{plan_student_links, StudentLinks};
use crate::marks::Mark;
use crate::students::{self, RekeyFacts};
use crate::{parse, roster, usable, Ctx, PagePlan, Planned};

/// Everything one page of students is planned from. Held records may be a superset of
/// what the page touches: the planner looks up what it needs.
#[derive(Debug, Clone, Default)]
pub struct StudentPage {
    /// The staged students of the page.
    pub students: Vec<StagedRecord>,
    /// Their staged contacts (grouped by student key).
    pub contacts: Vec<StagedRecord>,
    /// Their staged relationships to SIS accounts (grouped by student key; the payload is
    /// the account key and the student key).
    pub relations: Vec<StagedRecord>,
    /// The staged SIS accounts the relationships name.
    pub accounts: Vec<StagedRecord>,
    /// The students we hold of the page, by source id.
    pub held_students: HashMap<SourceId, Synced<Student>>,
    /// Held students whose number an unheld student of the page shows (re-key candidates).
    pub rekey_candidates: Vec<Synced<Student>>,
    /// The re-key candidates' source ids this pull still lists.
    pub students_listed: HashSet<String>,
    /// The linked guardians' account ids this pull still lists.
    pub accounts_listed: HashSet<String>,
    /// The source contacts we hold of the page's students.
    pub held_contacts: Vec<Synced<Contact>>,
    /// The guardians we hold of the page's accounts, by source id.
    pub held_guardians: HashMap<SourceId, Synced<Guardian>>,
    /// The links we hold of the page's students.
    pub held_links: Vec<Link>,
    /// The guardians of those links.
    pub linked_guardians: HashMap<GuardianId, Guardian>,
    /// Who created a form for the page's students.
    pub form_authors: Vec<FormAuthorship>,
}

/// The page's students as the source sent them, usable ones only, in key order.
pub fn page_students(page: &StudentPage) -> Vec<(SourceStudent, String)> {
    usable(&page.students)
}

/// The keys of the SIS accounts a page's relationships name.
pub fn account_keys(relations: &[StagedRecord]) -> Vec<String> {
    relations
        .iter()
        .filter_map(parse::<(String, String)>)
        .map(|(account, _)| account)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every student of ours a page may plan links for: the held ones and the re-key
/// candidates.
pub fn link_students(
    held: &HashMap<SourceId, Synced<Student>>,
    candidates: &[Synced<Student>],
) -> Vec<StudentId> {
    held.values()
        .chain(candidates)
        .map(|s| s.value.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The guardians of held links, whose records the driver reads.
pub fn linked_guardian_ids(links: &[Link]) -> Vec<GuardianId> {
    links
        .iter()
        .map(|l| l.guardian_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The account keys of linked guardians: whether the pull still lists them decides a
/// guardian's re-key.
pub fn linked_account_keys(guardians: &HashMap<GuardianId, Guardian>) -> Vec<String> {
    guardians
        .values()
        .filter_map(|g| g.source_id.as_ref().map(|s| s.as_str().to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Plans one page of students. `rekeyed` are the students earlier pages re-keyed.
pub fn plan_student_page(
    ctx: &Ctx<'_>,
    page: &StudentPage,
    rekeyed: &HashSet<StudentId>,
) -> PagePlan {
    let mut out = PagePlan::default();
    let students = page_students(page);
    let mut held = page.held_students.clone();
    let mut ids: HashMap<SourceId, StudentId> = HashMap::new();
    if !ctx.authority().owns_roster() {
        // A supplement names students we hold; it never changes them.
        for (src, _) in &students {
            if let Some(h) = held.get(&src.source_id) {
                ids.insert(src.source_id.clone(), h.value.id);
            }
        }
        page_links(ctx, page, &students, &ids, &mut out);
        return out;
    }
    let facts = RekeyFacts {
        candidates: &page.rekey_candidates,
        listed: &page.students_listed,
        rekeyed,
    };
    let choice = ctx.settings.student_id_source;
    let (newly, warnings) = students::rekey_students(&students, &mut held, choice, &facts);
    out.rekeyed = newly;
    out.warnings.extend(warnings);
    for (src, hash) in &students {
        let (id, item) =
            students::student_item(ctx.district, choice, src, hash, held.get(&src.source_id));
        ids.insert(src.source_id.clone(), id);
        if let Some(item) = item {
            out.items
                .push(Planned::at_school(item, src.school_source_id.as_ref()));
        }
    }
    if ctx.settings.manage_guardians {
        page_links(ctx, page, &students, &ids, &mut out);
    }
    out
}

/// Staged contacts with their content hashes, by student key.
type ContactsByStudent = HashMap<String, Vec<(Contact, String)>>;

/// The page's staged contacts with their hashes by student key, and the students with a
/// refused contact.
fn staged_contacts(page: &StudentPage) -> (ContactsByStudent, HashSet<String>) {
    let mut rows: Vec<&StagedRecord> = page.contacts.iter().collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut unsure = HashSet::new();
    let mut hashed: HashMap<String, Vec<(Contact, String)>> = HashMap::new();
    for r in rows {
        match parse::<Contact>(r) {
            Some(c) => hashed
                .entry(r.group.clone())
                .or_default()
                .push((c, r.hash.clone())),
            None => {
                unsure.insert(r.group.clone());
            }
        }
    }
    (hashed, unsure)
}

/// The SIS accounts related to each student (by student key), marking students with a
/// refused relationship unsure.
fn relations(page: &StudentPage, unsure: &mut HashSet<String>) -> HashMap<String, Vec<String>> {
    let mut rows: Vec<&StagedRecord> = page.relations.iter().collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut related: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        match parse::<(String, String)>(r) {
            Some((account, _)) => related.entry(r.group.clone()).or_default().push(account),
            None => {
                unsure.insert(r.group.clone());
            }
        }
    }
    related
}

/// What a page's links are planned from, read once for all its students.
struct LinkFacts<'a> {
    /// The staged contacts by student key, and the students with a refused record.
    hashed: ContactsByStudent,
    unsure: HashSet<String>,
    /// The accounts related to each student, by key.
    related: HashMap<String, Vec<String>>,
    accounts: HashMap<String, GuardianAccount>,
    refused_accounts: HashSet<String>,
    links_of: HashMap<StudentId, Vec<&'a Link>>,
    linked_guardians: HashMap<GuardianId, Guardian>,
    known: Vec<KnownGuardian>,
    authors: HashMap<StudentId, BTreeSet<GuardianId>>,
}

/// The links (and, from a system of record, the contacts) of one page of students.
fn page_links(
    ctx: &Ctx<'_>,
    page: &StudentPage,
    students: &[(SourceStudent, String)],
    ids: &HashMap<SourceId, StudentId>,
    out: &mut PagePlan,
) {
    // Students whose source records include one that was refused: their links are left
    // as they are rather than judged on part of what the source said.
    let (hashed, mut unsure) = staged_contacts(page);
    if ctx.authority().owns_roster() {
        contact_changes(page, students, (&hashed, &unsure), out);
    }
    let related = relations(page, &mut unsure);
    let (accounts, refused_accounts) = staged_accounts(page);
    let mut known: Vec<KnownGuardian> = page
        .held_guardians
        .iter()
        .map(|(source, g)| KnownGuardian {
            id: g.value.id,
            source_id: source.clone(),
        })
        .collect();
    known.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    let mut authors: HashMap<StudentId, BTreeSet<GuardianId>> = HashMap::new();
    for f in &page.form_authors {
        authors
            .entry(f.student_id)
            .or_default()
            .insert(f.guardian_id);
    }
    let mut facts = LinkFacts {
        hashed,
        unsure,
        related,
        accounts,
        refused_accounts,
        links_of: held_links_by_student(ctx, page),
        linked_guardians: page.linked_guardians.clone(),
        known,
        authors,
    };
    if ctx.authority().owns_roster() {
        rekey_guardians(page, ids, &mut facts, out);
    }
    for (src, _) in students {
        if let Some(&student_id) = ids.get(&src.source_id) {
            student_links(ctx, &mut facts, src, student_id, out);
        }
    }
}

/// One student's links through the source's rules and reconciliation.
fn student_links(
    ctx: &Ctx<'_>,
    f: &mut LinkFacts<'_>,
    src: &SourceStudent,
    student_id: StudentId,
    out: &mut PagePlan,
) {
    let key = src.source_id.as_str();
    let mine = f.related.get(key).map(Vec::as_slice).unwrap_or_default();
    if f.unsure.contains(key) || mine.iter().any(|a| f.refused_accounts.contains(a)) {
        out.warnings.push(format!(
            "student {key}: the source sent a contact or guardian account of this student that was refused; the student's links are left as they are"
        ));
        return;
    }
    let mine: Vec<GuardianAccount> = mine
        .iter()
        .filter_map(|k| f.accounts.get(k))
        .map(|a| GuardianAccount {
            student_source_ids: vec![src.source_id.clone()],
            ..a.clone()
        })
        .collect();
    let contacts: Vec<Contact> = f
        .hashed
        .get(key)
        .into_iter()
        .flatten()
        .map(|(c, _)| c.clone())
        .collect();
    let input = StudentLinks {
        student: src,
        student_id,
        contacts: &contacts,
        accounts: &mine,
        held: f.links_of.get(&student_id).cloned().unwrap_or_default(),
        linked_guardians: &f.linked_guardians,
        authors: f.authors.remove(&student_id).unwrap_or_default(),
        known: &f.known,
    };
    let (items, marks) = plan_student_links(ctx, &input);
    for item in items {
        out.items
            .push(Planned::at_school(item, src.school_source_id.as_ref()));
    }
    out.marks.extend(marks);
}

/// The contacts of a page's students against the ones we hold.
fn contact_changes(
    page: &StudentPage,
    students: &[(SourceStudent, String)],
    (hashed, unsure): (&ContactsByStudent, &HashSet<String>),
    out: &mut PagePlan,
) {
    let page_students: BTreeSet<SourceId> =
        students.iter().map(|(s, _)| s.source_id.clone()).collect();
    let schools: HashMap<&SourceId, Option<&SourceId>> = students
        .iter()
        .map(|(s, _)| (&s.source_id, s.school_source_id.as_ref()))
        .collect();
    for item in roster::contact_items(hashed, &page.held_contacts, &page_students, unsure) {
        let school = match &item {
            PlanItem::Contact { contact, .. } => {
                schools.get(&contact.student_source_id).copied().flatten()
            }
            _ => None,
        };
        out.items.push(Planned::at_school(item, school));
    }
}

/// The page's staged SIS accounts by key, and the keys of refused ones.
fn staged_accounts(page: &StudentPage) -> (HashMap<String, GuardianAccount>, HashSet<String>) {
    let mut accounts = HashMap::new();
    let mut refused = HashSet::new();
    for r in &page.accounts {
        match parse::<GuardianAccount>(r) {
            Some(a) => {
                accounts.insert(r.key.clone(), a);
            }
            None => {
                refused.insert(r.key.clone());
            }
        }
    }
    (accounts, refused)
}

/// The held links in play, by student: all of them for a system of record; a
/// supplement's own only.
fn held_links_by_student<'a>(
    ctx: &Ctx<'_>,
    page: &'a StudentPage,
) -> HashMap<StudentId, Vec<&'a Link>> {
    let origin = ctx.authority().link_origin();
    let mut held: Vec<&Link> = page
        .held_links
        .iter()
        .filter(|l| ctx.authority().owns_roster() || l.origin == origin)
        .collect();
    held.sort_by_key(|l| (l.student_id, l.guardian_id));
    let mut links_of: HashMap<StudentId, Vec<&Link>> = HashMap::new();
    for l in held {
        links_of.entry(l.student_id).or_default().push(l);
    }
    links_of
}

/// Identity churn of guardians: a source may list a person we hold under a new id (Clever
/// re-creates a contact without sis_id whenever it changes). An account we do not hold
/// whose name and e-mail (or, without e-mail, phone) match exactly one guardian linked to
/// the same student, whose own id the pull no longer lists, is that guardian: re-keyed,
/// keeping its links and history.
fn rekey_guardians(
    page: &StudentPage,
    ids: &HashMap<SourceId, StudentId>,
    f: &mut LinkFacts<'_>,
    out: &mut PagePlan,
) {
    let mut unheld: Vec<&GuardianAccount> = f
        .accounts
        .values()
        .filter(|a| !page.held_guardians.contains_key(&a.source_id))
        .collect();
    unheld.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    let mut taken: HashSet<GuardianId> = HashSet::new();
    for a in unheld {
        let candidates: BTreeSet<GuardianId> = f
            .related
            .iter()
            .filter(|(_, accounts)| accounts.iter().any(|k| k == a.source_id.as_str()))
            .filter_map(|(student, _)| ids.get(&SourceId::new(student)))
            .flat_map(|s| f.links_of.get(s).into_iter().flatten())
            .map(|l| l.guardian_id)
            .filter(|g| {
                f.linked_guardians.get(g).is_some_and(|g| {
                    g.source_id
                        .as_ref()
                        .is_some_and(|s| !page.accounts_listed.contains(s.as_str()))
                        && crate::same_person::same_person(g, a)
                })
            })
            .filter(|g| !taken.contains(g))
            .collect();
        let [g] = candidates.iter().copied().collect::<Vec<_>>()[..] else {
            continue;
        };
        let old = f
            .linked_guardians
            .get(&g)
            .and_then(|x| x.source_id.clone())
            .map(|s| s.to_string())
            .unwrap_or_default();
        taken.insert(g);
        // Its held links now stand for the new id: reconciliation keeps them.
        if let Some(held) = f.linked_guardians.get_mut(&g) {
            held.source_id = Some(a.source_id.clone());
        }
        f.known.push(KnownGuardian {
            id: g,
            source_id: a.source_id.clone(),
        });
        out.marks.push(Mark::Connect(a.source_id.clone(), g));
        out.warnings.push(format!(
            "guardian {g} re-keyed from source id {old} to {}: the source no longer lists {old}, and the new account has the same name and {} and is related to the same student",
            a.source_id,
            if a.email.trim().is_empty() { "phone" } else { "e-mail" }
        ));
    }
}
