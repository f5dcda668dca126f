//! The seeded district generator: schools, then families (1–3 students sharing their
//! parents and a home), some of them built to hold the edge cases of [`super::cases`].
//!
//! Every id comes from one counter, so no two rows of any tables share an id and a
//! connector that confuses a person id with a guardian id or a DCID finds nothing.
//! The row-adding primitives (persons, contact links, portal accounts) live in
//! [`super::rows`].

use chrono::{Datelike, NaiveDate};

use super::cases::{self, Cases};
use super::config::SimConfig;
use super::data::*;
use super::rows::{Decision, Link, PersonSpec};
use crate::kit::names;

mod contact;

/// The ids of the code set rows every district has.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Codes {
    pub mother: u64,
    pub father: u64,
    pub guardian: u64,
    pub grandmother: u64,
    pub aunt: u64,
    pub stepfather: u64,
    pub probation_officer: u64,
    pub phone_home: u64,
    pub phone_mobile: u64,
    pub phone_work: u64,
    pub address_home: u64,
    pub address_mailing: u64,
    pub state_ab: u64,
    pub state_bc: u64,
}

/// A household: the name, home and phone its members share.
#[derive(Debug, Clone)]
pub(super) struct Family {
    pub last_name: String,
    pub address: PostalAddress,
    pub home_phone: String,
}

/// A student of a family to add.
#[derive(Debug, Clone, Copy)]
pub(super) struct Member {
    /// A school index, or `None` for a random one.
    pub school: Option<usize>,
    pub status: i32,
    pub gender: Option<&'static str>,
}

impl Member {
    pub fn active() -> Member {
        Member {
            school: None,
            status: 0,
            gender: None,
        }
    }
}

/// The district under construction, its random source and its id counters.
#[derive(Debug)]
pub(super) struct Builder {
    pub rng: fastrand::Rng,
    pub d: District,
    pub codes: Codes,
    next_id: u64,
    next_student_row: u64,
    next_local_id: u64,
    asn_offset: u64,
    guardians_per_family: f64,
}

impl District {
    /// Generates a district, deterministically from the seed and sizes of `config`.
    ///
    /// Districts of at least 20 students (and 2 schools, for the siblings in different
    /// schools) hold every case of [`Cases`]; smaller ones hold random families only.
    pub fn generate(config: &SimConfig) -> District {
        let mut b = Builder::new(config);
        b.schools(config.schools.max(1));
        let mut plan: Vec<Option<usize>> = Vec::new();
        let mut left = config.students;
        if config.students >= 20 {
            plan.extend(cases::FAMILIES.iter().map(|_| None));
            left -= cases::CASE_STUDENTS;
        }
        while left > 0 {
            let size = match b.rng.u32(0..100) {
                0..=54 => 1,
                55..=89 => 2,
                _ => 3,
            }
            .min(left);
            plan.push(Some(size));
            left -= size;
        }
        b.rng.shuffle(&mut plan);
        let mut case_families = cases::FAMILIES.iter();
        let mut found = Cases::default();
        for family in plan {
            match family {
                Some(size) => {
                    let members: Vec<Member> = (0..size)
                        .map(|_| Member {
                            status: b.random_status(),
                            ..Member::active()
                        })
                        .collect();
                    b.random_family(&members);
                }
                None => {
                    if let Some(build) = case_families.next() {
                        build(&mut b, &mut found);
                    }
                }
            }
        }
        found.preferred_name_student =
            b.d.students
                .iter()
                .find(|s| s.enroll_status_code == 0 && s.legal_first_name() != s.first_name)
                .map(|s| s.dcid.to_string())
                .unwrap_or_default();
        b.d.cases = found;
        b.d.students.sort_by_key(|s| s.dcid);
        super::courses::generate(&mut b.d);
        super::sections::generate(&mut b.d, config.seed);
        b.d
    }
}

