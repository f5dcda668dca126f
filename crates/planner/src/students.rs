//! Students: a staged source student against the one we hold; a student a source lists
//! under a new id re-keyed to the one we hold; held students a complete pull did not list
//! archived.

use std::collections::{HashMap, HashSet};

use model::change::{Entity, Operation};
use model::district::StudentIdSource;
use model::ids::{DistrictId, SourceId, StudentId};
use model::roster::Student;
use model::run::PlanItem;
use model::source::SourceStudent;
use model::Synced;

use crate::Planned;

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
        StudentIdSource::SourceId => crate::content_hash(&(hash, "source_id")),
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

/// The archiving of the held students a complete pull did not list, but for those
/// re-keyed to a new source id this run.
pub fn student_archives(absent: &[Synced<Student>], rekeyed: &HashSet<StudentId>) -> Vec<Planned> {
    absent
        .iter()
        .filter(|h| !rekeyed.contains(&h.value.id))
        .map(|h| Planned::at_school(archive_item(h.clone()), h.value.school_source_id.as_ref()))
        .collect()
}

/// The student numbers a re-key could match: the shown ids of the page's students we do
/// not hold. The driver reads the held students with these numbers.
pub fn rekey_numbers(
    students: &[(SourceStudent, String)],
    held: &HashMap<SourceId, Synced<Student>>,
    choice: StudentIdSource,
) -> Vec<String> {
    students
        .iter()
        .filter(|(s, _)| !held.contains_key(&s.source_id))
        .map(|(s, _)| shown_id(s, choice))
        .filter(|n| !n.is_empty())
        .collect()
}

/// What a re-key of a page's students is decided from.
#[derive(Debug, Clone, Copy)]
pub struct RekeyFacts<'a> {
    /// Held students whose number one of the page's unheld students shows.
    pub candidates: &'a [Synced<Student>],
    /// The candidates' source ids this pull still lists.
    pub listed: &'a HashSet<String>,
    /// Students re-keyed by earlier pages.
    pub rekeyed: &'a HashSet<StudentId>,
}

/// Identity churn of students: a source may list a student we hold under a new id
/// (Clever, after its `sis_id` changed or 300+ days unshared). A student we do not hold
/// whose shown id (the district's choice of student number or SIS id), legal names and
/// birth date are those of exactly one student we hold whose own id the pull no longer
/// lists is that student: `held` gets it under the new id, so the same record is updated
/// (and unarchived) rather than archived and created again. Returns the re-keyed
/// students and a warning for each.
pub fn rekey_students(
    students: &[(SourceStudent, String)],
    held: &mut HashMap<SourceId, Synced<Student>>,
    choice: StudentIdSource,
    facts: &RekeyFacts<'_>,
) -> (Vec<StudentId>, Vec<String>) {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let mut rekeyed: Vec<StudentId> = Vec::new();
    let mut warnings = Vec::new();
    for (src, _) in students {
        if held.contains_key(&src.source_id) {
            continue;
        }
        let shown = shown_id(src, choice);
        if shown.is_empty() {
            continue;
        }
        let matching: Vec<&Synced<Student>> = facts
            .candidates
            .iter()
            .filter(|c| {
                let h = &c.value;
                !facts.listed.contains(h.source_id.as_str())
                    && !facts.rekeyed.contains(&h.id)
                    && !rekeyed.contains(&h.id)
                    && h.student_number == shown
                    && same(&h.legal_first_name, &src.legal_first_name)
                    && same(&h.legal_last_name, &src.legal_last_name)
                    && h.birth_date == src.birth_date
            })
            .collect();
        let [found] = matching[..] else { continue };
        rekeyed.push(found.value.id);
        warnings.push(format!(
            "student {} re-keyed from source id {} to {}: the source no longer lists {}, and the new record has the same student id {shown}, names and birth date",
            found.value.id, found.value.source_id, src.source_id, found.value.source_id
        ));
        held.insert(src.source_id.clone(), found.clone());
    }
    (rekeyed, warnings)
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
