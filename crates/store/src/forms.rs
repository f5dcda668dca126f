//! Form authorship: which guardian created a form for which student. The rest of the
//! product records it; the sync reads it (seed 001 reconciliation).

use model::ids::{DistrictId, GuardianId, StudentId};
use model::link::FormAuthorship;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::convert::parse;
use crate::entities::form_authorships as row;
use crate::{Store, StoreError, BATCH_ROWS};

const ENTITY: &str = "form_authorship";

impl Store {
    /// Records that `guardian` created a form for `student`; recording it twice is a no-op.
    pub async fn record_form_authorship(
        &self,
        district: &DistrictId,
        fact: FormAuthorship,
    ) -> Result<(), StoreError> {
        let model = row::Model {
            district_id: district.to_string(),
            guardian_id: fact.guardian_id.to_string(),
            student_id: fact.student_id.to_string(),
            created_at: crate::convert::now(),
        };
        row::Entity::insert(sea_orm::IntoActiveModel::into_active_model(model))
            .on_conflict(
                OnConflict::columns([
                    row::Column::DistrictId,
                    row::Column::GuardianId,
                    row::Column::StudentId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// The guardians who created a form for `student`.
    pub async fn form_authors(
        &self,
        district: &DistrictId,
        student: StudentId,
    ) -> Result<Vec<GuardianId>, StoreError> {
        row::Entity::find()
            .filter(row::Column::DistrictId.eq(district.as_str()))
            .filter(row::Column::StudentId.eq(student.to_string()))
            .order_by_asc(row::Column::GuardianId)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| parse(ENTITY, &m.student_id, "guardian_id", &m.guardian_id))
            .collect()
    }

    /// Who created a form for any of these students, in one query per [`BATCH_ROWS`]
    /// students, ordered by student then guardian.
    pub async fn form_authors_of(
        &self,
        district: &DistrictId,
        students: &[StudentId],
    ) -> Result<Vec<FormAuthorship>, StoreError> {
        let mut out = Vec::new();
        for chunk in students.chunks(BATCH_ROWS) {
            let rows = row::Entity::find()
                .filter(row::Column::DistrictId.eq(district.as_str()))
                .filter(row::Column::StudentId.is_in(chunk.iter().map(|s| s.to_string())))
                .all(self.db())
                .await?;
            for m in rows {
                out.push(FormAuthorship {
                    guardian_id: parse(ENTITY, &m.student_id, "guardian_id", &m.guardian_id)?,
                    student_id: parse(ENTITY, &m.student_id, "student_id", &m.student_id)?,
                });
            }
        }
        out.sort_by_key(|f| (f.student_id, f.guardian_id));
        Ok(out)
    }
}
