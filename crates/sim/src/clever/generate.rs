//! The seeded district generator: schools, their staff and teachers, then families
//! (1–3 students sharing their contacts), some of them built to hold the edge cases of
//! [`super::cases`], then sections.
//!
//! Every id comes from one counter, so ids sort in creation order and no two records of
//! any type share one.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};

use super::cases::{self, Cases};
use super::config::CleverSimConfig;
use super::data::*;
use crate::kit::names;

mod sections;
mod staff;

/// A household: the name and home its members share.
#[derive(Debug, Clone)]
pub(super) struct Family {
    pub last_name: String,
    pub location: Location,
}

/// A student to add; `None` fields are drawn at random.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StudentSpec {
    /// A school index.
    pub school: Option<usize>,
    /// One of [`GRADES`].
    pub grade: Option<&'static str>,
    pub gender: Option<&'static str>,
}

/// A contact to add.
#[derive(Debug, Clone)]
pub(super) struct ContactSpec {
    /// Served whole in `name.last`.
    pub full_name: String,
    pub email: Option<String>,
    pub phone_type: String,
    pub with_sis_id: bool,
    pub links: Vec<StudentRelationship>,
}

/// The district under construction and its random source.
#[derive(Debug)]
pub(super) struct Builder {
    pub rng: fastrand::Rng,
    pub d: District,
    contacts_per_student: f64,
    /// Whether the district holds values outside Clever's vocabularies.
    pub unknown_values: bool,
    /// The creation time of the next record.
    created: DateTime<Utc>,
    next_sis: u64,
}

/// School grade ranges, as indices into [`GRADES`]: PreK–5, 6–8, 9–12, K–8.
const RANGES: [(usize, usize); 4] = [(2, 9), (10, 12), (13, 16), (4, 12)];

/// The regular grades of the schools (the unusual ones come from the cases).
fn grade_index(grade: &str) -> usize {
    GRADES.iter().position(|g| *g == grade).unwrap_or(0)
}

const RACES: &[&str] = &[
    "Caucasian",
    "Asian",
    "Black or African American",
    "American Indian",
    "Hawaiian or Other Pacific Islander",
    "Two or More Races",
    "Unknown",
    "",
];

impl District {
    /// Generates a district, deterministically from the seed and sizes of `config` (the
    /// district id is taken from it as is).
    ///
    /// Districts of at least 20 students hold every case of [`Cases`] (the teacher of two
    /// schools needs two schools); smaller ones hold random families only.
    pub fn generate(config: &CleverSimConfig) -> District {
        let mut b = Builder::new(config);
        let schools = config.schools.max(1);
        b.schools(schools);
        let mut found = Cases::default();
        b.staff(&mut found);
        let per_school = config.students.div_ceil(schools);
        b.teachers((per_school / 14).max(2), &mut found);
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
        for family in plan {
            match family {
                Some(size) => b.random_family(size),
                None => {
                    if let Some(build) = case_families.next() {
                        build(&mut b, &mut found);
                    }
                }
            }
        }
        b.sections(&mut found);
        b.d.cases = found;
        b.d
    }
}

