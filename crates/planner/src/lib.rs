//! The planner: every create, update, archive, re-key and link change a run, a spot sync or
//! a guardians.csv file makes is decided here, from a page of facts.
//!
//! Owns: what a page of staged records becomes against the records the district holds —
//! schools, staff and classrooms with enrollments ([`roster`]); students, their re-keying
//! and archiving ([`students`]); one page of students with their contacts and links
//! through the source's rules and reconciliation ([`page`], [`links`]); the guardians
//! ([`guardians`]); the notes a page leaves for the guardians' pass ([`marks`]); and
//! seed 000's limits on what a spot sync may change ([`spot`]).
//!
//! Must never: read or write a store, wait on anything, or know which source it plans
//! for — what a source's word covers is its rule set's [`policy::Authority`]. The same
//! facts always give the same plan, whatever order the records came in.
//!
//! Start reading at [`page::plan_student_page`].

pub mod guardians;
pub mod links;
pub mod marks;
pub mod page;
pub mod revert;
pub mod review;
pub mod roster;
pub mod same_person;
pub mod spot;
pub mod staged;
pub mod students;

use chrono::{DateTime, Utc};
use model::change::{Entity, Operation};
use model::district::DistrictSettings;
use model::ids::{DistrictId, SourceId, StudentId};
use model::run::PlanItem;
use model::staging::StagedRecord;
use policy::{Authority, LinkRules};

pub use guardians::{guardian_from_account, plan_guardian, GuardianFacts};
pub use links::{held_links_of, is_downgrade, is_link_removal, link_item};
pub use marks::Mark;
pub use page::{plan_student_page, StudentPage};

/// What a page is planned with: the district, its settings, its source's rules, and when.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub district: &'a DistrictId,
    pub settings: &'a DistrictSettings,
    pub rules: &'a dyn LinkRules,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    /// What the source's word covers.
    pub fn authority(&self) -> Authority {
        self.rules.authority()
    }
}

/// The order a plan applies in: a record before what refers to it, archives last — one
/// phase per entity ([`Phase::of`]), and the archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Schools = 0,
    Staff = 1,
    Classrooms = 2,
    Students = 3,
    Guardians = 4,
    Contacts = 5,
    Links = 6,
    Enrollments = 7,
    Archives = 8,
}

impl Phase {
    /// How many phases there are.
    pub const COUNT: usize = 9;

    /// The phase an item applies in: its entity's, or last when it archives.
    pub fn of(item: &PlanItem) -> Phase {
        if item.operation() == Operation::Archive {
            return Phase::Archives;
        }
        match item.entity() {
            Entity::School => Phase::Schools,
            Entity::Staff => Phase::Staff,
            Entity::Classroom => Phase::Classrooms,
            Entity::Student => Phase::Students,
            Entity::Guardian => Phase::Guardians,
            Entity::Contact => Phase::Contacts,
            Entity::Link => Phase::Links,
            Entity::Enrollment => Phase::Enrollments,
        }
    }
}

/// One planned change: what it is, when it applies, and the school it counts under.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub phase: Phase,
    pub item: PlanItem,
    pub school: Option<SourceId>,
}

impl Planned {
    pub(crate) fn new(item: PlanItem) -> Self {
        Self::at_school(item, None)
    }

    pub(crate) fn at_school(item: PlanItem, school: Option<&SourceId>) -> Self {
        Self {
            phase: Phase::of(&item),
            item,
            school: school.cloned(),
        }
    }
}

/// What one page planned: its changes, the notes it leaves for later passes, its
/// warnings in words, and the students it re-keyed (never archived under their old id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PagePlan {
    pub items: Vec<Planned>,
    pub marks: Vec<Mark>,
    pub warnings: Vec<String>,
    pub rekeyed: Vec<StudentId>,
}

impl PagePlan {
    fn push(&mut self, item: PlanItem) {
        self.items.push(Planned::new(item));
    }
}

/// A content hash: the same record always hashes the same.
pub fn content_hash<T: serde::Serialize>(value: &T) -> String {
    bytes_hash(&serde_json::to_vec(value).unwrap_or_default())
}

/// The hash of some bytes, as staged records keep it.
pub fn bytes_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// A staged record's model value, when it was not refused and reads as `T`.
pub fn parse<T: serde::de::DeserializeOwned>(r: &StagedRecord) -> Option<T> {
    if !r.usable() {
        return None;
    }
    serde_json::from_str(&r.payload).ok()
}

/// The usable records of a page as `T`, each with its content hash, in key order.
pub fn usable<T: serde::de::DeserializeOwned>(records: &[StagedRecord]) -> Vec<(T, String)> {
    let mut sorted: Vec<&StagedRecord> = records.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    sorted
        .into_iter()
        .filter_map(|r| parse(r).map(|v| (v, r.hash.clone())))
        .collect()
}
