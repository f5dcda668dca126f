//! Staff and teachers: each a user with a name and an e-mail on the district's domain,
//! then the roles it holds — district administrators, school staff with their titles, and
//! the teachers of each school.

use super::Builder;
use crate::clever::cases::Cases;
use crate::clever::data::*;
use crate::kit::names;

const STAFF_TITLES: &[(&str, &str)] = &[
    ("Office Manager", "Administration"),
    ("Counselor", "Student Services"),
    ("Librarian", "Library"),
    ("Nurse", "Health"),
];

impl Builder {
    pub(super) fn school_id(&self, index: usize) -> String {
        self.d
            .schools
            .get(index % self.d.schools.len().max(1))
            .map(|s| s.id.clone())
            .unwrap_or_default()
    }

    /// A user with a name, an e-mail on the district's domain and no roles yet.
    pub(super) fn add_staff_user(&mut self) -> String {
        let (id, created, last_modified) = self.stamp();
        let female = self.rng.bool();
        let (first, middle, last) = self.person_name(female);
        let email = format!(
            "{}.{}{}@{}",
            names::ascii_slug(&first),
            names::ascii_slug(&last),
            self.d.ids.next,
            names::DISTRICT_DOMAIN
        );
        self.d.users.push(User {
            id: id.clone(),
            created,
            last_modified,
            email: Some(email),
            name: Name::new(&first, &middle, &last),
            roles: Roles::default(),
        });
        id
    }

    pub(super) fn username(&self, id: &str) -> String {
        self.d
            .user(id)
            .and_then(|u| u.email.as_deref())
            .and_then(|e| e.split('@').next())
            .unwrap_or_default()
            .to_owned()
    }

    /// The district admin, each school's principal and office staff, and the staff member
    /// with several roles.
    pub(super) fn staff(&mut self, c: &mut Cases) {
        let admin = self.add_staff_user();
        let legacy_id = self.legacy_id();
        let title = "Director of Technology";
        if let Some(user) = self.d.user_mut(&admin) {
            user.roles.district_admin = Some(DistrictAdminRole {
                title: title.to_owned(),
                legacy_id,
            });
            let (email, name) = (user.email.clone().unwrap_or_default(), user.name.clone());
            let record = &mut self.d.record;
            record.contact_id.clone_from(&admin);
            record.contact_email = email;
            record.contact_name = name;
            record.contact_title = title.to_owned();
        }
        c.district_admin = admin;
        for school in 0..self.d.schools.len() {
            let principal = self.add_staff_user();
            self.give_staff(
                &principal,
                "Principal",
                "Administration",
                &["Principal"],
                &[school],
            );
            if self.rng.bool() {
                let (title, department) = STAFF_TITLES[self.rng.usize(0..STAFF_TITLES.len())];
                let staff = self.add_staff_user();
                self.give_staff(&staff, title, department, &[title], &[school]);
            }
        }
        let several = self.add_staff_user();
        let schools: Vec<usize> = (0..self.d.schools.len().min(2)).collect();
        self.give_staff(
            &several,
            "Assistant Principal",
            "Administration",
            &["Assistant Principal", "Counselor", "Technology Coordinator"],
            &schools,
        );
        c.several_roles_staff = several;
    }

    pub(super) fn give_staff(
        &mut self,
        id: &str,
        title: &str,
        department: &str,
        roles: &[&str],
        schools: &[usize],
    ) {
        let staff_id = format!("E{}", self.sis_number());
        let legacy_id = self.legacy_id();
        let district_username = self.username(id);
        let schools = schools.iter().map(|&s| self.school_id(s)).collect();
        if let Some(user) = self.d.user_mut(id) {
            user.roles.staff = Some(StaffRole {
                staff_id,
                title: title.to_owned(),
                department: department.to_owned(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                schools,
                legacy_id,
                district_username,
            });
        }
    }

    /// `per_school` teachers in each school, one of whom (in the first school) also holds
    /// a staff role, and a teacher of the first two schools.
    pub(super) fn teachers(&mut self, per_school: usize, c: &mut Cases) {
        for school in 0..self.d.schools.len() {
            for n in 0..per_school {
                let id = self.add_teacher(&[school]);
                if school == 0 && n == 0 {
                    self.give_staff(
                        &id,
                        "Department Head",
                        "Mathematics",
                        &["Department Head"],
                        &[0],
                    );
                    c.teacher_and_staff = id;
                }
            }
        }
        if self.d.schools.len() >= 2 {
            c.two_school_teacher = self.add_teacher(&[0, 1]);
        }
    }

    pub(super) fn add_teacher(&mut self, schools: &[usize]) -> String {
        let id = self.add_staff_user();
        let sis_id = format!("T{}", self.sis_number());
        let teacher_number = self.sis_number();
        let state_id = format!("{:08}", self.rng.u32(10_000_000..99_999_999));
        let title = self.pick(&["Teacher", "Teacher", "Lead Teacher", "Substitute", ""]);
        let legacy_id = self.legacy_id();
        let district_username = self.username(&id);
        let schools: Vec<String> = schools.iter().map(|&s| self.school_id(s)).collect();
        if let Some(user) = self.d.user_mut(&id) {
            user.roles.teacher = Some(TeacherRole {
                sis_id,
                teacher_number,
                state_id,
                title: title.to_owned(),
                school: schools.first().cloned().unwrap_or_default(),
                schools,
                legacy_id,
                district_username,
            });
        }
        id
    }
}