impl Builder {
    fn new(config: &SimConfig) -> Builder {
        let mut rng = fastrand::Rng::with_seed(config.seed);
        let asn_offset = rng.u64(0..900_000_000);
        let mut b = Builder {
            rng,
            d: District::default(),
            codes: Codes::default(),
            next_id: 1001,
            next_student_row: 1,
            next_local_id: 200_001 + (config.seed % 1000) * 1000,
            asn_offset,
            guardians_per_family: config.guardians_per_student.max(0.0),
        };
        b.codes = Codes {
            mother: b.code("Relationship", "Mother"),
            father: b.code("Relationship", "Father"),
            guardian: b.code("Relationship", "Guardian"),
            grandmother: b.code("Relationship", "Grandmother"),
            aunt: b.code("Relationship", "Aunt"),
            stepfather: b.code("Relationship", "Stepfather"),
            probation_officer: b.code("Relationship", "Probation Officer"),
            phone_home: b.code("Phone", "Home"),
            phone_mobile: b.code("Phone", "Mobile"),
            phone_work: b.code("Phone", "Work"),
            address_home: b.code("Address", "Home"),
            address_mailing: b.code("Address", "Mailing"),
            state_ab: b.code("State", "AB"),
            state_bc: b.code("State", "BC"),
        };
        b
    }

    pub fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn code(&mut self, code_type: &str, code: &str) -> u64 {
        let id = self.id();
        self.d.codesets.push(CodeSet {
            id,
            code_type: code_type.to_owned(),
            code: code.to_owned(),
        });
        id
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list.get(self.rng.usize(0..list.len()))
            .copied()
            .unwrap_or("")
    }

    fn schools(&mut self, count: usize) {
        const RANGES: [(i32, i32); 6] = [(-1, 6), (7, 9), (10, 12), (0, 6), (7, 12), (-1, 9)];
        for i in 0..count {
            let (low_grade, high_grade) = if count == 1 {
                (-1, 12)
            } else {
                RANGES[i % RANGES.len()]
            };
            let base = names::SCHOOL_NAMES[i % names::SCHOOL_NAMES.len()];
            let kind = match (low_grade, high_grade) {
                (_, 6) => "Elementary School",
                (7, 9) => "Middle School",
                (_, 9) => "School",
                _ => "High School",
            };
            let round = i / names::SCHOOL_NAMES.len();
            let name = if round == 0 {
                format!("{base} {kind}")
            } else {
                format!("{base} {kind} {}", round + 1)
            };
            let dcid = 17 + 3 * i as u64;
            self.d.schools.push(School {
                dcid,
                school_number: 1000 + 101 * (i as u64 + 1),
                name,
                low_grade,
                high_grade,
            });
        }
    }

    /// A random index of a school teaching a grade at least `grade`, if any.
    pub fn school_with_grade(&mut self, grade: i32) -> Option<usize> {
        let fits: Vec<usize> = (0..self.d.schools.len())
            .filter(|&i| self.d.schools[i].high_grade >= grade)
            .collect();
        (!fits.is_empty()).then(|| fits[self.rng.usize(0..fits.len())])
    }

    fn random_status(&mut self) -> i32 {
        match self.rng.u32(0..100) {
            0..=87 => 0,
            88..=90 => -1,
            91..=92 => 1,
            93 => 5,
            94..=96 => 2,
            97..=98 => 3,
            _ => 4,
        }
    }

    pub fn new_family(&mut self) -> Family {
        let last_name = self.pick(names::LAST).to_owned();
        let address = self.postal_address();
        let home_phone = self.phone_number();
        Family {
            last_name,
            address,
            home_phone,
        }
    }

