//! A district in memory — what a source sent and what we hold — and a driver that pages
//! it through the planner as the engine's driver pages a store: the planner's suites
//! need no database.
#![allow(dead_code)]

mod driver;
mod lines;

#[allow(unused_imports)]
pub use lines::*;

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use model::district::DistrictSettings;
use model::ids::{ClassroomId, DistrictId, GuardianId, SchoolId, SourceId, StaffId, StudentId};
use model::link::{AccessTier, Decision, FormAuthorship, Link, LinkOrigin, LinkRuleSet};
use model::roster::{
    AccountStatus, Classroom, Contact, ContactType, Enrollment, EnrollmentRole, EnrollmentStatus,
    Gender, Guardian, Relationship, School, Staff, Student,
};
use model::source::{GuardianAccount, SourceStudent};
use model::staging::{StagedKind, StagedRecord};
use model::Synced;
use planner::Planned;

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

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("json")
}

pub(crate) fn staged(
    kind: StagedKind,
    key: String,
    group: String,
    payload: String,
) -> StagedRecord {
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
