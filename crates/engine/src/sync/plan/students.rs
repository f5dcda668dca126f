//! Students: a staged source student against the one we hold.

use model::change::{Entity, Operation};
use model::district::StudentIdSource;
use model::ids::{DistrictId, StudentId};
use model::roster::Student;
use model::run::PlanItem;
use model::source::SourceStudent;
use store::Synced;

use crate::sync::diff::{changes, student_fields};

/// The student id the district shows (seed 004, "STUDENT ID or STUDENT NUMBER"): the
/// student number, or the source's own student id (its SIS id where it has one).
pub fn shown_id(src: &SourceStudent, choice: StudentIdSource) -> String {
    match choice {
        StudentIdSource::StudentNumber => src.student_number.trim().to_owned(),
        StudentIdSource::SourceId if !src.sis_id.trim().is_empty() => src.sis_id.trim().to_owned(),
        StudentIdSource::SourceId => src.source_id.to_string(),
    }
}

/// Our student record of a source student.
pub fn student_from_source(src: &SourceStudent, id: StudentId, choice: StudentIdSource) -> Student {
    Student {
        id,
        source_id: src.source_id.clone(),
        student_number: shown_id(src, choice),
        state_id: src.state_id.trim().to_owned(),
        legal_first_name: src.legal_first_name.trim().to_owned(),
        legal_last_name: src.legal_last_name.trim().to_owned(),
        middle_name: src.middle_name.trim().to_owned(),
        birth_date: src.birth_date,
        gender: src.gender.clone(),
        school_source_id: src.school_source_id.clone(),
        grade: src.grade.trim().to_owned(),
        enrollment_status: src.enrollment_status.clone(),
        independent_student: src.independent_student,
        org_email: src.org_email.trim().to_owned(),
        personal_email: src.personal_email.trim().to_owned(),
        web_id: src.web_id.trim().to_owned(),
        archived: false,
    }
}

/// Our id of a source student (the held one's, or the id a new one gets), and the plan
/// item that brings it up to date — none when the source content has not changed.
pub fn student_item(
    district: &DistrictId,
    choice: StudentIdSource,
    src: &SourceStudent,
    hash: &str,
    held: Option<&Synced<Student>>,
) -> (StudentId, Option<PlanItem>) {
    let id = held.map_or_else(
        || StudentId::derived(district, &src.source_id),
        |h| h.value.id,
    );
    // The district's choice of id is part of what the sync writes: changing it updates
    // every student.
    let hash = match choice {
        StudentIdSource::StudentNumber => hash.to_owned(),
        StudentIdSource::SourceId => crate::sync::stage::content_hash(&(hash, "source_id")),
    };
    let hash = hash.as_str();
    if let Some(h) = held {
        if h.source_hash == hash && !h.value.archived {
            return (id, None);
        }
    }
    let student = student_from_source(src, id, choice);
    let operation = match held {
        None => Operation::Create,
        Some(h) if h.value.archived => Operation::Unarchive,
        Some(_) => Operation::Update,
    };
    let old = held.map(|h| student_fields(&h.value));
    let record = student.id.to_string();
    let item = PlanItem::Student {
        operation,
        changes: changes(
            Entity::Student,
            &record,
            operation,
            old.as_ref(),
            &student_fields(&student),
        ),
        student,
        source_hash: hash.to_owned(),
    };
    (id, Some(item))
}

/// The archiving of a held student the complete pull did not list.
pub fn archive_item(held: Synced<Student>) -> PlanItem {
    let old = student_fields(&held.value);
    let student = Student {
        archived: true,
        ..held.value
    };
    let record = student.id.to_string();
    PlanItem::Student {
        operation: Operation::Archive,
        changes: changes(
            Entity::Student,
            &record,
            Operation::Archive,
            Some(&old),
            &student_fields(&student),
        ),
        student,
        source_hash: held.source_hash,
    }
}
