//! The seeded district generator: the district org and its schools, the school year and
//! its two terms, courses, administrators, teachers, classes (with their teacher
//! enrollments), then students in families sharing guardians — the case families of
//! [`super::cases`] first, then random ones — with their class enrollments.
//!
//! Everything is O(records): 100 000 students take a few seconds even unoptimised.
//! Ids carry a prefix per type and a counter (`org-3`, `as-2026`, `crs-2`, `a-1`, `t-301`,
//! `c-9`, `s-1001`, `g-2001`, `e-77`), so the case records get the same ids whatever the
//! seed; the one odd id (`c-0 A+B`) needs percent-encoding in a path.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};

use super::cases::Cases;
use super::config::OneRosterSimConfig;
use super::data::*;
use crate::kit::names;

mod families;

const SUBJECTS: &[&str] = &[
    "English Language Arts",
    "Mathematics",
    "Science",
    "Social Studies",
    "World Languages",
    "Physical Education",
    "Art",
    "Music",
    "Technology",
    "Health",
];

/// Grades students are drawn from (mostly the regular ones; `PK` and `Other` sometimes).
const GRADES: &[&str] = &[
    "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

const YEAR: &str = "as-2026";
const FALL: &str = "as-2026-t1";
const SPRING: &str = "as-2026-t2";

/// How a guardian can be reached.
#[derive(Debug, Clone, Copy)]
struct Contact {
    email: bool,
    sms: bool,
    phone: bool,
}

const ALL: Contact = Contact {
    email: true,
    sms: true,
    phone: true,
};

/// The district under construction and its random source.
#[derive(Debug)]
struct Builder {
    rng: fastrand::Rng,
    d: District,
    base: DateTime<Utc>,
    begin: NaiveDate,
    end: NaiveDate,
    /// Per school: its org id, teacher user indices, class indices.
    schools: Vec<SchoolPlan>,
    next_student: u64,
    next_guardian: u64,
    next_teacher: u64,
    next_admin: u64,
    next_class: u64,
    next_enrollment: u64,
    guardians_per_student: f64,
}

#[derive(Debug, Clone, Default)]
struct SchoolPlan {
    id: String,
    teachers: Vec<String>,
    classes: Vec<String>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

impl District {
    /// Generates a district, deterministically from the seed and sizes of `config`.
    ///
    /// Districts of at least 20 students hold every case of [`Cases`] (the teacher of two
    /// schools needs two schools); smaller ones hold random families only.
    pub fn generate(config: &OneRosterSimConfig) -> District {
        let mut b = Builder {
            rng: fastrand::Rng::with_seed(config.seed),
            d: District::default(),
            base: Utc
                .with_ymd_and_hms(2026, 2, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            begin: date(2025, 8, 20),
            end: date(2026, 6, 15),
            schools: Vec::new(),
            next_student: 1001,
            next_guardian: 2001,
            next_teacher: 301,
            next_admin: 1,
            next_class: 1,
            next_enrollment: 1,
            guardians_per_student: config.guardians_per_student.max(0.0),
        };
        let mut cases = Cases::default();
        b.orgs(config.schools.max(1));
        b.sessions();
        let courses = b.courses(config.classes_per_school.clamp(1, SUBJECTS.len()));
        b.admins(&mut cases);
        b.teachers(config.teachers_per_school.max(1), &mut cases);
        b.classes(config.classes_per_school.max(1), &courses, &mut cases);
        let mut left = config.students;
        if config.students >= 20 {
            left -= b.case_families(&mut cases);
        }
        while left > 0 {
            let size = match b.rng.u32(0..100) {
                0..=54 => 1,
                55..=89 => 2,
                _ => 3,
            }
            .min(left);
            b.random_family(size);
            left -= size;
        }
        b.d.cases = cases;
        b.d.normalize();
        b.d
    }
}

impl Builder {
    fn modified(&mut self) -> DateTime<Utc> {
        self.base + Duration::seconds(self.rng.i64(0..30 * 24 * 3600))
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.usize(0..list.len())]
    }

    fn orgs(&mut self, schools: usize) {
        let modified = self.modified();
        let mut district = Org {
            sourced_id: "org-1".to_owned(),
            status: Status::Active,
            date_last_modified: modified,
            name: format!("{} Unified School District", self.pick_city()),
            kind: OrgType::District,
            identifier: format!("{:07}", self.rng.u32(100_000..9_999_999)),
            parent: None,
            children: Vec::new(),
        };
        for i in 0..schools {
            let id = format!("org-{}", i + 2);
            let name = names::SCHOOL_NAMES[i % names::SCHOOL_NAMES.len()];
            let name = if i < names::SCHOOL_NAMES.len() {
                name.to_owned()
            } else {
                format!("{name} {}", i / names::SCHOOL_NAMES.len() + 1)
            };
            let modified = self.modified();
            self.d.orgs.push(Org {
                sourced_id: id.clone(),
                status: Status::Active,
                date_last_modified: modified,
                name,
                kind: OrgType::School,
                identifier: format!("{}", 100 + i),
                parent: Some(district.sourced_id.clone()),
                children: Vec::new(),
            });
            district.children.push(id.clone());
            self.schools.push(SchoolPlan {
                id,
                ..SchoolPlan::default()
            });
        }
        self.d.orgs.push(district);
    }

    fn pick_city(&mut self) -> &'static str {
        names::CITIES[self.rng.usize(0..names::CITIES.len())].0
    }

    fn sessions(&mut self) {
        let terms = [
            (FALL, "Fall 2025", date(2025, 8, 20), date(2026, 1, 16)),
            (SPRING, "Spring 2026", date(2026, 1, 20), date(2026, 6, 15)),
        ];
        let modified = self.modified();
        self.d.sessions.push(AcademicSession {
            sourced_id: YEAR.to_owned(),
            status: Status::Active,
            date_last_modified: modified,
            title: "2025-2026".to_owned(),
            kind: SessionType::SchoolYear,
            start_date: self.begin,
            end_date: self.end,
            parent: None,
            children: terms.iter().map(|t| t.0.to_owned()).collect(),
            school_year: "2026".to_owned(),
        });
        for (id, title, start, end) in terms {
            let modified = self.modified();
            self.d.sessions.push(AcademicSession {
                sourced_id: id.to_owned(),
                status: Status::Active,
                date_last_modified: modified,
                title: title.to_owned(),
                kind: SessionType::Term,
                start_date: start,
                end_date: end,
                parent: Some(YEAR.to_owned()),
                children: Vec::new(),
                school_year: "2026".to_owned(),
            });
        }
    }

    fn courses(&mut self, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| {
                let id = format!("crs-{}", i + 1);
                let modified = self.modified();
                self.d.courses.push(Course {
                    sourced_id: id.clone(),
                    status: Status::Active,
                    date_last_modified: modified,
                    title: SUBJECTS[i].to_owned(),
                    course_code: format!("{}-{}", &SUBJECTS[i][..3].to_uppercase(), 100 + i),
                    school_year: YEAR.to_owned(),
                    grades: Vec::new(),
                    subjects: vec![SUBJECTS[i].to_owned()],
                    org: "org-1".to_owned(),
                });
                id
            })
            .collect()
    }

    /// A staff user (administrator or teacher) of `orgs`.
    fn staff(&mut self, id: String, role: Role, orgs: Vec<String>) {
        let female = self.rng.bool();
        let given = self.pick(if female { names::FEMALE } else { names::MALE });
        let family = self.pick(names::LAST);
        let email = format!(
            "{}.{}{}@{}",
            names::ascii_slug(given),
            names::ascii_slug(family),
            self.rng.u32(1..100),
            names::DISTRICT_DOMAIN
        );
        let number = id
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .to_owned();
        let modified = self.modified();
        self.d.users.push(User {
            sourced_id: id,
            status: Status::Active,
            date_last_modified: modified,
            username: email.clone(),
            user_ids: vec![UserId {
                kind: "FED".to_owned(),
                identifier: format!("E{number}"),
            }],
            enabled_user: true,
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            middle_name: String::new(),
            preferred_first_name: None,
            preferred_last_name: None,
            role,
            orgs,
            identifier: format!("E{number}"),
            email,
            sms: String::new(),
            phone: String::new(),
            agents: Vec::new(),
            grades: Vec::new(),
        });
    }

    fn admins(&mut self, cases: &mut Cases) {
        let id = format!("a-{}", self.next_admin);
        self.next_admin += 1;
        self.staff(
            id.clone(),
            Role::DistrictAdministrator,
            vec!["org-1".to_owned()],
        );
        cases.district_admin = id;
        for i in 0..self.schools.len() {
            let id = format!("a-{}", self.next_admin);
            self.next_admin += 1;
            let role = if i == 0 {
                Role::Principal
            } else {
                Role::SiteAdministrator
            };
            let school = self.schools[i].id.clone();
            self.staff(id.clone(), role, vec![school]);
            cases.site_admins.push(id);
        }
    }

    fn teachers(&mut self, per_school: usize, cases: &mut Cases) {
        for s in 0..self.schools.len() {
            for t in 0..per_school {
                let id = format!("t-{}", self.next_teacher);
                self.next_teacher += 1;
                let mut orgs = vec![self.schools[s].id.clone()];
                if s == 0 && t == 0 && self.schools.len() > 1 {
                    orgs.push(self.schools[1].id.clone());
                    cases.two_school_teacher = id.clone();
                }
                self.staff(id.clone(), Role::Teacher, orgs);
                self.schools[s].teachers.push(id);
            }
        }
    }

    fn enroll(
        &mut self,
        user: &str,
        class: &str,
        school: &str,
        role: EnrollmentRole,
        primary: bool,
    ) {
        let id = format!("e-{}", self.next_enrollment);
        self.next_enrollment += 1;
        let modified = self.modified();
        self.d.enrollments.push(Enrollment {
            sourced_id: id,
            status: Status::Active,
            date_last_modified: modified,
            user: user.to_owned(),
            class: class.to_owned(),
            school: school.to_owned(),
            role,
            primary,
            begin_date: self.begin,
            end_date: self.end,
        });
    }

    fn classes(&mut self, per_school: usize, courses: &[String], cases: &mut Cases) {
        let all_teachers: Vec<String> = self
            .schools
            .iter()
            .flat_map(|s| s.teachers.iter().cloned())
            .collect();
        for s in 0..self.schools.len() {
            let school = self.schools[s].id.clone();
            for c in 0..per_school {
                let id = if s == 0 && c == 0 {
                    cases.odd_id_class = "c-0 A+B".to_owned();
                    "c-0 A+B".to_owned()
                } else {
                    let id = format!("c-{}", self.next_class);
                    self.next_class += 1;
                    id
                };
                let course = c % courses.len();
                let homeroom = c == 0;
                let terms = if homeroom || self.rng.bool() {
                    vec![FALL.to_owned(), SPRING.to_owned()]
                } else if self.rng.bool() {
                    vec![FALL.to_owned()]
                } else {
                    vec![SPRING.to_owned()]
                };
                let grade = self.pick(GRADES);
                let modified = self.modified();
                let room = 100 + self.rng.u32(1..300);
                self.d.classes.push(Class {
                    sourced_id: id.clone(),
                    status: Status::Active,
                    date_last_modified: modified,
                    title: if homeroom {
                        format!("Homeroom {grade} - Room {room}")
                    } else {
                        format!("{} {grade} - Room {room}", SUBJECTS[course])
                    },
                    class_code: String::new(),
                    class_type: if homeroom {
                        ClassType::Homeroom
                    } else {
                        ClassType::Scheduled
                    },
                    location: format!("Room {room}"),
                    grades: vec![grade.to_owned()],
                    subjects: vec![SUBJECTS[course].to_owned()],
                    course: courses[course].clone(),
                    school: school.clone(),
                    terms,
                    periods: Vec::new(),
                });
                let teachers = self.schools[s].teachers.clone();
                let main = teachers[c % teachers.len()].clone();
                self.enroll(&main, &id, &school, EnrollmentRole::Teacher, true);
                let wants_second = if s == 0 && c == 1.min(per_school - 1) {
                    true
                } else {
                    self.rng.u32(0..100) < 15
                };
                let second = if teachers.len() > 1 {
                    Some(teachers[(c + 1) % teachers.len()].clone())
                } else {
                    all_teachers.iter().find(|t| **t != main).cloned()
                };
                if let (true, Some(second)) = (wants_second, second) {
                    if cases.second_teacher_class.is_empty() {
                        cases.second_teacher_class = id.clone();
                    }
                    self.enroll(&second, &id, &school, EnrollmentRole::Teacher, false);
                }
                self.schools[s].classes.push(id);
            }
        }
        // The last class of the first school (or of the district) is marked for deletion.
        let last = self
            .schools
            .first()
            .filter(|s| s.classes.len() >= 3)
            .or(self.schools.last())
            .and_then(|s| s.classes.last())
            .cloned()
            .unwrap_or_default();
        if let Some(class) = self.d.classes.iter_mut().find(|c| c.sourced_id == last) {
            class.status = Status::ToBeDeleted;
        }
        cases.tobedeleted_class = last;
    }
}
