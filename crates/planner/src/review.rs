//! Reviewing a held plan: which items an approver's exclusions keep out of the apply, and
//! the items that cannot apply without them.
//!
//! A plan applies a record before what refers to it ([`crate::Phase`]), so one pass in
//! plan order sees every excluded creation before anything that depends on it: a
//! student's contacts, links and enrollments; a guardian's links; a classroom's or a staff
//! member's enrollments; the students, staff and classrooms of a school. Whatever an
//! exclusion keeps out stays unapplied, so the district's next run plans it again.

use std::collections::{HashMap, HashSet};

use model::change::Operation;
use model::ids::{GuardianId, SourceId, StudentId};
use model::roster::EnrollmentRole;
use model::run::{Excluded, ExclusionTarget, PlanItem};

/// A record a plan creates, as what depends on it names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Parent {
    Student(StudentId),
    StudentSource(SourceId),
    Guardian(GuardianId),
    StaffSource(SourceId),
    Classroom(SourceId),
    School(SourceId),
}

/// An exclusion that keeps nothing out of the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("exclusion {index}: plan item {seq} is not in the plan")]
    NoSuchItem { index: usize, seq: u64 },
    #[error("exclusion {index} ({what}) selects no change of the plan")]
    SelectsNothing { index: usize, what: String },
}

/// Judges a plan's items, in plan order, against an approver's exclusions.
#[derive(Debug)]
pub struct Review<'a> {
    targets: &'a [ExclusionTarget],
    /// Item numbers each `Items` exclusion names, by exclusion.
    seqs: Vec<HashSet<u64>>,
    /// The source id of each excluded student: from the district's records, or learned
    /// from its plan item (a student the plan creates).
    student_sources: HashMap<StudentId, SourceId>,
    /// Excluded creations: the item that would have made each, and its exclusion.
    kept_out: HashMap<Parent, (u64, u32)>,
    /// Plan items each exclusion kept out, dependents included.
    counts: Vec<u64>,
    /// Item numbers of `Items` exclusions seen in the plan.
    seen: HashSet<u64>,
}

impl<'a> Review<'a> {
    /// A review of `targets`; `student_sources` holds the source id of each excluded
    /// student the district already holds.
    pub fn new(
        targets: &'a [ExclusionTarget],
        student_sources: HashMap<StudentId, SourceId>,
    ) -> Self {
        let seqs = targets
            .iter()
            .map(|t| match t {
                ExclusionTarget::Items { seqs } => seqs.iter().copied().collect(),
                _ => HashSet::new(),
            })
            .collect();
        Review {
            targets,
            seqs,
            student_sources,
            kept_out: HashMap::new(),
            counts: vec![0; targets.len()],
            seen: HashSet::new(),
        }
    }

    /// Whether item `seq` is kept out, and why. Items must come in plan order.
    pub fn judge(&mut self, seq: u64, item: &PlanItem) -> Option<Excluded> {
        if let PlanItem::Student { student, .. } = item {
            if self.is_excluded_student(&student.id) {
                self.student_sources
                    .entry(student.id)
                    .or_insert_with(|| student.source_id.clone());
            }
        }
        let excluded = match self.selected(seq, item) {
            Some(exclusion) => Some(Excluded {
                exclusion,
                via: None,
            }),
            None => self.depends_on(item).map(|(via, exclusion)| Excluded {
                exclusion,
                via: Some(via),
            }),
        }?;
        self.counts[excluded.exclusion as usize] += 1;
        if item.operation() == Operation::Create {
            for parent in made_by(item) {
                self.kept_out
                    .entry(parent)
                    .or_insert((seq, excluded.exclusion));
            }
        }
        Some(excluded)
    }

    /// How many plan items each exclusion kept out, once the whole plan was judged; an
    /// exclusion that keeps nothing out is refused, as is an item number the plan does
    /// not hold.
    pub fn finish(self) -> Result<Vec<u64>, ReviewError> {
        for (index, target) in self.targets.iter().enumerate() {
            if let ExclusionTarget::Items { seqs } = target {
                if let Some(seq) = seqs.iter().find(|s| !self.seen.contains(s)) {
                    return Err(ReviewError::NoSuchItem { index, seq: *seq });
                }
            }
            if self.counts[index] == 0 {
                return Err(ReviewError::SelectsNothing {
                    index,
                    what: target.describe(),
                });
            }
        }
        Ok(self.counts)
    }