    /// A student of `family`, enrolled as `member` says.
    pub fn add_student(&mut self, family: &Family, member: Member) -> u64 {
        let school_index = member
            .school
            .unwrap_or_else(|| self.rng.usize(0..self.d.schools.len()));
        let school = self.d.schools[school_index.min(self.d.schools.len() - 1)].clone();
        let grade_level = match member.status {
            3 => school.high_grade,
            -1 => school
                .low_grade
                .max(self.rng.i32(school.low_grade..=school.high_grade) - 6),
            _ => self.rng.i32(school.low_grade..=school.high_grade),
        };
        let gender = match member.gender {
            Some(g) => g,
            None => match self.rng.u32(0..200) {
                0 => "X",
                1..=99 => "F",
                _ => "M",
            },
        };
        let first_name = if gender == "M" {
            self.pick(names::MALE)
        } else {
            self.pick(names::FEMALE)
        }
        .to_owned();
        let middle_name = if self.rng.u32(0..100) < 60 {
            self.pick(names::MIDDLE).to_owned()
        } else {
            String::new()
        };
        let last_name = family.last_name.clone();
        let dcid = self.id();
        let id = self.next_student_row;
        self.next_student_row += 1;
        let local_id = self.next_local_id;
        self.next_local_id += 1;
        let asn = 100_000_000 + (self.asn_offset + id * 7_919) % 900_000_000;
        let birth_year = 2025 - 6 - grade_level;
        let birth_date = NaiveDate::from_ymd_opt(birth_year, 1, 1)
            .and_then(|d| d.with_ordinal(self.rng.u32(1..=365)))
            .unwrap_or_default();
        let student_username = format!(
            "{}{}{}",
            names::ascii_slug(&first_name).chars().next().unwrap_or('s'),
            names::ascii_slug(&last_name),
            local_id % 1000
        );
        let web_id = if self.rng.u32(0..100) < 90 {
            self.access_id()
        } else {
            String::new()
        };
        let exit_date = match member.status {
            0 | -1 => date(2026, 6, 26),
            _ => date(2025, 1, 1)
                .with_ordinal(self.rng.u32(1..=300))
                .unwrap_or_default(),
        };
        let entry_date = if member.status == -1 {
            date(2026, 8, 27)
        } else {
            date(2025 - self.rng.i32(0..3), 8, 28)
        };
        let mailing_address =
            (self.rng.u32(0..100) < 15).then(|| self.mailing_address(&family.address));
        let orgemail = (self.rng.u32(0..100) < 95)
            .then(|| format!("{student_username}@{}", names::DISTRICT_DOMAIN));
        let personalemail = (grade_level >= 4 && self.rng.u32(0..100) < 35)
            .then(|| self.email(&first_name, &last_name));
        let s_ab_stu_x = self.enrollment_types(grade_level);
        let home_phone = if self.rng.u32(0..100) < 85 {
            family.home_phone.clone()
        } else {
            String::new()
        };
        let (first_name, last_name, studentcorefields) =
            preferred_names(dcid, first_name, last_name, gender);
        self.d.students.push(Student {
            dcid,
            id,
            local_id,
            student_username,
            web_id,
            state_province_id: asn.to_string(),
            first_name,
            middle_name,
            last_name,
            gender: gender.to_owned(),
            birth_date,
            school_dcid: school.dcid,
            school_number: school.school_number,
            grade_level,
            enroll_status_code: member.status,
            entry_date,
            exit_date,
            physical_address: (self.rng.u32(0..100) < 95).then(|| family.address.clone()),
            mailing_address,
            home_phone,
            u_student: UStudent {
                orgemail,
                personalemail,
            },
            s_ab_stu_x,
            studentcorefields,
        });
        dcid
    }

