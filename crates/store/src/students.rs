//! Students: read one or a batch, page through the active ones, and write many in one
//! statement per batch.

use model::search::name_key;
use std::collections::HashMap;

use chrono::Utc;
use model::ids::{DistrictId, SourceId, StudentId};
use model::roster::{EnrollmentStatus, Gender, Student};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::convert::{found, parse};
use crate::entities::students as row;
use crate::{upsert_rows, Store, StoreError, Synced, BATCH_ROWS};

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
            || format!("with source id {}", model::limits::echo(source_id.as_str())),
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
        let rows = students
            .iter()
            .map(|s| to_row(district, &s.value, &s.source_hash, now))
            .collect();
        let txn = self.db().begin().await?;
        write(&txn, rows).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The students with these source ids, with their source hashes, keyed by source id;
    /// unknown ids are left out. One query per [`BATCH_ROWS`] ids.
    pub async fn students_by_source(
        &self,
        district: &DistrictId,
        source_ids: &[SourceId],
    ) -> Result<HashMap<SourceId, Synced<Student>>, StoreError> {
        let mut out = HashMap::with_capacity(source_ids.len());
        for chunk in source_ids.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::SourceId.is_in(chunk.iter().map(SourceId::as_str)))
                .all(self.db())
                .await?;
            for m in rows {
                let source_hash = m.source_hash.clone();
                let value = from_row(m)?;
                out.insert(value.source_id.clone(), Synced { value, source_hash });
            }
        }
        Ok(out)
    }

    /// The students with these ids; unknown ids are left out. One query per
    /// [`BATCH_ROWS`] ids.
    pub async fn students_by_id(
        &self,
        district: &DistrictId,
        ids: &[StudentId],
    ) -> Result<Vec<Student>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::Id.is_in(chunk.iter().map(|i| i.to_string())))
                .all(self.db())
                .await?;
            for m in rows {
                out.push(from_row(m)?);
            }
        }
        Ok(out)
    }

    /// The students (archived ones too) whose student number — the id the district chose
    /// to show — is one of `numbers`.
    pub async fn students_by_number(
        &self,
        district: &DistrictId,
        numbers: &[String],
    ) -> Result<Vec<Synced<Student>>, StoreError> {
        let mut out = Vec::new();
        for chunk in numbers.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::StudentNumber.is_in(chunk.iter().map(String::as_str)))
                .all(self.db())
                .await?;
            for m in rows {
                let source_hash = m.source_hash.clone();
                out.push(Synced {
                    value: from_row(m)?,
                    source_hash,
                });
            }
        }
        Ok(out)
    }

    /// Non-archived students ordered by source id, after `after` (exclusive), at most
    /// `limit`: the archive sweep pages through it. The order is the database's order of
    /// source ids, the same one `after` is compared in.
    pub async fn active_students_page(
        &self,
        district: &DistrictId,
        after: Option<&SourceId>,
        limit: u64,
    ) -> Result<Vec<(StudentId, SourceId)>, StoreError> {
        let mut query = row::Entity::find()
            .select_only()
            .column(row::Column::Id)
            .column(row::Column::SourceId)
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Archived.eq(false))
            .order_by_asc(row::Column::SourceId);
        if let Some(after) = after {
            query = query.filter(row::Column::SourceId.gt(after.as_str()));
        }
        let rows: Vec<(String, String)> = query.limit(limit).into_tuple().all(self.db()).await?;
        rows.into_iter()
            .map(|(id, source_id)| Ok((parse(ENTITY, &id, "id", &id)?, SourceId::new(source_id))))
            .collect()
    }

    /// How many of a district's students are archived (`true`) or not (`false`).
    pub async fn count_students(
        &self,
        district: &DistrictId,
        archived: bool,
    ) -> Result<u64, StoreError> {
        Ok(row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::Archived.eq(archived))
            .count(self.db())
            .await?)
    }
}

/// Inserts or replaces student rows by id on `conn`, [`BATCH_ROWS`] per statement. Each
/// id must appear at most once.
pub(crate) async fn write<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
) -> Result<(), StoreError> {
    upsert_rows::<_, row::Entity>(
        conn,
        rows,
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
                row::Column::FirstKey,
                row::Column::LastKey,
                row::Column::Archived,
                row::Column::SourceHash,
                row::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .await
}

pub(crate) fn to_row(
    district: &DistrictId,
    v: &Student,
    source_hash: &str,
    now: chrono::DateTime<Utc>,
) -> row::Model {
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
        first_key: name_key(&v.legal_first_name),
        last_key: name_key(&v.legal_last_name),
        archived: v.archived,
        source_hash: source_hash.to_owned(),
        created_at: now,
        updated_at: now,
    }
}

pub(crate) fn from_row(m: row::Model) -> Result<Student, StoreError> {
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
