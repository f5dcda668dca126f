//! Sections: a homeroom for each teacher of a school and subject sections, in one term.

use super::{capitalize, Builder};
use crate::clever::cases::Cases;
use crate::clever::data::*;

const SUBJECTS: &[&str] = &[
    "english/language arts",
    "math",
    "science",
    "social studies",
    "language",
    "interventions/online learning",
    "technology and engineering",
    "PE and health",
    "arts and music",
    "other",
];

impl Builder {
    /// A homeroom for each teacher of a school (its students shared among them) and one
    /// or two subject sections per teacher; the first homeroom gets a second teacher.
    pub(super) fn sections(&mut self, c: &mut Cases) {
        let term_id = self.d.new_id();
        let courses: Vec<String> = (0..=SUBJECTS.len()).map(|_| self.d.new_id()).collect();
        let mut period = 0u32;
        for index in 0..self.d.schools.len() {
            let school = self.school_id(index);
            let homeroom_teachers: Vec<String> = self
                .d
                .users_with_role(Role::Teacher)
                .filter(|u| u.roles.teacher.as_ref().is_some_and(|t| t.school == school))
                .map(|u| u.id.clone())
                .collect();
            let teachers: Vec<String> = self
                .d
                .users_with_role(Role::Teacher)
                .filter(|u| u.schools().contains(&school.as_str()))
                .map(|u| u.id.clone())
                .collect();
            let mut students: Vec<(String, String)> = self
                .d
                .users
                .iter()
                .filter_map(|u| {
                    let s = u.roles.student.as_ref()?;
                    (s.school == school).then(|| (u.id.clone(), s.grade.clone()))
                })
                .collect();
            self.rng.shuffle(&mut students);
            let groups = homeroom_teachers.len().max(1);
            for (n, teacher) in homeroom_teachers.iter().enumerate() {
                let members: Vec<&(String, String)> =
                    students.iter().skip(n).step_by(groups).collect();
                let grade = match members.first() {
                    Some((_, first)) if members.iter().all(|(_, g)| g == first) => first.clone(),
                    _ => String::new(),
                };
                let ids = members.iter().map(|(id, _)| id.clone()).collect();
                let name = format!("Homeroom - {}", self.last_name(teacher));
                let course = courses.last().cloned().unwrap_or_default();
                let id = self.add_section(
                    &school,
                    &term_id,
                    &course,
                    name,
                    "homeroom/advisory",
                    "0",
                    grade,
                    teacher,
                    ids,
                );
                if index == 0 && n == 0 {
                    let co = teachers.iter().find(|t| *t != teacher).cloned();
                    if let (Some(co), Some(section)) =
                        (co, self.d.sections.iter_mut().find(|s| s.id == id))
                    {
                        section.teachers.push(co);
                        c.two_teacher_section = id;
                    }
                }
            }
            for teacher in &teachers {
                for _ in 0..self.rng.usize(1..3) {
                    let subject_index = self.rng.usize(0..SUBJECTS.len());
                    let subject = SUBJECTS[subject_index];
                    period = period % 8 + 1;
                    let size = self.rng.usize(4..21).min(students.len());
                    let mut ids: Vec<String> = students.iter().map(|(id, _)| id.clone()).collect();
                    self.rng.shuffle(&mut ids);
                    ids.truncate(size);
                    ids.sort();
                    let title = subject.split('/').next().unwrap_or(subject);
                    let name = format!(
                        "{} {period} - {}",
                        capitalize(title),
                        self.last_name(teacher)
                    );
                    let course = courses.get(subject_index).cloned().unwrap_or_default();
                    self.add_section(
                        &school,
                        &term_id,
                        &course,
                        name,
                        subject,
                        &period.to_string(),
                        String::new(),
                        teacher,
                        ids,
                    );
                }
            }
        }
    }

    pub(super) fn last_name(&self, user: &str) -> String {
        self.d
            .user(user)
            .and_then(|u| u.name.last.clone())
            .unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_section(
        &mut self,
        school: &str,
        term_id: &str,
        course: &str,
        name: String,
        subject: &str,
        period: &str,
        grade: String,
        teacher: &str,
        mut students: Vec<String>,
    ) -> String {
        let (id, created, last_modified) = self.stamp();
        students.sort();
        let sis_id = self.sis_number();
        let section_number = if self.rng.bool() {
            String::new()
        } else {
            format!("S-{}", self.rng.u32(100..999))
        };
        self.d.sections.push(Section {
            id: id.clone(),
            created,
            last_modified,
            school: school.to_owned(),
            course: course.to_owned(),
            term_id: term_id.to_owned(),
            name,
            sis_id,
            section_number,
            period: period.to_owned(),
            grade,
            subject: subject.to_owned(),
            teacher: Some(teacher.to_owned()),
            teachers: vec![teacher.to_owned()],
            students,
        });
        id
    }
}
