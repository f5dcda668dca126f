//! Students: a staged source student against the one we hold.

use model::change::{Entity, Operation};
use model::district::StudentIdSource;
use model::ids::{DistrictId, StudentId};
use model::roster::Student;
use model::run::PlanItem;
use model::source::SourceStudent;
use store::Synced;

use model::fields::{changes, student_fields};

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

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::SourceId;
    use model::roster::{EnrollmentStatus, Gender};

    fn clever_student() -> SourceStudent {
        SourceStudent {
            source_id: SourceId::new("5f1c2a9e"),
            student_number: "20311".into(),
            sis_id: "S-4101".into(),
            state_id: String::new(),
            legal_first_name: "Jamie".into(),
            legal_last_name: "Doe".into(),
            middle_name: String::new(),
            birth_date: None,
            gender: Gender::Female,
            school_source_id: None,
            grade: "7".into(),
            enrollment_status: EnrollmentStatus::Active,
            independent_student: false,
            org_email: String::new(),
            personal_email: String::new(),
            web_id: String::new(),
            email: String::new(),
            home_phone: String::new(),
            mailing_address: None,
            physical_address: None,
        }
    }

    #[test]
    fn the_district_chooses_the_student_id_it_shows() {
        let s = clever_student();
        assert_eq!(shown_id(&s, StudentIdSource::StudentNumber), "20311");
        assert_eq!(shown_id(&s, StudentIdSource::SourceId), "S-4101");
        let without_sis_id = SourceStudent {
            sis_id: String::new(),
            ..clever_student()
        };
        assert_eq!(
            shown_id(&without_sis_id, StudentIdSource::SourceId),
            "5f1c2a9e"
        );
    }

    #[test]
    fn changing_the_choice_updates_a_student_whose_source_did_not_change() {
        let d: DistrictId = "cbe".parse().expect("id");
        let s = clever_student();
        let (id, created) = student_item(&d, StudentIdSource::StudentNumber, &s, "h", None);
        let Some(PlanItem::Student {
            student,
            source_hash,
            ..
        }) = created
        else {
            panic!("a creation")
        };
        assert_eq!(id, StudentId::derived(&d, &s.source_id));
        let held = Synced {
            value: student,
            source_hash,
        };
        let (_, same) = student_item(&d, StudentIdSource::StudentNumber, &s, "h", Some(&held));
        assert!(same.is_none(), "nothing moved, nothing planned");
        let (_, moved) = student_item(&d, StudentIdSource::SourceId, &s, "h", Some(&held));
        let Some(PlanItem::Student { changes, .. }) = moved else {
            panic!("an update")
        };
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (changes[0].field.as_str(), changes[0].new_value.as_deref()),
            ("student_number", Some("S-4101"))
        );
    }
}