    fn access_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        (0..8)
            .map(|_| char::from(ALPHABET[self.rng.usize(0..ALPHABET.len())]))
            .collect()
    }

    fn enrollment_types(&mut self, grade_level: i32) -> SAbStuX {
        let roll = self.rng.u32(0..100);
        if roll < 10 {
            return SAbStuX::default();
        }
        let mut x = SAbStuX {
            enrlytype1: Some("100".to_owned()),
            ..SAbStuX::default()
        };
        if grade_level >= 10 && roll >= 94 {
            let slot = match self.rng.u32(0..3) {
                0 => &mut x.enrlytype1,
                1 => &mut x.enrlytype2,
                _ => &mut x.enrlytype3,
            };
            *slot = Some("121".to_owned());
        }
        x
    }

    /// A random person of a family, with an e-mail, phones and a home address.
    pub fn person_spec(&mut self, family: &Family, female: bool) -> PersonSpec {
        let first_name = self
            .pick(if female { names::FEMALE } else { names::MALE })
            .to_owned();
        let last_name = if self.rng.u32(0..100) < 80 {
            family.last_name.clone()
        } else {
            self.pick(names::LAST).to_owned()
        };
        let mut emails = vec![self.email(&first_name, &last_name)];
        if self.rng.u32(0..100) < 15 {
            emails.push(format!(
                "{}{}@work.example",
                names::ascii_slug(&first_name),
                self.id() % 100_000
            ));
        }
        let mut phones = Vec::new();
        if self.rng.u32(0..100) < 75 {
            phones.push((self.codes.phone_home, family.home_phone.clone()));
        }
        if self.rng.u32(0..100) < 90 {
            let number = self.phone_number();
            phones.push((self.codes.phone_mobile, number));
        }
        if self.rng.u32(0..100) < 25 {
            let number = self.phone_number();
            phones.push((self.codes.phone_work, number));
        }
        self.rng.shuffle(&mut phones);
        let mut addresses = vec![(self.codes.address_home, family.address.clone())];
        if self.rng.u32(0..100) < 15 {
            let mailing = self.mailing_address(&family.address);
            addresses.push((self.codes.address_mailing, mailing));
        }
        PersonSpec {
            first_name,
            last_name,
            emails,
            phones,
            addresses,
        }
    }

    fn parent_count(&mut self) -> usize {
        let whole = self.guardians_per_family.floor();
        let extra = usize::from(self.rng.f64() < self.guardians_per_family - whole);
        (whole as usize + extra).min(4)
    }

    /// A family of random parents (most with a portal account) and sometimes an emergency
    /// contact, with the given students. Returns the student DCIDs.
    pub fn random_family(&mut self, members: &[Member]) -> Vec<u64> {
        let family = self.new_family();
        let students: Vec<u64> = members
            .iter()
            .map(|m| self.add_student(&family, *m))
            .collect();
        let mut contacts: Vec<(u64, Link)> = Vec::new();
        let mut first_relationship = 0;
        for k in 0..self.parent_count() {
            let relationship = match (k, self.rng.u32(0..100)) {
                (0, 0..=54) => self.codes.mother,
                (0, 55..=89) => self.codes.father,
                (0, _) => self.codes.guardian,
                (1, 0..=9) => self.codes.stepfather,
                (1, _) if first_relationship == self.codes.mother => self.codes.father,
                (1, _) => self.codes.mother,
                (_, 0..=49) => self.codes.stepfather,
                _ => self.codes.guardian,
            };
            if k == 0 {
                first_relationship = relationship;
            }
            let female = relationship == self.codes.mother
                || (relationship == self.codes.guardian && self.rng.bool());
            let spec = self.person_spec(&family, female);
            let person = self.add_person(&spec);
            let decision = match self.rng.u32(0..100) {
                0..=91 => Decision::Yes,
                92..=95 => Decision::No,
                _ => Decision::Absent,
            };
            let mut link = Link::parent(relationship, decision);
            link.emergency = self.rng.bool();
            contacts.push((person, link));
            if self.rng.u32(0..100) < 85 {
                let enabled = self.rng.u32(0..100) < 97;
                let guardian = self.account_for(person, &spec, enabled);
                for &student in &students {
                    if self.rng.u32(0..100) < 97 {
                        self.grant(guardian, student);
                    }
                }
            }
        }
        if self.rng.u32(0..100) < 35 {
            let relationship = if self.rng.bool() {
                self.codes.grandmother
            } else {
                self.codes.aunt
            };
            let mut spec = self.person_spec(&family, true);
            if self.rng.bool() {
                spec.emails.clear();
            }
            let person = self.add_person(&spec);
            let decision = if self.rng.u32(0..100) < 70 {
                Decision::No
            } else {
                Decision::Absent
            };
            let link = Link {
                relationship,
                custodial: false,
                emergency: true,
                decision,
                active: self.rng.u32(0..100) >= 10,
            };
            contacts.push((person, link));
        }
        for &student in &students {
            for (priority, (person, link)) in contacts.iter().enumerate() {
                self.link(student, *person, priority as u32 + 1, *link, true);
            }
        }
        students
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// Some students go by a name other than their legal one: `Students` then holds the
/// preferred name and `StudentCoreFields` the legal one. Chosen from the DCID, so the
/// rest of the district is generated as before: one student in seven by a preferred
/// first name, one in thirteen by a last name shorter than the
/// legal, hyphenated one.
fn preferred_names(
    dcid: u64,
    legal_first: String,
    legal_last: String,
    gender: &str,
) -> (String, String, StudentCoreFields) {
    let mut core = StudentCoreFields::default();
    let mut first = legal_first.clone();
    if dcid % 7 == 3 {
        let pool = if gender == "M" {
            names::MALE
        } else {
            names::FEMALE
        };
        let at = (dcid as usize / 7) % pool.len();
        let preferred = if pool[at] == legal_first {
            pool[(at + 1) % pool.len()]
        } else {
            pool[at]
        };
        first = preferred.to_owned();
        core.pscore_legal_first_name = Some(legal_first);
    }
    if dcid % 13 == 5 {
        core.pscore_legal_last_name = Some(format!("{legal_last}-Okafor"));
    }
    (first, legal_last, core)
}
