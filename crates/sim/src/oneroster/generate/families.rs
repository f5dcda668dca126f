//! Families: students of random schools enrolled in their school's classes, guardians
//! sharing a family name and home with contact details drawn or given, and the links
//! between them — the case families of [`crate::oneroster::cases`] first, then random ones.

use super::{Builder, Contact, ALL, GRADES};
use crate::kit::names;
use crate::oneroster::cases::Cases;
use crate::oneroster::data::*;

impl Builder {
    /// Adds a student of a random school; answers its index in `users`.
    fn student(&mut self, family: &str) -> usize {
        let s = self.rng.usize(0..self.schools.len());
        let number = self.next_student;
        self.next_student += 1;
        let id = format!("s-{number}");
        let female = self.rng.bool();
        let given = self.pick(if female { names::FEMALE } else { names::MALE });
        let grade = match self.rng.u32(0..100) {
            0..=1 => "PK",
            2 => "Other",
            _ => self.pick(GRADES),
        };
        let student_number = format!("{}", 700_000 + number);
        let email = format!(
            "{}.{}{}@students.{}",
            names::ascii_slug(given),
            names::ascii_slug(family),
            number,
            names::DISTRICT_DOMAIN
        );
        let middle_name = if self.rng.u32(0..3) == 0 {
            self.pick(names::MIDDLE).to_owned()
        } else {
            String::new()
        };
        let modified = self.modified();
        let school = self.schools[s].id.clone();
        self.d.users.push(User {
            sourced_id: id.clone(),
            status: Status::Active,
            date_last_modified: modified,
            username: email.clone(),
            user_ids: vec![UserId {
                kind: "FED".to_owned(),
                identifier: student_number.clone(),
            }],
            enabled_user: true,
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            middle_name,
            preferred_first_name: None,
            preferred_last_name: None,
            role: Role::Student,
            orgs: vec![school.clone()],
            identifier: student_number,
            email,
            sms: String::new(),
            phone: String::new(),
            agents: Vec::new(),
            grades: vec![grade.to_owned()],
        });
        // 2–4 distinct classes of its school.
        let classes = &self.schools[s].classes;
        let want = self.rng.usize(2..=4).min(classes.len());
        let mut chosen: Vec<usize> = Vec::with_capacity(want);
        while chosen.len() < want {
            let c = self.rng.usize(0..classes.len());
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        let picked: Vec<String> = chosen.iter().map(|&c| classes[c].clone()).collect();
        for class in picked {
            self.enroll(&id, &class, &school, EnrollmentRole::Student, false);
        }
        self.d.users.len() - 1
    }

    /// Adds a guardian of `role` reachable as `contact`, of the org of `student`.
    fn guardian(&mut self, role: Role, family: &str, contact: Contact, student: usize) -> usize {
        let number = self.next_guardian;
        self.next_guardian += 1;
        let female = self.rng.bool();
        let given = self.pick(if female { names::FEMALE } else { names::MALE });
        let family = if self.rng.u32(0..5) == 0 {
            self.pick(names::LAST)
        } else {
            family
        };
        let email = if contact.email {
            format!(
                "{}.{}{}@{}",
                names::ascii_slug(given),
                names::ascii_slug(family),
                number,
                self.pick(names::EMAIL_DOMAINS)
            )
        } else {
            String::new()
        };
        let sms = if contact.sms {
            format!("+1555{:07}", self.rng.u32(0..10_000_000))
        } else {
            String::new()
        };
        let phone = if contact.phone {
            format!(
                "555-{:03}-{:04}",
                self.rng.u32(0..1000),
                self.rng.u32(0..10_000)
            )
        } else {
            String::new()
        };
        let modified = self.modified();
        let org = self.d.users[student]
            .orgs
            .first()
            .cloned()
            .unwrap_or_default();
        self.d.users.push(User {
            sourced_id: format!("g-{number}"),
            status: Status::Active,
            date_last_modified: modified,
            username: String::new(),
            user_ids: vec![UserId {
                kind: "FED".to_owned(),
                identifier: format!("{number}"),
            }],
            enabled_user: true,
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            middle_name: String::new(),
            preferred_first_name: None,
            preferred_last_name: None,
            role,
            orgs: vec![org],
            identifier: String::new(),
            email,
            sms,
            phone,
            agents: Vec::new(),
            grades: Vec::new(),
        });
        self.d.users.len() - 1
    }

    /// Ties a guardian to a student through `agents`, on the sides asked for.
    fn link(&mut self, guardian: usize, student: usize, on_student: bool, on_guardian: bool) {
        let g = self.d.users[guardian].sourced_id.clone();
        let s = self.d.users[student].sourced_id.clone();
        if on_student {
            self.d.users[student].agents.push(g);
        }
        if on_guardian {
            self.d.users[guardian].agents.push(s);
        }
    }

    fn id(&self, user: usize) -> String {
        self.d.users[user].sourced_id.clone()
    }

    fn random_contact(&mut self) -> Contact {
        let (sms, phone) = match self.rng.u32(0..100) {
            0..=39 => (true, true),
            40..=69 => (true, false),
            70..=84 => (false, true),
            _ => (false, false),
        };
        Contact {
            email: self.rng.u32(0..100) < 85,
            sms,
            phone,
        }
    }

    pub(super) fn random_family(&mut self, size: usize) {
        let family = self.pick(names::LAST);
        let students: Vec<usize> = (0..size).map(|_| self.student(family)).collect();
        let target = self.guardians_per_student * size as f64;
        let mut count = target.floor() as usize;
        if self.rng.f64() < target - target.floor() {
            count += 1;
        }
        for _ in 0..count.min(4) {
            let role = match self.rng.u32(0..100) {
                0..=64 => Role::Parent,
                65..=89 => Role::Guardian,
                _ => Role::Relative,
            };
            let contact = self.random_contact();
            let g = self.guardian(role, family, contact, students[0]);
            for &s in &students {
                self.link(g, s, true, true);
            }
        }
    }

    /// One student of a new family with one guardian of `role` linked both ways.
    fn simple_family(&mut self, role: Role, contact: Contact) -> (usize, usize) {
        let family = self.pick(names::LAST);
        let s = self.student(family);
        let g = self.guardian(role, family, contact, s);
        self.link(g, s, true, true);
        (s, g)
    }

    /// Builds the case families; answers how many students they hold.
    pub(super) fn case_families(&mut self, cases: &mut Cases) -> usize {
        let first = self.next_student;
        let family = self.pick(names::LAST);
        let s = self.student(family);
        let g = self.guardian(Role::Parent, family, ALL, s);
        self.link(g, s, true, false);
        cases.agent_student_side_student = self.id(s);
        cases.agent_student_side_guardian = self.id(g);

        let family = self.pick(names::LAST);
        let s = self.student(family);
        let g = self.guardian(Role::Guardian, family, ALL, s);
        self.link(g, s, false, true);
        cases.agent_guardian_side_student = self.id(s);
        cases.agent_guardian_side_guardian = self.id(g);

        for role in [Role::Guardian, Role::Parent, Role::Relative] {
            let (_, g) = self.simple_family(role, ALL);
            cases
                .role_guardians
                .insert(role.v1p1().to_owned(), self.id(g));
        }

        let (s, g) = self.simple_family(
            Role::Parent,
            Contact {
                email: true,
                sms: false,
                phone: false,
            },
        );
        cases.no_phone_guardian = self.id(g);
        let family = self.d.users[s].family_name.clone();
        let g = self.guardian(Role::Guardian, &family, ALL, s);
        self.link(g, s, true, true);
        self.d.users[g].enabled_user = false;
        cases.disabled_guardian = self.id(g);

        let (s, g) = self.simple_family(Role::Parent, ALL);
        self.d.users[g].status = Status::ToBeDeleted;
        cases.tobedeleted_guardian = self.id(g);
        let family = self.d.users[s].family_name.clone();
        let g = self.guardian(Role::Parent, &family, ALL, s);
        self.link(g, s, true, true);

        let (s, _) = self.simple_family(Role::Parent, ALL);
        self.d.users[s].status = Status::ToBeDeleted;
        cases.tobedeleted_student = self.id(s);

        let (s, _) = self.simple_family(Role::Parent, ALL);
        self.d.users[s].status = Status::Inactive;
        cases.inactive_student = self.id(s);

        let family = self.pick(names::LAST);
        let siblings = [self.student(family), self.student(family)];
        let g = self.guardian(Role::Parent, family, ALL, siblings[0]);
        let other = self.guardian(Role::Guardian, family, ALL, siblings[0]);
        for s in siblings {
            self.link(g, s, true, true);
            self.link(other, s, true, true);
        }
        cases.two_students_guardian = self.id(g);
        cases.two_students = siblings.iter().map(|&s| self.id(s)).collect();
        let preferred = &mut self.d.users[siblings[0]];
        preferred.preferred_first_name = Some(format!("{}y", preferred.given_name));
        preferred.preferred_last_name = Some(format!("{}-Lee", preferred.family_name));
        cases.preferred_name_student = self.id(siblings[0]);

        let family = self.pick(names::LAST);
        let s = self.student(family);
        cases.guardianless_student = self.id(s);

        let (s, _) = self.simple_family(Role::Parent, ALL);
        cases.dangling_agent_id = "g-0404-missing".to_owned();
        self.d.users[s].agents.push(cases.dangling_agent_id.clone());
        cases.dangling_agent_student = self.id(s);

        let (s, g) = self.simple_family(
            Role::Parent,
            Contact {
                email: true,
                sms: true,
                phone: false,
            },
        );
        cases.sms_only_guardian = self.id(g);
        let family = self.d.users[s].family_name.clone();
        let g = self.guardian(
            Role::Guardian,
            &family,
            Contact {
                email: true,
                sms: false,
                phone: true,
            },
            s,
        );
        self.link(g, s, true, true);
        cases.phone_only_guardian = self.id(g);

        let (_, g) = self.simple_family(Role::Relative, ALL);
        cases.sms_and_phone_guardian = self.id(g);

        (self.next_student - first) as usize
    }
}
