//! Students: read one, and write many in one statement per batch.

use chrono::Utc;
use model::ids::{DistrictId, SourceId, StudentId};
use model::roster::{EnrollmentStatus, Gender, Student};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::convert::{found, parse};
use crate::entities::students as row;
use crate::{Store, StoreError, Synced, BATCH_ROWS};

const ENTITY: &str = "student";

impl Store {
    pub async fn get_student(
        &self,
        district: &DistrictId,
        id: StudentId,
    ) -> Result<Student, StoreError> {
        let row = row::Entity::find_by_id((district.to_string(), id.to_string()))
            .one(self.db())
            .await?;
        found(row, ENTITY, || id.to_string(), from_row)
    }

    pub async fn find_student_by_source(
        &self,
        district: &DistrictId,
        source_id: &SourceId,
    ) -> Result<Student, StoreError> {
        let row = row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::SourceId.eq(source_id.as_str()))
            .one(self.db())
            .await?;
        found(
            row,
            ENTITY,
            || format!("with source id {source_id}"),
            from_row,
        )
    }

    /// Inserts or replaces students by id, in one transaction.
    pub async fn upsert_students(
        &self,
        district: &DistrictId,
        students: &[Synced<Student>],
    ) -> Result<(), StoreError> {
        let now = crate::convert::now();
        let txn = self.db().begin().await?;
        for chunk in students.chunks(BATCH_ROWS) {
            let rows = chunk
                .iter()
                .map(|s| sea_orm::IntoActiveModel::into_active_model(to_row(district, s, now)));
            row::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([row::Column::DistrictId, row::Column::Id])
                        .update_columns([
                            row::Column::SourceId,
                            row::Column::StudentNumber,
                            row::Column::StateId,
                            row::Column::LegalFirstName,
                            row::Column::LegalLastName,
                            row::Column::MiddleName,
                            row::Column::BirthDate,
                            row::Column::Gender,
                            row::Column::SchoolSourceId,
                            row::Column::Grade,
                            row::Column::EnrollmentStatus,
                            row::Column::IndependentStudent,
                            row::Column::OrgEmail,
                            row::Column::PersonalEmail,
                            row::Column::WebId,
                            row::Column::Archived,
                            row::Column::SourceHash,
                            row::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

fn to_row(district: &DistrictId, s: &Synced<Student>, now: chrono::DateTime<Utc>) -> row::Model {
    let v = &s.value;
    row::Model {
        district_id: district.to_string(),
        id: v.id.to_string(),
        source_id: v.source_id.to_string(),
        student_number: v.student_number.clone(),
        state_id: v.state_id.clone(),
        legal_first_name: v.legal_first_name.clone(),
        legal_last_name: v.legal_last_name.clone(),
        middle_name: v.middle_name.clone(),
        birth_date: v.birth_date,
        gender: v.gender.as_str().to_owned(),
        school_source_id: v.school_source_id.as_ref().map(|s| s.to_string()),
        grade: v.grade.clone(),
        enrollment_status: v.enrollment_status.as_str().to_owned(),
        independent_student: v.independent_student,
        org_email: v.org_email.clone(),
        personal_email: v.personal_email.clone(),
        web_id: v.web_id.clone(),
        archived: v.archived,
        source_hash: s.source_hash.clone(),
        created_at: now,
        updated_at: now,
    }
}

fn from_row(m: row::Model) -> Result<Student, StoreError> {
    Ok(Student {
        id: parse(ENTITY, &m.id, "id", &m.id)?,
        source_id: SourceId::new(m.source_id),
        student_number: m.student_number,
        state_id: m.state_id,
        legal_first_name: m.legal_first_name,
        legal_last_name: m.legal_last_name,
        middle_name: m.middle_name,
        birth_date: m.birth_date,
        gender: Gender::parse(&m.gender),
        school_source_id: m.school_source_id.map(SourceId::new),
        grade: m.grade,
        enrollment_status: EnrollmentStatus::parse(&m.enrollment_status),
        independent_student: m.independent_student,
        org_email: m.org_email,
        personal_email: m.personal_email,
        web_id: m.web_id,
        archived: m.archived,
    })
}