impl Builder {
    fn new(config: &CleverSimConfig) -> Builder {
        let mut rng = fastrand::Rng::with_seed(config.seed);
        // An ObjectId-like head: four bytes of time, five of machine and process.
        let head = format!(
            "{:08x}{:010x}",
            0x66b0_0000 + rng.u32(0..0x000f_ffff),
            rng.u64(0..0x00ff_ffff_ffff)
        );
        let epoch = Utc
            .with_ymd_and_hms(2024, 8, 1, 6, 0, 0)
            .single()
            .unwrap_or_default();
        let sync = Utc
            .with_ymd_and_hms(2025, 3, 2, 22, 24, 55)
            .single()
            .unwrap_or_default();
        let record = DistrictRecord {
            id: config.district_id.clone(),
            name: format!(
                "{} School District",
                names::CITIES[rng.usize(0..names::CITIES.len())].0
            ),
            state: "success".to_owned(),
            last_sync: sync,
            launch_date: NaiveDate::from_ymd_opt(2024, 8, 1).unwrap_or_default(),
            portal_url: format!("https://clever.com/in/district-{}", config.seed),
            sis_type: "powerschool".to_owned(),
            login_methods: vec!["clever".to_owned(), "google".to_owned()],
            contact_id: String::new(),
            contact_email: String::new(),
            contact_name: Name::default(),
            contact_title: String::new(),
            nces_id: format!("{:07}", rng.u32(100_000..9_999_999)),
            mdr_number: format!("{:08}", rng.u32(1_000_000..99_999_999)),
        };
        let next_sis = 100_000 + rng.u64(0..800_000);
        Builder {
            rng,
            d: District {
                record,
                schools: Vec::new(),
                users: Vec::new(),
                sections: Vec::new(),
                unshared: Default::default(),
                cases: Cases::default(),
                ids: IdSource { head, next: 0 },
                clock: sync + Duration::hours(1),
            },
            contacts_per_student: config.contacts_per_student.max(0.0),
            unknown_values: config.quirks.unknown_values,
            created: epoch,
            next_sis,
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        rng_pick(&mut self.rng, list)
    }

    /// A new id with its creation and last-modified times (later ids, later creation).
    fn stamp(&mut self) -> (String, DateTime<Utc>, DateTime<Utc>) {
        let id = self.d.new_id();
        self.created += Duration::milliseconds(self.rng.i64(20_000..60_000));
        let created = self.created;
        let modified = if self.rng.bool() {
            created
        } else {
            created + Duration::milliseconds(self.rng.i64(0..180 * 24 * 3600 * 1000))
        };
        (id, created, modified)
    }

    /// A v1/v2 id, as `legacy_id` holds: 24 hex characters unrelated to the v3 ids.
    fn legacy_id(&mut self) -> String {
        format!(
            "{:08x}{:016x}",
            0x5b00_0000 + self.rng.u32(0..0x00ff_ffff),
            self.rng.u64(..)
        )
    }

    fn sis_number(&mut self) -> String {
        self.next_sis += 1 + self.rng.u64(0..7);
        self.next_sis.to_string()
    }

    /// A unique e-mail for a person's name (the id counter keeps it unique).
    pub fn email(&mut self, full_name: &str) -> String {
        let slug: Vec<String> = full_name
            .split_whitespace()
            .map(names::ascii_slug)
            .filter(|s| !s.is_empty())
            .collect();
        let domain = self.pick(names::EMAIL_DOMAINS);
        format!(
            "{}{}@{domain}",
            slug.join("."),
            self.d.ids.next % 100_000 + self.rng.u32(0..100)
        )
    }

    /// A number written the many ways Clever passes through from the SIS.
    fn phone(&mut self) -> String {
        let area = self.rng.u32(201..990);
        let exchange = self.rng.u32(200..999);
        let line = self.rng.u32(0..10_000);
        match self.rng.u32(0..5) {
            0 => format!("({area}) {exchange}-{line:04}"),
            1 => format!("1-({area}) {exchange}-{line:04}"),
            2 => format!("{area}.{exchange}.{line:04}"),
            3 => format!("+1 {area} {exchange} {line:04}"),
            _ => format!("{area}-{exchange}-{line:04}"),
        }
    }

    fn location(&mut self) -> Location {
        let street = self.pick(names::STREETS);
        let (city, state, _) = names::CITIES[self.rng.usize(0..names::CITIES.len())];
        Location {
            address: format!("{} {street}", self.rng.u32(1..9999)),
            city: city.to_owned(),
            state: state.to_owned(),
            zip: format!("{:05}", self.rng.u32(10_000..99_999)),
        }
    }

    fn person_name(&mut self, female: bool) -> (String, String, String) {
        let first = if female {
            self.pick(names::FEMALE)
        } else {
            self.pick(names::MALE)
        };
        let middle = if self.rng.u32(0..100) < 50 {
            self.pick(names::MIDDLE)
        } else {
            ""
        };
        let last = self.pick(names::LAST);
        (first.to_owned(), middle.to_owned(), last.to_owned())
    }

    fn schools(&mut self, count: usize) {
        for i in 0..count {
            let (low, high) = if count == 1 {
                (2, 16)
            } else {
                RANGES[i % RANGES.len()]
            };
            let kind = match (low, high) {
                (_, 9) => "Elementary School",
                (10, 12) => "Middle School",
                (13, _) => "High School",
                _ => "School",
            };
            let base = names::SCHOOL_NAMES[i % names::SCHOOL_NAMES.len()];
            let round = i / names::SCHOOL_NAMES.len();
            let name = if round == 0 {
                format!("{base} {kind}")
            } else {
                format!("{base} {kind} {}", round + 1)
            };
            let (id, created, last_modified) = self.stamp();
            let female = self.rng.bool();
            let (first, _, last) = self.person_name(female);
            let principal_email = format!(
                "{}.{}@{}",
                names::ascii_slug(&first),
                names::ascii_slug(&last),
                names::DISTRICT_DOMAIN
            );
            let location = self.location();
            let phone = self.phone();
            self.d.schools.push(School {
                id,
                created,
                last_modified,
                name,
                sis_id: format!("{}", 100 + i),
                school_number: format!("{}", 1000 + 101 * (i + 1)),
                state_id: format!("{:04}", self.rng.u32(1000..9999)),
                nces_id: format!("{:012}", self.rng.u64(10_000_000_000..99_999_999_999)),
                low_grade: GRADES[low].to_owned(),
                high_grade: GRADES[high].to_owned(),
                phone,
                principal_name: format!("{first} {last}"),
                principal_email,
                location,
            });
        }
    }

    pub fn new_family(&mut self) -> Family {
        let last_name = self.pick(names::LAST).to_owned();
        let location = self.location();
        Family {
            last_name,
            location,
        }
    }

    /// A family of `size` students and its random contacts, each linked to every student.
    fn random_family(&mut self, size: usize) {
        let family = self.new_family();
        let students: Vec<String> = (0..size)
            .map(|_| self.add_student(&family, StudentSpec::default()))
            .collect();
        let whole = self.contacts_per_student.floor();
        let extra = self.rng.f64() < self.contacts_per_student - whole;
        let count = whole as usize + usize::from(extra);
        for n in 0..count {
            let mut contact = self.contact_spec(&family);
            let (relationship, kind) = if n < 2 {
                match self.rng.u32(0..100) {
                    0..=89 => ("Parent", "Parent/Guardian"),
                    90..=94 => ("Parent", "Primary"),
                    _ => ("", ""),
                }
            } else {
                match self.rng.u32(0..5) {
                    0 => ("Grandparent", "Emergency"),
                    1 => ("Aunt/Uncle", "Emergency"),
                    2 => ("Other", "Other"),
                    3 => ("Sibling", "Family"),
                    _ => ("Grandparent", "Secondary"),
                }
            };
            contact.links = students
                .iter()
                .map(|s| StudentRelationship {
                    student: s.clone(),
                    relationship: relationship.to_owned(),
                    kind: kind.to_owned(),
                })
                .collect();
            self.add_contact(&contact);
        }
    }

    /// A student of `family`, as `spec` says or at random.
    pub fn add_student(&mut self, family: &Family, spec: StudentSpec) -> String {
        let school_index = spec
            .school
            .unwrap_or_else(|| self.rng.usize(0..self.d.schools.len().max(1)));
        let school = self.school_id(school_index);
        let grade = match spec.grade {
            Some(grade) => grade,
            None => {
                let (low, high) = self
                    .d
                    .schools
                    .get(school_index)
                    .map(|s| (grade_index(&s.low_grade), grade_index(&s.high_grade)))
                    .unwrap_or((4, 16));
                GRADES[self.rng.usize(low.max(2)..=high.max(low.max(2)))]
            }
        };
        let gender = match spec.gender {
            Some(g) => g,
            None => match self.rng.u32(0..200) {
                0 => "X",
                1 => "",
                2..=100 => "F",
                _ => "M",
            },
        };
        let (first, middle, _) = self.person_name(gender != "M");
        let last = family.last_name.clone();
        let (id, created, last_modified) = self.stamp();
        // Age at the start of the 2024–25 school year.
        let (age, graduation) = match grade {
            "PreKindergarten" => (4, "2038".to_owned()),
            "TransitionalKindergarten" => (5, "2038".to_owned()),
            "Kindergarten" => (5, "2037".to_owned()),
            "PostGraduate" => (19, String::new()),
            "Ungraded" | "Other" => (self.rng.i32(6..18), String::new()),
            n => {
                let n: i32 = n.parse().unwrap_or(6);
                (n + 5, (2037 - n).to_string())
            }
        };
        let dob = (self.rng.u32(0..50) != 0)
            .then(|| {
                NaiveDate::from_ymd_opt(
                    2024 - age - self.rng.i32(0..2),
                    self.rng.u32(1..13),
                    self.rng.u32(1..29),
                )
            })
            .flatten();
        let login = format!(
            "{}.{}{}",
            names::ascii_slug(&first),
            names::ascii_slug(&last),
            self.d.ids.next % 10_000
        );
        let email =
            (self.rng.u32(0..100) < 85).then(|| format!("{login}@{}", names::DISTRICT_DOMAIN));
        let preferred_name = (self.rng.u32(0..100) < 8).then(|| Name {
            first: Some(self.pick(names::MIDDLE).to_owned()),
            middle: None,
            last: Some(last.clone()),
        });
        let role = StudentRole {
            sis_id: self.sis_number(),
            student_number: format!("{}", 20_000_000 + self.rng.u32(0..9_999_999)),
            state_id: format!("{:010}", self.rng.u64(1_000_000_000..9_999_999_999)),
            legacy_id: self.legacy_id(),
            district_username: login,
            school: school.clone(),
            schools: vec![school],
            grade: grade.to_owned(),
            graduation_year: graduation,
            dob,
            gender: gender.to_owned(),
            race: self.pick(RACES).to_owned(),
            hispanic_ethnicity: self.pick(&["Y", "N", "N", "N", ""]).to_owned(),
            ell_status: self.pick(&["Y", "N", "N", "N", "N", ""]).to_owned(),
            location: family.location.clone(),
            preferred_name,
        };
        self.d.users.push(User {
            id: id.clone(),
            created,
            last_modified,
            email,
            name: Name::new(&first, &middle, &last),
            roles: Roles {
                student: Some(role),
                ..Roles::default()
            },
        });
        id
    }

    /// A random contact of `family`, linked to no student yet.
    pub fn contact_spec(&mut self, family: &Family) -> ContactSpec {
        let female = self.rng.bool();
        let (first, _, other_last) = self.person_name(female);
        let last = if self.rng.u32(0..100) < 80 {
            family.last_name.clone()
        } else {
            other_last
        };
        let full_name = format!("{first} {last}");
        let email = (self.rng.u32(0..100) < 85).then(|| self.email(&full_name));
        let phone_type = match self.rng.u32(0..100) {
            0..=59 => "Cell",
            60..=79 => "Home",
            80..=89 => "Work",
            90..=94 => "Other",
            _ => "",
        };
        ContactSpec {
            full_name,
            email,
            phone_type: phone_type.to_owned(),
            with_sis_id: self.rng.u32(0..100) < 60,
            links: Vec::new(),
        }
    }

    /// Adds a contact user; answers its id.
    pub fn add_contact(&mut self, spec: &ContactSpec) -> String {
        let (id, created, last_modified) = self.stamp();
        let sis_id = if spec.with_sis_id {
            format!("G-{}", self.sis_number())
        } else {
            String::new()
        };
        let phone = self.phone();
        let legacy_id = self.legacy_id();
        self.d.users.push(User {
            id: id.clone(),
            created,
            last_modified,
            email: spec.email.clone(),
            name: Name::full_in_last(&spec.full_name),
            roles: Roles {
                contact: Some(ContactRole {
                    sis_id,
                    legacy_id,
                    phone,
                    phone_type: spec.phone_type.clone(),
                    student_relationships: spec.links.clone(),
                }),
                ..Roles::default()
            },
        });
        id
    }
}

fn rng_pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list.get(rng.usize(0..list.len().max(1)))
        .copied()
        .unwrap_or("")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