    fn is_excluded_student(&self, id: &StudentId) -> bool {
        self.targets
            .iter()
            .any(|t| matches!(t, ExclusionTarget::Student { id: s } if s == id))
    }

    /// The first exclusion that names the item itself.
    fn selected(&mut self, seq: u64, item: &PlanItem) -> Option<u32> {
        let mut found = None;
        for (index, target) in self.targets.iter().enumerate() {
            let hit = match target {
                ExclusionTarget::Items { .. } => {
                    let hit = self.seqs[index].contains(&seq);
                    if hit {
                        self.seen.insert(seq);
                    }
                    hit
                }
                ExclusionTarget::Changes { entity, operation } => {
                    entity.is_none_or(|e| e == item.entity())
                        && operation.is_none_or(|o| o == item.operation())
                }
                ExclusionTarget::Student { id } => self.is_about_student(item, id),
            };
            if hit && found.is_none() {
                found = Some(index as u32);
            }
        }
        found
    }

    /// Whether the item changes the student or something that is the student's.
    fn is_about_student(&self, item: &PlanItem, id: &StudentId) -> bool {
        let source = self.student_sources.get(id);
        match item {
            PlanItem::Student { student, .. } => student.id == *id,
            PlanItem::Link { link, .. } => link.student_id == *id,
            PlanItem::Contact { contact, .. } => source == Some(&contact.student_source_id),
            PlanItem::Enrollment { enrollment, .. } => {
                enrollment.role == EnrollmentRole::Student
                    && source == Some(&enrollment.person_source_id)
            }
            _ => false,
        }
    }

    /// The excluded creation the item refers to, if any: its item and exclusion.
    fn depends_on(&self, item: &PlanItem) -> Option<(u64, u32)> {
        if self.kept_out.is_empty() {
            return None;
        }
        refers_to(item)
            .into_iter()
            .find_map(|parent| self.kept_out.get(&parent).copied())
    }
}

/// What a creation makes, as dependents name it.
fn made_by(item: &PlanItem) -> Vec<Parent> {
    match item {
        PlanItem::Student { student, .. } => vec![
            Parent::Student(student.id),
            Parent::StudentSource(student.source_id.clone()),
        ],
        PlanItem::Guardian { guardian, .. } => vec![Parent::Guardian(guardian.id)],
        PlanItem::Staff { staff, .. } => vec![Parent::StaffSource(staff.source_id.clone())],
        PlanItem::Classroom { classroom, .. } => {
            vec![Parent::Classroom(classroom.source_id.clone())]
        }
        PlanItem::School { school, .. } => vec![Parent::School(school.source_id.clone())],
        PlanItem::Link { .. } | PlanItem::Contact { .. } | PlanItem::Enrollment { .. } => {
            Vec::new()
        }
    }
}

/// The records an item cannot apply without.
fn refers_to(item: &PlanItem) -> Vec<Parent> {
    match item {
        PlanItem::Student { student, .. } => student
            .school_source_id
            .iter()
            .map(|s| Parent::School(s.clone()))
            .collect(),
        PlanItem::Staff { staff, .. } => staff
            .school_source_ids
            .iter()
            .map(|s| Parent::School(s.clone()))
            .collect(),
        PlanItem::Classroom { classroom, .. } => {
            vec![Parent::School(classroom.school_source_id.clone())]
        }
        PlanItem::Link { link, .. } => vec![
            Parent::Student(link.student_id),
            Parent::Guardian(link.guardian_id),
        ],
        PlanItem::Contact { contact, .. } => {
            vec![Parent::StudentSource(contact.student_source_id.clone())]
        }
        PlanItem::Enrollment { enrollment, .. } => vec![
            Parent::Classroom(enrollment.classroom_source_id.clone()),
            match enrollment.role {
                EnrollmentRole::Student => {
                    Parent::StudentSource(enrollment.person_source_id.clone())
                }
                EnrollmentRole::Teacher => Parent::StaffSource(enrollment.person_source_id.clone()),
            },
        ],
        PlanItem::Guardian { .. } | PlanItem::School { .. } => Vec::new(),
    }
}
